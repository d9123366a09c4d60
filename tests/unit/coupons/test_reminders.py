"""coupon.expiring: one reminder per active coupon about to expire, never twice."""
import datetime as dt
import json
from types import SimpleNamespace

from alliance.coupons.claims import claim
from alliance.coupons.models import Coupon
from alliance.coupons.reminders import notify_expiring_coupons
from alliance.db import utcnow
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from scheduler import jobs
from scheduler.registry import JOBS
from tests.factories import make_merchant, make_template, make_user

NOW = dt.datetime(2026, 11, 28, 4, 0, 0)


def coupon_ending(template, user, at: dt.datetime, status: str = "active") -> Coupon:
    coupon = claim(template.id, user.id)
    Coupon.update(valid_until=at, status=status).where(Coupon.id == coupon.id).execute()
    return Coupon.get_by_id(coupon.id)


def reminders() -> list[OutboxMessage]:
    return list(OutboxMessage.select().where(OutboxMessage.event == "coupon.expiring")
                .order_by(OutboxMessage.id))


def test_notify_expiring_reminds_coupons_ending_within_the_window(database):
    merchant = make_merchant(name="老街面馆")
    template = make_template(merchant, name="满100减20", per_user_limit=5)
    alice = make_user("alice")
    soon = coupon_ending(template, alice, NOW + dt.timedelta(hours=20))
    coupon_ending(template, alice, NOW + dt.timedelta(days=3))
    coupon_ending(template, alice, NOW - dt.timedelta(hours=1))
    assert notify_expiring_coupons(OutboxNotifier(), NOW) == 1
    [message] = reminders()
    data = json.loads(message.payload)
    assert (message.user_id, message.dedupe_key) == (alice.id, f"coupon.expiring:{soon.id}")
    assert (data["coupon_name"], data["merchant_name"]) == ("满100减20", "老街面馆")
    assert data["valid_until"] == "2026-11-29T08:00:00+08:00"


def test_notify_expiring_skips_used_redeemed_and_locked_coupons(database):
    template = make_template(make_merchant(), per_user_limit=5)
    alice = make_user("alice")
    for status in ("used", "redeemed", "locked", "expired"):
        coupon_ending(template, alice, NOW + dt.timedelta(hours=2), status=status)
    assert notify_expiring_coupons(OutboxNotifier(), NOW) == 0
    assert reminders() == []


def test_notify_expiring_twice_reminds_once(database):
    template = make_template(make_merchant(), per_user_limit=5)
    alice, bob = make_user("alice"), make_user("bob")
    coupon_ending(template, alice, NOW + dt.timedelta(hours=2))
    coupon_ending(template, bob, NOW + dt.timedelta(hours=3))
    assert notify_expiring_coupons(OutboxNotifier(), NOW) == 2
    assert notify_expiring_coupons(OutboxNotifier(), NOW + dt.timedelta(hours=1)) == 0
    assert len(reminders()) == 2


def test_notify_expiring_pages_through_batches(database):
    template = make_template(make_merchant(), per_user_limit=5)
    users = [make_user(f"u{n}") for n in range(5)]
    for user in users:
        coupon_ending(template, user, NOW + dt.timedelta(hours=1))
    assert notify_expiring_coupons(OutboxNotifier(), NOW, batch=2) == 5
    assert sorted(m.user_id for m in reminders()) == sorted(u.id for u in users)


def test_notify_expiring_names_the_platform_for_platform_coupons(database):
    template = make_template(None, name="平台通用券")
    coupon_ending(template, make_user("alice"), NOW + dt.timedelta(hours=1))
    notify_expiring_coupons(OutboxNotifier(), NOW)
    assert json.loads(reminders()[0].payload)["merchant_name"] == "异业联盟"


def test_notify_expiring_job_is_registered_and_runs(database):
    assert "coupons.notify_expiring" in JOBS.names()
    template = make_template(make_merchant())
    coupon_ending(template, make_user("alice"), utcnow() + dt.timedelta(hours=5))
    # The job uses only the context's notifier (build_context would install the orders'
    # payment handlers for every later test).
    ctx = SimpleNamespace(notifier=OutboxNotifier())
    assert jobs.notify_expiring_coupons(ctx) == {"notified": 1}
