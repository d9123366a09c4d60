"""The events of the orders: each payment is a sale of its merchant, each refund that
succeeded takes its amount back (a stray payment's refund gives back money that never was a
sale, so it is no event)."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from alliance.orders.models import REFUND_STRAY, REFUND_SUCCEEDED, Order, Refund
from alliance.settlement.events import SettlementEvent
from alliance.settlement.reading import in_pages

SALES, REFUNDS = "sales", "refunds"


def paid_orders(since: dt.datetime, until: dt.datetime) -> Iterator:
    """The orders paid in ``[since, until)`` (by the provider's time of payment): ``id``,
    ``order_no``, ``merchant``, ``paid_fen``, ``paid_at``; through the ``paid_at`` index."""
    query = (Order.select(Order.id, Order.order_no, Order.merchant, Order.paid_fen, Order.paid_at)
             .where(Order.paid_at >= since, Order.paid_at < until, Order.paid_fen > 0))
    return in_pages(query, (Order.paid_at, Order.id))


def succeeded_refunds(since: dt.datetime, until: dt.datetime) -> Iterator:
    """The refunds of sales that succeeded in ``[since, until)`` (by the provider's time of
    success): ``id``, ``out_refund_no``, ``amount_fen``, ``finished_at``, ``order``, and the
    order's ``order_no``, ``merchant``, ``paid_fen`` and ``paid_at`` as ``order_paid_at``."""
    query = (Refund.select(Refund.id, Refund.out_refund_no, Refund.amount_fen, Refund.finished_at,
                           Refund.order, Order.order_no, Order.merchant, Order.paid_fen,
                           Order.paid_at.alias("order_paid_at"))
             .join(Order, on=(Refund.order == Order.id))
             .where(Refund.status == REFUND_SUCCEEDED, Refund.finished_at >= since,
                    Refund.finished_at < until, Refund.kind != REFUND_STRAY))
    return in_pages(query, (Refund.finished_at, Refund.id))


def sales(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Each paid order: ``+paid_fen`` on its merchant's ``sales`` line."""
    for order in paid_orders(since, until):
        yield SettlementEvent("order_paid", order.order_no, order.merchant, SALES,
                              order.paid_fen, order.paid_at, order_no=order.order_no)


def refunds(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Each refund of a sale that succeeded: ``-amount_fen`` on the ``refunds`` line."""
    for refund in succeeded_refunds(since, until):
        yield SettlementEvent("refund", refund.out_refund_no, refund.merchant, REFUNDS,
                              -refund.amount_fen, refund.finished_at, order_no=refund.order_no)
