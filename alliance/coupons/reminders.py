"""Reminding consumers of coupons about to expire (``coupon.expiring``), once per coupon."""
from __future__ import annotations

import datetime as dt

from peewee import JOIN

from alliance.clock import to_local_iso
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.db import transaction, utcnow
from alliance.merchants.models import Merchant
from alliance.notifications.models import OutboxMessage
from alliance.ports import Notifier

PLATFORM_NAME = "异业联盟"
BATCH = 500


def _dedupe_key(coupon_id: int) -> str:
    return f"coupon.expiring:{coupon_id}"


def notify_expiring_coupons(notifier: Notifier, now: dt.datetime | None = None,
                            within: dt.timedelta = dt.timedelta(days=1),
                            batch: int = BATCH) -> int:
    """Send one ``coupon.expiring`` to the holder of every active (unused, unredeemed,
    not held by an order) coupon whose validity ends within ``within`` of ``now``; the
    number of reminders written (a concurrent run may have written some). A coupon is reminded once (dedupe key per coupon), so the
    scheduler may run this as often as it likes, and concurrently."""
    now = now or utcnow()
    written, last_id = 0, 0
    while True:
        rows = list(Coupon.select(Coupon.id, Coupon.user_id, Coupon.code, Coupon.valid_until,
                                  CouponTemplate.name.alias("coupon_name"),
                                  Merchant.name.alias("merchant_name"))
                    .join(CouponTemplate)
                    .join(Merchant, join_type=JOIN.LEFT_OUTER,
                          on=(CouponTemplate.merchant == Merchant.id))
                    .where(Coupon.status == "active", Coupon.valid_until > now,
                           Coupon.valid_until <= now + within, Coupon.id > last_id)
                    .order_by(Coupon.id).limit(batch).objects())
        if not rows:
            return written
        last_id = rows[-1].id
        sent = {m.dedupe_key for m in OutboxMessage.select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_([_dedupe_key(c.id) for c in rows]))}
        with transaction():
            for coupon in rows:
                if _dedupe_key(coupon.id) in sent:
                    continue
                notifier.notify("coupon.expiring", user_id=coupon.user_id, data={
                    "coupon_id": coupon.id, "code": coupon.code,
                    "coupon_name": coupon.coupon_name,
                    "merchant_name": coupon.merchant_name or PLATFORM_NAME,
                    "valid_until": to_local_iso(coupon.valid_until)},
                    dedupe_key=_dedupe_key(coupon.id))
                written += 1
        if len(rows) < batch:
            return written
