"""Coupons at checkout: what they take off an order, and holding them for it.

The orders work calls, inside its order transaction:
  1. ``plan_coupons(user_id, coupon_ids, merchant_id, lines)`` -> the discount of each coupon
     (at most one shop coupon and one platform coupon; the platform coupon applies to what
     the shop coupon leaves);
  2. ``reserve_coupons(plan, order_ref)`` -> the coupons are locked to the order;
  3. on payment ``consume_coupons(order_ref)`` (locked -> used; a partner's coupon owes it
     its commission), on cancellation or an
     expired payment ``release_coupons(order_ref)`` (locked -> active again);
  4. on a refund of everything paid ``restore_coupons(order_ref)`` (used -> active again).
Every step is a guarded update: a coupon is held by one order at most and never used twice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from alliance.commissions.services import cancel_pending, record_commission
from alliance.coupons.errors import (CouponNotFound, CouponNotUsable, CouponStackingNotAllowed,
                                     CouponThresholdNotMet)
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.rules import usable_at
from alliance.db import utcnow
from alliance.prepared import Arg, Prepared


@dataclass(frozen=True)
class Line:
    """One order line as the discount sees it."""

    item_id: int
    unit_price_fen: int
    quantity: int

    @property
    def amount_fen(self) -> int:
        return self.unit_price_fen * self.quantity


@dataclass(frozen=True)
class AppliedCoupon:
    coupon_id: int
    template_id: int
    tier: str  # shop | platform
    discount_fen: int
    issuer_merchant_id: int | None  # who funds the discount (None: the platform)
    distributor_merchant_id: int | None


def discount_for(template: CouponTemplate, lines: list[Line],
                 ceiling_fen: int | None = None) -> int:
    """What a coupon of ``template`` takes off ``lines`` (no more than ``ceiling_fen``).

    The eligible amount is every line (or the listed items for ``items`` scope); it must
    reach the threshold. Raises COUPON_THRESHOLD_NOT_MET or COUPON_NOT_USABLE.
    """
    eligible_lines = ([line for line in lines if line.item_id in set(template.item_ids)]
                      if template.scope == "items" else lines)
    eligible = sum(line.amount_fen for line in eligible_lines)
    if ceiling_fen is not None:
        eligible = min(eligible, ceiling_fen)
    if eligible <= 0 or eligible < template.threshold_fen:
        raise CouponThresholdNotMet(details={"template_id": template.id,
                                             "threshold_fen": template.threshold_fen,
                                             "eligible_fen": eligible})
    if template.kind == "fixed":
        return min(template.discount_fen, eligible)
    if template.kind == "percent":
        return min(eligible * template.percent_off // 100, template.max_discount_fen, eligible)
    service = [line for line in eligible_lines if line.item_id == template.item_id]
    if not service:
        raise CouponNotUsable("订单中没有该券对应的服务", details={"template_id": template.id,
                                                                 "reason": "service not ordered"})
    return min(service[0].unit_price_fen, eligible)


def plan_coupons(user_id: int, coupon_ids: list[int], merchant_id: int, lines: list[Line],
                 now: dt.datetime | None = None) -> list[AppliedCoupon]:
    """Check the user's coupons for an order at ``merchant_id`` and work out each discount:
    the shop coupon first, then the platform coupon on what remains."""
    now = now or utcnow()
    if len(set(coupon_ids)) != len(coupon_ids):
        raise CouponStackingNotAllowed(details={"coupon_ids": coupon_ids})
    coupons = list(Coupon.select(Coupon, CouponTemplate).join(CouponTemplate)
                   .where(Coupon.id.in_(coupon_ids or [0]), Coupon.user_id == user_id))
    if len(coupons) != len(coupon_ids):
        missing = sorted(set(coupon_ids) - {c.id for c in coupons})
        raise CouponNotFound(details={"coupon_ids": missing})
    tiers = [c.template.tier for c in coupons]
    if len(set(tiers)) != len(tiers):
        raise CouponStackingNotAllowed(details={"coupon_ids": coupon_ids})
    remaining = sum(line.amount_fen for line in lines)
    plan = []
    for coupon in sorted(coupons, key=lambda c: c.template.tier != "shop"):
        template = coupon.template
        if coupon.status != "active" or not coupon.valid_from <= now < coupon.valid_until:
            raise CouponNotUsable(details={"coupon_id": coupon.id, "reason": "status or validity",
                                           "status": coupon.status})
        if not usable_at(template, merchant_id):
            raise CouponNotUsable(details={"coupon_id": coupon.id, "reason": "scope"})
        discount = discount_for(template, lines, remaining)
        remaining -= discount
        plan.append(AppliedCoupon(coupon.id, template.id, template.tier, discount,
                                  template.merchant_id, coupon.distributor_merchant_id))
    return plan


def reserve_coupons(plan: list[AppliedCoupon], order_ref: str,
                    now: dt.datetime | None = None) -> None:
    """Lock the planned coupons to the order (inside the order's transaction): raises
    COUPON_NOT_USABLE, undoing nothing itself, when one was used or held meanwhile."""
    now = now or utcnow()
    for applied in plan:
        held = (Coupon.update(status="locked", order_ref=order_ref)
                .where(Coupon.id == applied.coupon_id, Coupon.status == "active",
                       Coupon.valid_until > now).execute())
        if held != 1:
            raise CouponNotUsable(details={"coupon_id": applied.coupon_id,
                                           "reason": "used or held meanwhile"})


# Run for every paid order: its SQL is built once (alliance.prepared.Prepared).
_CONSUME = Prepared(lambda: Coupon.update(status="used", used_at=Arg(1, Coupon.used_at))
                    .where(Coupon.order_ref == Arg(0), Coupon.status == "locked"))


def consume_coupons(order_ref: str, now: dt.datetime | None = None) -> int:
    """The order was paid: its coupons are used, and the issuer of each coupon a partner
    handed out owes that partner the distribution's commission, as at a counter (every
    redemption is the distributing partner's). The number of coupons."""
    now = now or utcnow()
    used = _CONSUME.execute(order_ref, now)
    for coupon_id, partner, issuer, commission in _partner_uses(order_ref):
        if issuer not in (None, partner) and commission > 0:
            record_commission(payer_merchant_id=issuer, payee_merchant_id=partner,
                              amount_fen=commission, source_type="coupon_use",
                              source_id=_use_id(coupon_id, order_ref),
                              reason="coupon_distribution", now=now)
    return used


def _partner_uses(order_ref: str) -> list[tuple[int, int, int | None, int]]:
    """(coupon id, distributing partner, issuer, commission) of the order's coupons that a
    partner handed out (the commission of the terms it was handed out under)."""
    return list(Coupon.select(Coupon.id, Coupon.distributor_merchant_id, CouponTemplate.merchant,
                              Coupon.commission_fen)
                .join(CouponTemplate)
                .where(Coupon.order_ref == order_ref,
                       Coupon.distributor_merchant_id.is_null(False)).tuples())


def _use_id(coupon_id: int, order_ref: str) -> str:
    """The commission's event: this coupon used by this order (given back by a refund and
    used again, it owes again)."""
    return f"{coupon_id}:{order_ref}"


def release_coupons(order_ref: str) -> int:
    """The order will not be paid: give its coupons back to the consumer (the expiry job
    retires those whose validity ended meanwhile). The number released."""
    return (Coupon.update(status="active", order_ref=None)
            .where(Coupon.order_ref == order_ref, Coupon.status == "locked").execute())


def restore_coupons(order_ref: str, now: dt.datetime | None = None) -> int:
    """The order was refunded in full: its used coupons are the consumer's again (the
    expiry job retires those whose validity ended meanwhile), and what their use owed a
    partner is cancelled. The number restored."""
    uses = [_use_id(coupon_id, order_ref) for coupon_id, *_ in _partner_uses(order_ref)]
    cancel_pending("coupon_use", uses, now)
    return (Coupon.update(status="active", order_ref=None, used_at=None)
            .where(Coupon.order_ref == order_ref, Coupon.status == "used").execute())
