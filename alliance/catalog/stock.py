"""Stock moves for sales: guarded conditional UPDATEs, never read-then-write.

They run inside the caller's transaction (an order placed, cancelled or refunded), so the
stock and the order change together or not at all.
"""
from __future__ import annotations

from alliance.catalog.models import CatalogItem
from alliance.errors import AllianceError, ValidationFailed
from alliance.prepared import Arg, Prepared


class OutOfStock(AllianceError):
    code = "OUT_OF_STOCK"
    http_status = 409
    message = "库存不足"


# Run for every line of every order placed: its SQL is built once (alliance.prepared).
_TAKE = Prepared(lambda: CatalogItem.update(
    stock=CatalogItem.stock - Arg(1, CatalogItem.stock),
    sales_count=CatalogItem.sales_count + Arg(1, CatalogItem.sales_count))
    .where(CatalogItem.id == Arg(0), CatalogItem.status == "on_shelf",
           CatalogItem.stock >= Arg(1, CatalogItem.stock)))


def take_stock(item_id: int, quantity: int) -> None:
    """Take ``quantity`` units of an on-shelf item, or raise OUT_OF_STOCK (nothing taken).

    In a pipelined transaction it is sent with the order's other writes and assumed to
    match; an item sold out meanwhile makes the transaction run again plainly, where this
    raises (``alliance.db.pipelined_transaction``)."""
    if quantity < 1:
        raise ValidationFailed("数量须大于 0", details={"field": "quantity"})
    taken = _TAKE.execute(item_id, quantity)
    if taken != 1:
        raise OutOfStock(details={"item_id": item_id, "quantity": quantity})


def return_stock(item_id: int, quantity: int) -> None:
    """Put back ``quantity`` units taken by an order that did not go through."""
    (CatalogItem.update(stock=CatalogItem.stock + quantity,
                        sales_count=CatalogItem.sales_count - quantity)
     .where(CatalogItem.id == item_id).execute())
