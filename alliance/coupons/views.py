"""Coupons and templates as JSON-ready dicts."""
from __future__ import annotations

from alliance.clock import to_local_iso
from alliance.coupons.models import Coupon, CouponDistribution, CouponTemplate


def template_view(template: CouponTemplate) -> dict:
    """A template as consumers see it (what it is worth, where, until when, how many left)."""
    issuer = template.merchant
    return {
        "id": template.id, "name": template.name, "description": template.description,
        "kind": template.kind, "tier": template.tier,
        "threshold_fen": template.threshold_fen, "discount_fen": template.discount_fen,
        "percent_off": template.percent_off, "max_discount_fen": template.max_discount_fen,
        "item_id": template.item_id, "scope": template.scope,
        "scope_item_ids": template.item_ids,
        "valid_from": to_local_iso(template.valid_from),
        "valid_until": to_local_iso(template.valid_until), "valid_days": template.valid_days,
        "claim_starts_at": to_local_iso(template.claim_starts_at),
        "claim_ends_at": to_local_iso(template.claim_ends_at),
        "remaining": max(0, template.total_stock - template.issued),
        "per_user_limit": template.per_user_limit,
        "channels": sorted(template.channel_set), "points_cost": template.points_cost,
        "issuer": ({"merchant_id": issuer.id, "name": issuer.name} if issuer is not None
                   else {"merchant_id": None, "name": "平台"}),
    }


def staff_template_view(template: CouponTemplate, used: int = 0) -> dict:
    """A template as its issuer's staff (or operators) see it: stock, state, effect."""
    return {**template_view(template), "status": template.status,
            "total_stock": template.total_stock, "issued": template.issued, "used": used,
            "created_at": to_local_iso(template.created_at),
            "updated_at": to_local_iso(template.updated_at)}


def source_view(coupon: Coupon) -> dict:
    """Where a coupon came from: the channel, the distributing partner, the referrer."""
    return {"channel": coupon.channel, "distributor_merchant_id": coupon.distributor_merchant_id,
            "referrer_user_id": coupon.referrer_user_id, "scene": coupon.scene}


def coupon_view(coupon: Coupon) -> dict:
    """A consumer's coupon: ``code`` is what the counter scans or types."""
    template = coupon.template
    return {"id": coupon.id, "code": coupon.code, "status": coupon.status,
            "valid_from": to_local_iso(coupon.valid_from),
            "valid_until": to_local_iso(coupon.valid_until),
            "source": source_view(coupon), "claimed_at": to_local_iso(coupon.claimed_at),
            "used_at": to_local_iso(coupon.used_at), "template": template_view(template)}


def distribution_view(distribution: CouponDistribution) -> dict:
    template = distribution.template
    return {"id": distribution.id, "template_id": template.id, "template_name": template.name,
            "issuer_merchant_id": template.merchant_id,
            "distributor_merchant_id": distribution.distributor_id,
            "distributor_name": distribution.distributor.name,
            "commission_fen": distribution.commission_fen,
            "cooperation_id": distribution.cooperation_id, "status": distribution.status,
            "claim_scene": f"p={distribution.distributor_id}",
            "created_at": to_local_iso(distribution.created_at),
            "ended_at": to_local_iso(distribution.ended_at)}
