"""After payment: what a paid order brings (points, service code, sales, the buyer's
notification) and how goods are fulfilled: confirmed, shipped and received. (Services are
redeemed at the counter with their code: service_codes.py.)"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from alliance.campaigns import groups as campaign_groups
from alliance.clock import to_local_iso
from alliance.coupons.checkout import consume_coupons
from alliance.db import transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.members.services import (PurchaseTerms, join_purchase_terms,
                                      joined_purchase_terms, record_purchase)
from alliance.merchants.aggregates import record_sale
from alliance.orders.access import merchant_order, owned_order
from alliance.orders.context import OrderContext
from alliance.orders.errors import OrderStateConflict
from alliance.orders.models import COMPLETED, GOODS, PAID, SERVICE, SHIPPED, Order
from alliance.orders.service_codes import issue_service_code
from alliance.referrals.models import ReferralAttribution
from alliance.referrals.services import (grant_first_order_reward, join_attribution_to_close,
                                        joined_attribution)

AUTO_RECEIPT_AFTER = dt.timedelta(days=10)


@dataclass(frozen=True)
class PaymentTerms:
    """What ``on_paid`` reads, read before the payment's transaction (``payment_terms``)."""

    purchase: PurchaseTerms  # what the payment earns the buyer
    attribution: ReferralAttribution | None  # the buyer's, as ``attribution_to_close`` read it

    @property
    def earned(self) -> int:
        return self.purchase.earned


def join_payment_terms(query):
    """``query`` of orders with what their payment terms are made of: the buyer's
    membership at the merchant and referral attribution, read with the order (which must
    select ``Order.member_day_points_pct``) in one statement (``payment_terms``). The join
    context is left on the attribution."""
    query = join_purchase_terms(query.switch(Order), Order.merchant, Order.user)
    return join_attribution_to_close(query.switch(Order), Order.user)


def payment_terms(order: Order, paid_fen: int) -> PaymentTerms:
    """What paying ``paid_fen`` for the order earns (its shipping earns nothing) and the
    buyer's referral attribution, from the order as a query made with
    ``join_payment_terms`` read it: before the payment's transaction (on SQLite it holds
    the one write lock while it runs) and before its guarded UPDATE, which stores the points
    on the order. The member day's multiplier is the one checkout stored on the order
    (``member_day_points_pct``, read with it): an order placed on a member day earns by it
    whenever it is paid; the level's is the buyer's as of now."""
    return PaymentTerms(joined_purchase_terms(order, paid_fen - order.shipping_fen,
                                              order.member_day_points_pct),
                        joined_attribution(order))


def on_paid(octx: OrderContext, order: Order, terms: PaymentTerms, now: dt.datetime) -> None:
    """The effects of a payment, in its transaction (the caller's guarded UPDATE made the
    order paid exactly once, with the points of ``payment_terms`` as its ``earn_points``): its
    coupons used, the purchase counted into the buyer's membership at the merchant with the
    points it earns (funded by the merchant), the service code, the merchant's sales, the
    buyer's ``order.paid`` notification, and (at the buyer's first paid order) the referral
    attribution closed and its referrer rewarded. ``order`` is read with its merchant,
    ``coupon_ids``, its ``units`` (the quantity of its lines) and ``group_id`` (its group
    buy's group, or None): a group order counts in its group, and a group service order
    gets its code when the group succeeds (``campaign_groups.on_member_paid``)."""
    # The merchant's row first: the rows inserted below refer to it (the membership), and
    # the check of each reference takes a shared lock on it; counting the sale after them
    # would then deadlock two payments at one merchant on InnoDB (both shared, both wanting
    # to write). Locked for writing first, the second payment waits for the first instead.
    record_sale(order.merchant_id, order.paid_fen, order.units or 0)
    if json.loads(order.coupon_ids):
        consume_coupons(order.order_no, now)
    record_purchase(order.user_id, order.merchant_id, order.paid_fen - order.shipping_fen,
                    idempotency_key=f"order:{order.order_no}:earn", ref_type="order",
                    ref_id=order.order_no, now=now, terms=terms.purchase)
    group_id = getattr(order, "group_id", None)
    if group_id is not None:
        campaign_groups.on_member_paid(octx.notifier, order.id, group_id, now)
    code = issue_service_code(order, now) if order.kind == SERVICE and group_id is None else None
    data = {"order_no": order.order_no, "amount_fen": order.paid_fen,
            "merchant_id": order.merchant_id, "merchant_name": order.merchant.name,
            "paid_at": to_local_iso(order.paid_at or now), "earn_points": order.earn_points}
    if code is not None:
        data["service_code"] = code.code
    octx.notifier.notify("order.paid", user_id=order.user_id, data=data,
                         dedupe_key=f"order.paid:{order.order_no}")
    grant_first_order_reward(order.user_id, order.order_no,
                             reward_points=octx.referral_reward_points, notifier=octx.notifier,
                             now=now, read=terms.attribution)


def _move(order: Order, from_status: str, **changes) -> None:
    """The guarded status change every fulfilment step is made of."""
    moved = (Order.update(updated_at=utcnow(), **changes)
             .where(Order.id == order.id, Order.status == from_status).execute())
    if not moved:
        raise OrderStateConflict(details={"order_no": order.order_no,
                                          "status": Order.get_by_id(order.id).status})


def confirm_order(merchant_id: int, order_no: str) -> Order:
    """The merchant accepts a paid goods order (接单); it stays paid until shipped. A group
    order waits for its group (GROUP_PENDING)."""
    with transaction():
        order = merchant_order(merchant_id, order_no)
        if order.kind != GOODS or order.confirmed_at is not None:
            raise OrderStateConflict(details={"order_no": order_no, "status": order.status})
        campaign_groups.refuse_while_waiting(order)
        _move(order, PAID, confirmed_at=utcnow())
    return Order.get_by_id(order.id)


def ship_order(octx: OrderContext, merchant_id: int, order_no: str, carrier: str,
               tracking_no: str) -> Order:
    """Ship a paid goods order with the carrier's name and tracking number; the buyer is
    told (``order.shipped``). A group order waits for its group (GROUP_PENDING)."""
    if not carrier or not tracking_no:
        raise ValidationFailed("请填写快递公司和运单号", details={"field": "tracking_no"})
    now = utcnow()
    with transaction():
        order = merchant_order(merchant_id, order_no)
        if order.kind != GOODS:
            raise OrderStateConflict(details={"order_no": order_no, "kind": order.kind})
        campaign_groups.refuse_while_waiting(order)
        _move(order, PAID, status=SHIPPED, shipped_at=now, carrier=carrier,
              tracking_no=tracking_no, confirmed_at=order.confirmed_at or now)
        octx.notifier.notify("order.shipped", user_id=order.user_id,
                             data={"order_no": order_no, "carrier": carrier,
                                   "tracking_no": tracking_no,
                                   "merchant_name": order.merchant.name,
                                   "shipped_at": to_local_iso(now)},
                             dedupe_key=f"order.shipped:{order_no}")
    return Order.get_by_id(order.id)


def confirm_receipt(user_id: int, order_no: str) -> Order:
    """The buyer received a shipped order: it is completed."""
    with transaction():
        order = owned_order(user_id, order_no)
        _move(order, SHIPPED, status=COMPLETED, completed_at=utcnow())
    return Order.get_by_id(order.id)


def complete_delivered_orders(now: dt.datetime | None = None, after: dt.timedelta = AUTO_RECEIPT_AFTER,
                              limit: int = 500) -> int:
    """Complete shipped orders whose buyer did not confirm receipt within ``after``; how
    many (for the scheduler; safe to run concurrently: each order moves once)."""
    now = now or utcnow()
    rows = list(Order.select(Order.id).where(Order.status == SHIPPED,
                                             Order.shipped_at <= now - after).limit(limit))
    done = 0
    for row in rows:
        with transaction():
            done += (Order.update(status=COMPLETED, completed_at=now, updated_at=now)
                     .where(Order.id == row.id, Order.status == SHIPPED).execute())
    return done
