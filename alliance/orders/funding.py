"""Who pays for an order's discounts: the record written at checkout, and the settlement
sources that read it.

The level discount is the seller's own. A coupon's discount is funded by its issuer (the
template's merchant; None, a platform coupon); points by the merchants that funded the lots
the spend consumed (None, the platform: a bonus, an operator's credit); a campaign's by the
merchant that runs it (the seller's own) or, for a platform campaign, by the platform. Checkout records each
part (``OrderDiscount``: what pricing took off, split to the fen), so the sources need not
recompute a discount the coupon rules and the pricing cap computed once, nor find the use of
a coupon that a full refund gave back (which clears the coupon's order and date).

A part funded by someone other than the seller M is a subsidy: when the order is paid, M is
owed it (counterparty: the funder, None the platform) and a funding merchant owes it
(counterparty: M). When a refund of everything paid gives the coupons and the spent points
back to the buyer, each subsidy is reversed by events of the opposite sign, at that time:
a fully refunded order nets 0. A partial refund gives back neither, and reverses nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from alliance.coupons.checkout import AppliedCoupon
from alliance.db import connection
from alliance.orders.models import (DISCOUNT_CAMPAIGN, DISCOUNT_COUPON, DISCOUNT_POINTS, Order,
                                    OrderDiscount)
from alliance.orders.pricing import allocate
from alliance.points.models import PointsEntry
from alliance.points.services import funders_of
from alliance.prepared import PreparedInsert
from alliance.settlement.events import SettlementEvent

SOURCE_TYPE = "order_discount"
GIVEN_BACK = "given_back"  # the suffix of a reversal's source id

# Run for the orders placed with coupons or points: their SQL is built once, and on MySQL
# they go with the order's other writes (alliance.db.pipelined_transaction).
_NEW_DISCOUNT = PreparedInsert(OrderDiscount)


def coupon_shares(coupons: list[AppliedCoupon], coupon_discount_fen: int) -> list[int]:
    """Each coupon's part of the order's ``coupon_discount_fen``, in plan order (shop
    coupon, then platform coupon). The parts are the coupons' own discounts, less what the
    pricing cap (at least 1 fen left to pay) took off, taken from the last coupon applied
    first: it applied to what the one before it left."""
    shares = [coupon.discount_fen for coupon in coupons]
    excess = sum(shares) - coupon_discount_fen
    for i in reversed(range(len(shares))):
        cut = min(excess, shares[i])
        shares[i] -= cut
        excess -= cut
    return shares


def points_shares(funders: list[tuple[int | None, int]], points_discount_fen: int) -> list[int]:
    """Each funder's part of the order's ``points_discount_fen``, in proportion to its
    points (largest remainder: the parts add up to the fen). While a point is worth whole
    fen, each part is exactly ``points_value_fen`` of its points."""
    return allocate(points_discount_fen, [points for _, points in funders])


def record_discounts(order: Order, coupons: list[AppliedCoupon],
                     points_debit: PointsEntry | None,
                     campaign_funders: list[tuple[int | None, int]] = ()) -> None:
    """Record who funds the order's coupon, points and campaign discounts (in the order's
    transaction, after the coupons were reserved, the points spent and the campaign stock
    taken; ``campaign_funders``: [(funder, fen)] adding up to ``campaign_discount_fen``)."""
    for funder, amount in campaign_funders:
        _NEW_DISCOUNT.create(order=order.id, kind=DISCOUNT_CAMPAIGN, funder_merchant_id=funder,
                             amount_fen=amount)
    for coupon, share in zip(coupons, coupon_shares(coupons, order.coupon_discount_fen)):
        _NEW_DISCOUNT.create(order=order.id, kind=DISCOUNT_COUPON, coupon_id=coupon.coupon_id,
                             funder_merchant_id=coupon.issuer_merchant_id, amount_fen=share)
    if points_debit is None:
        return
    funders = funders_of(points_debit.id)
    for (funder, points), share in zip(funders, points_shares(funders,
                                                              order.points_discount_fen)):
        _NEW_DISCOUNT.create(order=order.id, kind=DISCOUNT_POINTS, funder_merchant_id=funder,
                             points=points, amount_fen=share)


def give_back_discounts(order: Order, at: dt.datetime) -> None:
    """The order was refunded in full and its coupons and spent points given back (in that
    transaction): their subsidies are reversed as of ``at``. Once, however often called."""
    if order.coupon_discount_fen or order.points_used or order.campaign_discount_fen:
        (OrderDiscount.update(given_back_at=at)
         .where(OrderDiscount.order == order.id, OrderDiscount.given_back_at.is_null())
         .execute())


def coupon_subsidy_events(since: dt.datetime, until: dt.datetime) -> list[SettlementEvent]:
    """Settlement source (``alliance.settlement.events.Source``): the coupon subsidies of the
    orders paid in ``[since, until)`` and their reversals given back in it (line
    ``coupon_subsidy``)."""
    return _events(DISCOUNT_COUPON, "coupon_subsidy", Order.coupon_discount_fen > 0,
                   since, until)


def points_subsidy_events(since: dt.datetime, until: dt.datetime) -> list[SettlementEvent]:
    """Settlement source (``alliance.settlement.events.Source``): the points subsidies of
    the orders paid in ``[since, until)`` and their reversals given back in it (line
    ``points_subsidy``)."""
    return _events(DISCOUNT_POINTS, "points_subsidy", Order.points_used > 0, since, until)


def campaign_subsidy_events(since: dt.datetime, until: dt.datetime) -> list[SettlementEvent]:
    """Settlement source (``alliance.settlement.events.Source``): what platform campaigns
    took off the orders paid in ``[since, until)``, owed to the seller by the platform, and
    its reversals given back in it (line ``campaign_subsidy``)."""
    return _events(DISCOUNT_CAMPAIGN, "campaign_subsidy", Order.campaign_discount_fen > 0,
                   since, until)


def _events(kind: str, line: str, uses_kind, since: dt.datetime,
            until: dt.datetime) -> list[SettlementEvent]:
    """Two range reads: the orders paid in the range (by ``orders.paid_at``) with their
    parts of ``kind``, and the parts given back in it (by ``given_back_at``)."""
    since, until = _whole_second(since), _whole_second(until)
    columns = (OrderDiscount.id, OrderDiscount.funder_merchant_id, OrderDiscount.amount_fen,
               Order.merchant, Order.order_no)
    subsidised = ((OrderDiscount.kind == kind) & (OrderDiscount.amount_fen != 0)
                  & (OrderDiscount.funder_merchant_id.is_null()
                     | (OrderDiscount.funder_merchant_id != Order.merchant)))
    events: list[SettlementEvent] = []
    with connection():
        paid = (Order.select(*columns, Order.paid_at)
                .join(OrderDiscount, on=(OrderDiscount.order == Order.id))
                .where(Order.paid_at >= since, Order.paid_at < until, uses_kind, subsidised)
                .tuples())
        for row_id, funder, amount, seller, order_no, paid_at in paid:
            events += _both_sides(line, str(row_id), seller, funder, amount, paid_at, order_no)
        given_back = (OrderDiscount.select(*columns, OrderDiscount.given_back_at)
                      .join(Order, on=(OrderDiscount.order == Order.id))
                      .where(OrderDiscount.given_back_at >= since,
                             OrderDiscount.given_back_at < until, subsidised)
                      .tuples())
        for row_id, funder, amount, seller, order_no, at in given_back:
            events += _both_sides(line, f"{row_id}:{GIVEN_BACK}", seller, funder, -amount, at,
                                  order_no)
    return events


def _both_sides(line: str, source_id: str, seller: int, funder: int | None, amount: int,
                at: dt.datetime, order_no: str) -> Iterable[SettlementEvent]:
    """``amount`` owed to the seller by the funder: on the seller's statement, and on the
    funder's when it is a merchant (the platform keeps no statement)."""
    yield SettlementEvent(SOURCE_TYPE, source_id, seller, line, amount, at,
                          counterparty_merchant_id=funder, order_no=order_no)
    if funder is not None:
        yield SettlementEvent(SOURCE_TYPE, source_id, funder, line, -amount, at,
                              counterparty_merchant_id=seller, order_no=order_no)


def _whole_second(moment: dt.datetime) -> dt.datetime:
    """``moment`` as stored times compare with it: naive UTC, rounded up to the second
    (times are stored to the second, so ``t >= moment`` and ``t >= rounded up`` agree)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(seconds=1)
    return moment
