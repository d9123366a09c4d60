"""Reads of coupons: the merchant detail's claimable templates, the coupon center, a
consumer's coupons, the coupons usable at a counter, and the issuer's management lists."""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from alliance.coupons.models import (CENTERS, COUPON_STATUSES, Coupon, CouponDistribution,
                                     CouponTemplate)
from alliance.coupons.rules import claim_open, claim_open_where, usable_at
from alliance.coupons.views import (coupon_view, distribution_view, staff_template_view,
                                    template_view)
from alliance.db import utcnow
from alliance.prepared import Arg, Prepared
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant
from alliance.merchants.queries import register_detail_section
from alliance.paging import newest_first

MAX_SECTION_TEMPLATES = 50
DISTRIBUTOR = Merchant.alias("distributor")


def _templates():
    return (CouponTemplate.select(CouponTemplate, Merchant)
            .join(Merchant, JOIN.LEFT_OUTER, on=(CouponTemplate.merchant == Merchant.id)))


def _claimed_counts(user_id: int | None, template_ids: list[int]) -> dict[int, int]:
    if user_id is None or not template_ids:
        return {}
    return dict(Coupon.select(Coupon.template, fn.COUNT(Coupon.id))
                .where(Coupon.user_id == user_id, Coupon.template.in_(template_ids))
                .group_by(Coupon.template).tuples())


def _offer(template: CouponTemplate, claimed: dict[int, int], scene: str,
           distributor: Merchant | None = None) -> dict:
    return _as_viewer({**template_view(template), "claim_scene": scene,
                       "distributor": ({"merchant_id": distributor.id, "name": distributor.name}
                                       if distributor is not None else None)},
                      claimed.get(template.id, 0))


def _as_viewer(offer: dict, mine: int) -> dict:
    """``offer`` for a viewer holding ``mine`` coupons of it."""
    return {**offer, "claimed_by_me": mine,
            "can_claim": mine < offer["per_user_limit"] and offer["remaining"] > 0}


# Every merchant page view reads these two: their SQL is built once (alliance.prepared.Prepared).
_OWN_ACTIVE = Prepared(lambda: _templates()
                       .where(CouponTemplate.merchant == Arg(0), CouponTemplate.status == "active")
                       .order_by(CouponTemplate.id.desc()).limit(MAX_SECTION_TEMPLATES))
_CARRIED_ACTIVE = Prepared(lambda: _templates()
                           .join(CouponDistribution,
                                 on=(CouponDistribution.template == CouponTemplate.id))
                           .where(CouponDistribution.distributor == Arg(0),
                                  CouponDistribution.status == "active",
                                  CouponTemplate.status == "active",
                                  Merchant.status == "approved")
                           .order_by(CouponTemplate.id.desc()).limit(MAX_SECTION_TEMPLATES))


def claimable_at_merchant(merchant: Merchant,
                          now: dt.datetime) -> tuple[list[dict], dt.datetime | None]:
    """The templates a visitor can claim now on a merchant's page: its own (channel
    ``own``) and those of partners it distributes (claimed with ``claim_scene``); and the
    first time a claim window opens or ends or a template stops being valid, if any."""
    own_rows, carried_rows = _OWN_ACTIVE.rows(merchant.id), _CARRIED_ACTIVE.rows(merchant.id)
    own = [t for t in own_rows if "own" in t.channel_set and claim_open(t, now)]
    carried = [t for t in carried_rows if "partner" in t.channel_set and claim_open(t, now)]
    changes = [moment for t in own_rows + carried_rows
               for moment in (t.claim_starts_at, t.claim_ends_at, t.valid_until)
               if moment is not None and moment > now]
    return ([_offer(t, {}, "") for t in own]
            + [_offer(t, {}, f"p={merchant.id}", merchant) for t in carried],
            min(changes, default=None))


def claimable_for_viewer(offers: list[dict], viewer_id: int) -> list[dict]:
    """The merchant page's ``offers`` (perhaps cached) with what the viewer holds of each
    and what is left of each now."""
    ids = [offer["id"] for offer in offers]
    if not ids:
        return offers
    claimed = _claimed_counts(viewer_id, ids)
    left = dict(CouponTemplate.select(CouponTemplate.id,
                                      CouponTemplate.total_stock - CouponTemplate.issued)
                .where(CouponTemplate.id.in_(ids)).tuples())
    return [_as_viewer({**offer, "remaining": max(0, left.get(offer["id"], 0))},
                       claimed.get(offer["id"], 0)) for offer in offers]


register_detail_section("coupon_templates", claimable_at_merchant, claimable_for_viewer)


def open_templates(channel: str, viewer_id: int | None, cursor: str | None,
                   limit: int) -> dict:
    """The coupon center: templates of the ``platform`` channel (free) or the ``points``
    channel (for points) open now, newest first."""
    if channel not in CENTERS:
        raise ValidationFailed("渠道不正确", details={"field": "channel",
                                                    "choices": list(CENTERS)})
    # Every page is full while open templates remain: the templates sold out, ended or not
    # yet open are left out by the query, not after it.
    query = _templates().where(CouponTemplate.center == channel,
                               claim_open_where(utcnow()),
                               Merchant.id.is_null() | (Merchant.status == "approved"))
    rows, next_cursor = newest_first(query, CouponTemplate.id, cursor, limit)
    claimed = _claimed_counts(viewer_id, [t.id for t in rows])
    return {"items": [_offer(t, claimed, "") for t in rows], "next_cursor": next_cursor}


def _coupons():
    return (Coupon.select(Coupon, CouponTemplate, Merchant).join(CouponTemplate)
            .join(Merchant, JOIN.LEFT_OUTER, on=(CouponTemplate.merchant == Merchant.id)))


def my_coupons(user_id: int, status: str | None, cursor: str | None, limit: int) -> dict:
    """A page of the consumer's coupons, newest first (``status`` filters)."""
    if status is not None and status not in COUPON_STATUSES:
        raise ValidationFailed("状态不正确", details={"field": "status",
                                                    "choices": list(COUPON_STATUSES)})
    query = _coupons().where(Coupon.user_id == user_id)
    if status is not None:
        query = query.where(Coupon.status == status)
    rows, next_cursor = newest_first(query, Coupon.id, cursor, limit)
    return {"items": [coupon_view(c) for c in rows], "next_cursor": next_cursor}


def usable_coupons(user_id: int, merchant_id: int, now: dt.datetime | None = None) -> list[dict]:
    """The member's coupons that the counter of ``merchant_id`` can redeem now."""
    now = now or utcnow()
    rows = (_coupons().where(Coupon.user_id == user_id, Coupon.status == "active",
                             Coupon.valid_from <= now, Coupon.valid_until > now)
            .order_by(Coupon.valid_until, Coupon.id))
    return [coupon_view(c) for c in rows if usable_at(c.template, merchant_id)]


def issuer_templates(merchant_id: int | None, status: str | None, cursor: str | None,
                     limit: int) -> dict:
    """The templates issued by ``merchant_id`` (None: the platform), newest first, with
    how many of their coupons were used or redeemed."""
    query = _templates().where(CouponTemplate.merchant.is_null() if merchant_id is None
                               else CouponTemplate.merchant == merchant_id)
    if status is not None:
        query = query.where(CouponTemplate.status == status)
    rows, next_cursor = newest_first(query, CouponTemplate.id, cursor, limit)
    used = used_counts([t.id for t in rows])
    return {"items": [staff_template_view(t, used.get(t.id, 0)) for t in rows],
            "next_cursor": next_cursor}


def used_counts(template_ids: list[int]) -> dict[int, int]:
    """template id -> coupons used at checkout or redeemed at a counter."""
    if not template_ids:
        return {}
    return dict(Coupon.select(Coupon.template, fn.COUNT(Coupon.id))
                .where(Coupon.template.in_(template_ids),
                       Coupon.status.in_(("used", "redeemed")))
                .group_by(Coupon.template).tuples())


def distributions_of(merchant_id: int, template_id: int | None = None) -> list[dict]:
    """Distributions the merchant takes part in, as issuer or as distributor (of one
    template when ``template_id`` is given), newest first."""
    query = (CouponDistribution
             .select(CouponDistribution, CouponTemplate, DISTRIBUTOR)
             .join(CouponTemplate)
             .switch(CouponDistribution)
             .join(DISTRIBUTOR, on=(CouponDistribution.distributor == DISTRIBUTOR.id))
             .where((CouponTemplate.merchant == merchant_id)
                    | (CouponDistribution.distributor == merchant_id)))
    if template_id is not None:
        query = query.where(CouponDistribution.template == template_id)
    return [distribution_view(d) for d in query.order_by(CouponDistribution.id.desc())]
