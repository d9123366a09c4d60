"""Stock moves for sales: guarded conditional UPDATEs, never read-then-write.

They run inside the caller's transaction (an order placed, cancelled or refunded), so the
stock and the order change together or not at all.
"""
from __future__ import annotations

from alliance.catalog.models import CatalogItem
from alliance.errors import AllianceError, ValidationFailed


class OutOfStock(AllianceError):
    code = "OUT_OF_STOCK"
    http_status = 409
    message = "库存不足"


def take_stock(item_id: int, quantity: int) -> None:
    """Take ``quantity`` units of an on-shelf item, or raise OUT_OF_STOCK (nothing taken)."""
    if quantity < 1:
        raise ValidationFailed("数量须大于 0", details={"field": "quantity"})
    taken = (CatalogItem.update(stock=CatalogItem.stock - quantity,
                                sales_count=CatalogItem.sales_count + quantity)
             .where(CatalogItem.id == item_id, CatalogItem.status == "on_shelf",
                    CatalogItem.stock >= quantity).execute())
    if taken != 1:
        raise OutOfStock(details={"item_id": item_id, "quantity": quantity})


def return_stock(item_id: int, quantity: int) -> None:
    """Put back ``quantity`` units taken by an order that did not go through."""
    (CatalogItem.update(stock=CatalogItem.stock + quantity,
                        sales_count=CatalogItem.sales_count - quantity)
     .where(CatalogItem.id == item_id).execute())
