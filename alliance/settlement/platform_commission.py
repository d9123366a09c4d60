"""The platform's commission: charged per paid order, given back by its refunds.

An order paid ``P`` fen at a rate of ``bp`` basis points is charged
``C = round_half_up(P * bp / 10000)``. Its k-th refund (in the order the refunds succeeded,
ties by id), which brings what was refunded from ``R[k-1]`` to ``R[k]``, gives back
``floor(C * R[k] / P) - floor(C * R[k-1] / P)``: the give-backs of an order add up to at
most ``C``, and to exactly ``C`` once everything paid was refunded, whatever the rounding.
They use the ``C`` that was charged (its counted item), so a change of rate in between
changes nothing already charged.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Iterator

from peewee import chunked

from alliance.merchants.models import Merchant
from alliance.orders.models import REFUND_STRAY, REFUND_SUCCEEDED, Refund
from alliance.settlement.events import SettlementEvent
from alliance.settlement.models import SettlementItem
from alliance.settlement.order_sources import paid_orders, succeeded_refunds

LINE = "platform_commission"
MAX_BP = 10_000
BATCH = 500


class _PlatformRate:
    """The platform's rate (``ALLIANCE_PLATFORM_COMMISSION_BP``), set where the application
    is built (``server.app.build_context``)."""

    bp = 0


PLATFORM_RATE = _PlatformRate()


def configure_platform_rate(bp: int) -> None:
    """Set the platform's rate, in basis points (0..10000)."""
    if not 0 <= bp <= MAX_BP:
        raise ValueError("the platform's commission rate is 0..10000 basis points")
    PLATFORM_RATE.bp = bp


def commission_of(paid_fen: int, bp: int) -> int:
    """``round_half_up(paid_fen * bp / 10000)``, in integers."""
    return (paid_fen * bp + MAX_BP // 2) // MAX_BP


def give_back(charged_fen: int, paid_fen: int, refunded_before: int, refunded_after: int) -> int:
    """What a refund that took the refunded amount from ``refunded_before`` to
    ``refunded_after`` gives back of ``charged_fen`` charged on ``paid_fen``."""
    if paid_fen <= 0:
        return 0
    before, after = min(refunded_before, paid_fen), min(refunded_after, paid_fen)
    return charged_fen * after // paid_fen - charged_fen * before // paid_fen


def merchant_rates() -> dict[int, int]:
    """The merchants whose rate is their own: id -> basis points."""
    return dict(Merchant.select(Merchant.id, Merchant.commission_bp)
                .where(Merchant.commission_bp.is_null(False)).tuples())


def charges(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Each paid order whose commission is not 0: ``-C`` on the ``platform_commission``
    line, on the basis of what was paid."""
    own, default = merchant_rates(), PLATFORM_RATE.bp
    for order in paid_orders(since, until):
        bp = own.get(order.merchant, default)
        charged = commission_of(order.paid_fen, bp)
        if charged:
            yield SettlementEvent("platform_commission", order.order_no, order.merchant, LINE,
                                  -charged, order.paid_at, order_no=order.order_no,
                                  basis_fen=order.paid_fen, rate_bp=bp)


def give_backs(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Each refund of a sale that succeeded: what it gives back of the order's commission
    (when not 0), on the basis of the amount refunded."""
    own, default = merchant_rates(), PLATFORM_RATE.bp
    for refunds in chunked(succeeded_refunds(since, until), BATCH):
        history = refund_history({refund.order for refund in refunds})
        charged = _charged(refunds, since, own, default)
        for refund in refunds:
            before = refunded_before(history[refund.order], refund.id)
            fen, bp = charged[refund.order_no]
            back = give_back(fen, refund.paid_fen, before, before + refund.amount_fen)
            if back:
                yield SettlementEvent("platform_commission_back", refund.out_refund_no,
                                      refund.merchant, LINE, back, refund.finished_at,
                                      order_no=refund.order_no, basis_fen=refund.amount_fen,
                                      rate_bp=bp)


def refund_history(order_ids: set[int]) -> dict[int, list[tuple[int, int]]]:
    """Per order: its refunds of a sale that succeeded, (id, amount), in the order they
    succeeded (ties by id)."""
    history: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for ids in chunked(sorted(order_ids), BATCH):
        rows = (Refund.select(Refund.order, Refund.id, Refund.amount_fen)
                .where(Refund.order.in_(ids), Refund.status == REFUND_SUCCEEDED,
                       Refund.kind != REFUND_STRAY)
                .order_by(Refund.finished_at, Refund.id).tuples())
        for order_id, refund_id, amount in rows:
            history[order_id].append((refund_id, amount))
    return history


def refunded_before(history: list[tuple[int, int]], refund_id: int) -> int:
    """What the refunds of an order (``refund_history``) before ``refund_id`` refunded."""
    before = 0
    for earlier_id, amount in history:
        if earlier_id == refund_id:
            break
        before += amount
    return before


def _charged(refunds: list, since: dt.datetime, own: dict[int, int],
             default: int) -> dict[str, tuple[int, int | None]]:
    """Per order of ``refunds``: the commission charged on it and its rate. Its counted
    charge when there is one; 0 when its sale was counted without one (or can no longer be
    counted: paid before ``since``); else what its charge will be when it is counted (by the
    same statement as this refund, or an earlier one)."""
    order_nos = sorted({refund.order_no for refund in refunds})
    counted_sales, counted_charges = set(), {}
    for nos in chunked(order_nos, BATCH):
        rows = (SettlementItem.select(SettlementItem.source_type, SettlementItem.source_id,
                                      SettlementItem.amount_fen, SettlementItem.rate_bp)
                .where(SettlementItem.source_type.in_(["order_paid", "platform_commission"]),
                       SettlementItem.source_id.in_(nos)).tuples())
        for source_type, order_no, amount, bp in rows:
            if source_type == "order_paid":
                counted_sales.add(order_no)
            else:
                counted_charges[order_no] = (-amount, bp)
    charged: dict[str, tuple[int, int | None]] = {}
    for refund in refunds:
        if refund.order_no in counted_charges:
            charged[refund.order_no] = counted_charges[refund.order_no]
        elif refund.order_no in counted_sales or refund.order_paid_at < since:
            charged[refund.order_no] = (0, None)
        else:
            bp = own.get(refund.merchant, default)
            charged[refund.order_no] = (commission_of(refund.paid_fen, bp), bp)
    return charged
