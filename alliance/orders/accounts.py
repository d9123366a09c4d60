"""What orders do when accounts merge or are deleted (one person, one account).

Registered with the account-merge registry (``alliance.accounts.merge``) at import; imported
by ``alliance/models.py``.
"""
from __future__ import annotations

from alliance.accounts.merge import register_user_data
from alliance.orders.aftersale_models import AfterSale, Complaint, Review
from alliance.orders.models import CartItem, Order, ServiceCode


def move_user_orders(source_id: int, target_id: int) -> int:
    """Account merge (in its transaction): the absorbed account's orders, after-sales,
    reviews, complaints, service codes and cart become the survivor's; an item in both
    carts keeps the larger quantity. The number of rows moved."""
    moved = 0
    for field in (Order.user, AfterSale.user_id, Review.user_id, Complaint.user_id,
                  ServiceCode.user_id):
        moved += field.model.update({field: target_id}).where(field == source_id).execute()
    for row in list(CartItem.select().where(CartItem.user == source_id)):
        kept = CartItem.get_or_none(CartItem.user == target_id, CartItem.item == row.item_id)
        if kept is None:
            CartItem.update(user=target_id).where(CartItem.id == row.id).execute()
        else:
            (CartItem.update(quantity=max(kept.quantity, row.quantity))
             .where(CartItem.id == kept.id).execute())
            CartItem.delete().where(CartItem.id == row.id).execute()
        moved += 1
    return moved


def erase_user_orders(user_id: int) -> int:
    """Account deletion: the orders stay (the merchants' and the platform's records) without
    the delivery contact; reviews lose their text and photos; the cart is emptied. The
    number of rows changed."""
    changed = (Order.update(contact_name="", contact_phone="", address="", note="")
               .where(Order.user == user_id).execute())
    changed += (Review.update(content="", photos="[]")
                .where(Review.user_id == user_id).execute())
    changed += CartItem.delete().where(CartItem.user == user_id).execute()
    return changed


register_user_data("orders", models=(Order, CartItem, AfterSale, Review, Complaint, ServiceCode),
                   move=move_user_orders, erase=erase_user_orders)
