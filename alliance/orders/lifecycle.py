"""Orders that will not be paid: cancelled by the buyer, or closed when their time is up.

The cancel is one guarded UPDATE (pending_payment -> cancelled); only the transaction that
made it gives back the stock, points and coupon, so two processes closing the same orders
close each exactly once. Open trades are closed at the provider first (a trade found paid
there is applied instead); a payment that still arrives later is refunded automatically.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from alliance.db import transaction, utcnow
from alliance.orders import reservations
from alliance.orders.access import owned_order
from alliance.orders.context import OrderContext
from alliance.orders.errors import OrderStateConflict
from alliance.orders.models import ATTEMPT_OPEN, CANCELLED, PENDING_PAYMENT, Order, PaymentAttempt
from alliance.orders.payments import close_attempt

log = logging.getLogger("alliance.orders.lifecycle")

BUYER_CANCELLED = "buyer_cancelled"
PAYMENT_TIMEOUT = "payment_timeout"


def _close_trades(octx: OrderContext, order: Order) -> bool:
    """Close the order's open trades; False when one of them turned out paid."""
    attempts = list(PaymentAttempt.select().where(PaymentAttempt.order == order.id,
                                                  PaymentAttempt.status == ATTEMPT_OPEN))
    return all(close_attempt(octx, attempt) != "paid" for attempt in attempts)


def _cancel(order: Order, reason: str, now: dt.datetime,
            effects: Callable[[Order], None] | None = None) -> bool:
    """The guarded cancel and the release (and ``effects``), in one transaction; True for
    the one caller that cancelled the order."""
    with transaction():
        cancelled = (Order.update(status=CANCELLED, cancelled_at=now, cancel_reason=reason,
                                  updated_at=now)
                     .where(Order.id == order.id, Order.status == PENDING_PAYMENT).execute())
        if cancelled:
            reservations.release_all(order)
            if effects is not None:
                effects(order)
    return bool(cancelled)


def cancel_unpaid(octx: OrderContext, order: Order, reason: str, now: dt.datetime,
                  effects: Callable[[Order], None] | None = None) -> bool | None:
    """Close an unpaid order's trades and cancel it, its reservations released and
    ``effects(order)`` run in the cancel's transaction: True for the caller that cancelled
    it, False when it no longer waited, None when one of its trades turned out paid (the
    payment was applied instead)."""
    if not _close_trades(octx, order):
        return None
    return _cancel(order, reason, now, effects)


def cancel_order(octx: OrderContext, user_id: int, order_no: str,
                 reason: str = BUYER_CANCELLED) -> Order:
    """The buyer cancels an unpaid order. A paid one needs an after-sale request instead
    (ORDER_STATE_CONFLICT)."""
    order = owned_order(user_id, order_no)
    if order.status != PENDING_PAYMENT or not _close_trades(octx, order):
        raise OrderStateConflict(details={"order_no": order_no,
                                          "status": Order.get_by_id(order.id).status})
    if not _cancel(order, reason[:64] or BUYER_CANCELLED, utcnow()):
        raise OrderStateConflict(details={"order_no": order_no,
                                          "status": Order.get_by_id(order.id).status})
    return Order.get_by_id(order.id)


def close_unpaid_orders(octx: OrderContext, now: dt.datetime | None = None,
                        limit: int = 200) -> dict[str, int]:
    """For the scheduler: close the orders still unpaid at their ``expires_at``
    (``OrderContext.payment_window`` after checkout). Idempotent, and safe to run from two
    processes at once: each order is closed, and its reservations released, exactly once."""
    now = now or utcnow()
    due = list(Order.select().where(Order.status == PENDING_PAYMENT, Order.expires_at <= now)
               .order_by(Order.expires_at, Order.id).limit(limit))
    counts = {"due": len(due), "closed": 0, "paid": 0}
    for order in due:
        if not _close_trades(octx, order):
            counts["paid"] += 1
            continue
        if _cancel(order, PAYMENT_TIMEOUT, now):
            counts["closed"] += 1
    return counts
