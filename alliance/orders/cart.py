"""The consumer's cart: items and quantities only. Prices and availability are read live
(the cart shows them; checkout prices again on the server)."""
from __future__ import annotations

from peewee import IntegrityError

from alliance.catalog.models import CatalogItem
from alliance.catalog.queries import get_item_for_sale
from alliance.db import db, transaction, utcnow
from alliance.errors import Conflict
from alliance.merchants.models import Merchant
from alliance.orders.checkout import MAX_QUANTITY
from alliance.orders.errors import OrderItemsInvalid
from alliance.orders.models import CartItem

MAX_CART_ITEMS = 50


class CartFull(Conflict):
    code = "CART_FULL"
    message = "购物车已满，请先结算或移除部分商品"


def set_quantity(user_id: int, item_id: int, quantity: int) -> dict:
    """Put ``quantity`` of an item on sale in the cart (0 removes it); the cart."""
    if not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise OrderItemsInvalid("购买数量超出范围", details={"field": "quantity", "min": 0,
                                                           "max": MAX_QUANTITY})
    with transaction():
        if quantity == 0:
            CartItem.delete().where(CartItem.user == user_id, CartItem.item == item_id).execute()
            return cart_view(user_id)
        get_item_for_sale(item_id)
        now = utcnow()
        changed = (CartItem.update(quantity=quantity, updated_at=now)
                   .where(CartItem.user == user_id, CartItem.item == item_id).execute())
        if not changed:
            if CartItem.select().where(CartItem.user == user_id).count() >= MAX_CART_ITEMS:
                raise CartFull(details={"max_items": MAX_CART_ITEMS})
            try:
                with db.atomic():
                    CartItem.create(user=user_id, item=item_id, quantity=quantity,
                                    created_at=now, updated_at=now)
            except IntegrityError:  # the same item added twice at once: last one wins
                (CartItem.update(quantity=quantity, updated_at=now)
                 .where(CartItem.user == user_id, CartItem.item == item_id).execute())
    return cart_view(user_id)


def cart_view(user_id: int) -> dict:
    """The cart, newest first, each line with its live price and whether it can be bought."""
    rows = (CartItem.select(CartItem, CatalogItem, Merchant)
            .join(CatalogItem).join(Merchant)
            .where(CartItem.user == user_id).order_by(CartItem.updated_at.desc(), CartItem.id.desc()))
    items = []
    for row in rows:
        item = row.item
        available = (item.status == "on_shelf" and item.merchant.status == "approved"
                     and item.stock >= row.quantity)
        items.append({"item_id": item.id, "merchant_id": item.merchant_id,
                      "merchant_name": item.merchant.name, "kind": item.kind, "name": item.name,
                      "price_fen": item.price_fen, "quantity": row.quantity,
                      "amount_fen": item.price_fen * row.quantity, "stock": item.stock,
                      "available": available})
    return {"items": items, "next_cursor": None}
