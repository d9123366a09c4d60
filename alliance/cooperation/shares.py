"""The settlement source ``cooperation_share``: the partner's share of the sales its coupons
brought.

An order paid ``P`` fen with a coupon handed out under a cooperation whose
``sales_share_bp`` is ``bp`` > 0 makes the cooperation's proposer (the coupon's issuer) owe
the partner ``C = round_half_up(P * bp / 10000)``: two events on the ``cooperation_share``
line, the partner's ``+C`` and the issuer's ``-C``, each naming the other. Its refunds give
it back exactly as the platform's commission is given back (``platform_commission``): the
k-th refund gives back ``floor(C * R[k] / P) - floor(C * R[k-1] / P)`` of the ``C`` counted,
so the give-backs of an order add up to ``C`` once everything paid was refunded.

The coupons of an order are read from ``order_discount`` (kept after a refund gives them
back), and the cooperation from the coupon, which keeps the one it was handed out under.
An order holds at most one merchant's coupon, so at most one cooperation shares in it.
"""
from __future__ import annotations

import datetime as dt
from itertools import chain
from typing import Iterator

from peewee import chunked

from alliance.coupons.models import Coupon
from alliance.cooperation.models import Cooperation
from alliance.orders.models import DISCOUNT_COUPON, OrderDiscount
from alliance.settlement.events import SettlementEvent
from alliance.settlement.models import SettlementItem
from alliance.settlement.order_sources import paid_orders, succeeded_refunds
from alliance.settlement.platform_commission import (commission_of, give_back, refund_history,
                                                     refunded_before)

LINE = "cooperation_share"
CHARGE, GIVE_BACK = "cooperation_share", "cooperation_share_back"
BATCH = 500


def events(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """The shares of the orders paid, and what their refunds give back, in ``[since, until)``."""
    return chain(charges(since, until), give_backs(since, until))


def charges(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Both sides of the share of each order paid with a cooperation's coupon."""
    for orders in chunked(paid_orders(since, until), BATCH):
        shares = _shares({order.id for order in orders})
        for order in orders:
            if order.id not in shares:
                continue
            issuer, partner, bp = shares[order.id]
            owed = commission_of(order.paid_fen, bp)
            if owed:
                yield from _both_sides(CHARGE, order.order_no, issuer, partner, owed,
                                       order.paid_at, order.order_no, order.paid_fen, bp)


def give_backs(since: dt.datetime, until: dt.datetime) -> Iterator[SettlementEvent]:
    """Both sides of what each refund of such an order gives back of its share."""
    for refunds in chunked(succeeded_refunds(since, until), BATCH):
        shares = _shares({refund.order for refund in refunds})
        refunds = [refund for refund in refunds if refund.order in shares]
        if not refunds:
            continue
        history = refund_history({refund.order for refund in refunds})
        charged = _charged(refunds, since, shares)
        for refund in refunds:
            issuer, partner, bp = shares[refund.order]
            before = refunded_before(history[refund.order], refund.id)
            back = give_back(charged[refund.order_no], refund.paid_fen, before,
                             before + refund.amount_fen)
            if back:
                yield from _both_sides(GIVE_BACK, refund.out_refund_no, issuer, partner, -back,
                                       refund.finished_at, refund.order_no, refund.amount_fen, bp)


def _shares(order_ids: set[int]) -> dict[int, tuple[int, int, int]]:
    """Per order paid with a coupon of a cooperation sharing its sales: (issuer, partner, bp)."""
    shares: dict[int, tuple[int, int, int]] = {}
    for ids in chunked(sorted(order_ids), BATCH):
        rows = (OrderDiscount.select(OrderDiscount.order, Cooperation.proposer,
                                     Cooperation.partner, Cooperation.sales_share_bp)
                .join(Coupon, on=(Coupon.id == OrderDiscount.coupon_id))
                .join(Cooperation, on=(Cooperation.id == Coupon.cooperation_id))
                .where(OrderDiscount.order.in_(ids), OrderDiscount.kind == DISCOUNT_COUPON,
                       Cooperation.sales_share_bp > 0)
                .order_by(OrderDiscount.id).tuples())
        for order_id, issuer, partner, bp in rows:
            shares.setdefault(order_id, (issuer, partner, bp))
    return shares


def _charged(refunds: list, since: dt.datetime,
             shares: dict[int, tuple[int, int, int]]) -> dict[str, int]:
    """Per order of ``refunds``: the share charged on it. Its counted charge when there is
    one; 0 when it was paid before ``since`` without one; else what its charge will be when
    it is counted (by the same statement as this refund, or an earlier one)."""
    order_nos = sorted({refund.order_no for refund in refunds})
    counted: dict[str, int] = {}
    for nos in chunked(order_nos, BATCH):
        rows = (SettlementItem.select(SettlementItem.source_id, SettlementItem.amount_fen)
                .where(SettlementItem.source_type == CHARGE,
                       SettlementItem.source_id.in_(nos)).tuples())
        for order_no, amount in rows:
            counted[order_no] = abs(amount)
    charged: dict[str, int] = {}
    for refund in refunds:
        if refund.order_no in counted:
            charged[refund.order_no] = counted[refund.order_no]
        elif refund.order_paid_at < since:
            charged[refund.order_no] = 0
        else:
            _, _, bp = shares[refund.order]
            charged[refund.order_no] = commission_of(refund.paid_fen, bp)
    return charged


def _both_sides(source_type: str, source_id: str, issuer: int, partner: int, owed: int,
                at: dt.datetime, order_no: str, basis_fen: int,
                bp: int) -> Iterator[SettlementEvent]:
    """The partner's ``+owed`` and the issuer's ``-owed`` (negative ``owed``: given back)."""
    yield SettlementEvent(source_type, source_id, partner, LINE, owed, at,
                          counterparty_merchant_id=issuer, order_no=order_no,
                          basis_fen=basis_fen, rate_bp=bp)
    yield SettlementEvent(source_type, source_id, issuer, LINE, -owed, at,
                          counterparty_merchant_id=partner, order_no=order_no,
                          basis_fen=basis_fen, rate_bp=bp)
