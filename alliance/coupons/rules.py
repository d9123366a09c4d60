"""Rules about a template that claims, checkout and the counter share."""
from __future__ import annotations

import datetime as dt

from alliance.coupons.models import CouponTemplate


def usable_at(template: CouponTemplate, merchant_id: int) -> bool:
    """Whether the template's coupons may be used at ``merchant_id``: alliance-wide ones at
    any merchant, the others only at the issuer."""
    return template.scope == "alliance" or template.merchant_id == merchant_id


def claim_open(template: CouponTemplate, now: dt.datetime) -> bool:
    """Whether the template hands out coupons now (stock left, claim window, still valid)."""
    return (template.status == "active" and template.issued < template.total_stock
            and template.claim_starts_at <= now
            and (template.claim_ends_at is None or now < template.claim_ends_at)
            and (template.valid_until is None or now < template.valid_until))


def claim_open_where(now: dt.datetime):
    """``claim_open`` as a condition of a query of templates."""
    return ((CouponTemplate.status == "active")
            & (CouponTemplate.issued < CouponTemplate.total_stock)
            & (CouponTemplate.claim_starts_at <= now)
            & (CouponTemplate.claim_ends_at.is_null() | (CouponTemplate.claim_ends_at > now))
            & (CouponTemplate.valid_until.is_null() | (CouponTemplate.valid_until > now)))


def validity_on_claim(template: CouponTemplate,
                      now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(valid_from, valid_until) of a coupon claimed at ``now``."""
    if template.valid_days is not None:
        return now, now + dt.timedelta(days=template.valid_days)
    return template.valid_from, template.valid_until
