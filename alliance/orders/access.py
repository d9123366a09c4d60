"""Finding an order for whoever asks: its buyer, its merchant's staff, or an operator.

Another buyer's or another merchant's order answers ORDER_NOT_FOUND, as if it did not exist.
"""
from __future__ import annotations

from alliance.orders.errors import OrderNotFound
from alliance.orders.models import Order


def _find(order_no: str, **owner) -> Order:
    query = Order.select().where(Order.order_no == order_no)
    if "user_id" in owner:
        query = query.where(Order.user == owner["user_id"])
    if "merchant_id" in owner:
        query = query.where(Order.merchant == owner["merchant_id"])
    order = query.first() if isinstance(order_no, str) and len(order_no) <= 32 else None
    if order is None:
        raise OrderNotFound(details={"order_no": str(order_no)[:40]})
    return order


def owned_order(user_id: int, order_no: str) -> Order:
    """The buyer's own order."""
    return _find(order_no, user_id=user_id)


def merchant_order(merchant_id: int, order_no: str) -> Order:
    """An order placed with ``merchant_id``."""
    return _find(order_no, merchant_id=merchant_id)


def any_order(order_no: str) -> Order:
    """Any order (operators)."""
    return _find(order_no)
