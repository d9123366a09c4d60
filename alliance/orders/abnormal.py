"""Abnormal orders: the operators' list of orders that need a person (a payment notified
with the wrong amount, a refund the provider refused or could not finish, ...)."""
from __future__ import annotations

import datetime as dt

from alliance.accounts.operators import record_audit
from alliance.db import transaction, utcnow
from alliance.orders.access import any_order
from alliance.orders.errors import OrderStateConflict
from alliance.orders.models import Order


def flag_abnormal(order_id: int, reason: str, now: dt.datetime) -> None:
    """Put an order on the abnormal list, in the caller's transaction (the first reason
    is kept until an operator resolves it)."""
    (Order.update(abnormal=True, abnormal_reason=reason[:64], abnormal_at=now)
     .where(Order.id == order_id, Order.abnormal == False).execute())  # noqa: E712


def resolve_abnormal(operator_id: int, order_no: str, note: str) -> Order:
    """An operator handled an abnormal order: it leaves the list (audited with the note)."""
    with transaction():
        order = any_order(order_no)
        cleared = (Order.update(abnormal=False, updated_at=utcnow())
                   .where(Order.id == order.id, Order.abnormal == True).execute())  # noqa: E712
        if not cleared:
            raise OrderStateConflict("订单不在异常列表中", details={"order_no": order_no})
        record_audit(operator_id, "order.resolve_abnormal", "order", order.order_no, note,
                     {"reason": order.abnormal_reason})
    return Order.get_by_id(order.id)
