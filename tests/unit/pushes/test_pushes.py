"""Merchant pushes at the service level: segments, opt-outs, the daily limit under
concurrency, Shanghai calendar days, and account merges."""
import datetime as dt
import json

import pytest

from alliance.accounts.merge import merge_users
from alliance.errors import RateLimited, ValidationFailed
from alliance.members.models import MerchantMember
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from alliance.pushes import services as pushes
from alliance.pushes.models import MerchantPush, PushOptOut
from tests.concurrency import run_at_once
from tests.factories import make_merchant, make_user

NOW = dt.datetime(2026, 11, 28, 4, 0, 0)  # 12:00 in Shanghai


def member(merchant, level=0, last_visit_days_ago=None, name=""):
    user = make_user(name)
    MerchantMember.create(merchant=merchant, user_id=user.id, level=level,
                          last_visit_at=(NOW - dt.timedelta(days=last_visit_days_ago)
                                         if last_visit_days_ago is not None else None))
    return user


def push(merchant, segment=None, *, now=NOW, limit=3):
    return pushes.send_push(OutboxNotifier(), merchant.id, merchant.owner_id, title="会员日",
                            content="全场八折", segment=pushes.parse_segment(segment or {}),
                            page=None, daily_limit=limit, now=now)


def recipients_of(push_row) -> set[int]:
    return {m.user_id for m in OutboxMessage.select().where(
        OutboxMessage.event == "merchant.push",
        OutboxMessage.dedupe_key.startswith(f"merchant.push:{push_row.id}:"))}


def test_push_reaches_every_member_without_segment(database):
    merchant = make_merchant(name="老街面馆")
    users = {member(merchant).id, member(merchant, level=2).id}
    other = make_merchant()
    member(other)
    sent = push(merchant)
    assert sent.recipients == 2 and recipients_of(sent) == users
    data = json.loads(OutboxMessage.get(OutboxMessage.event == "merchant.push").payload)
    assert data == {"push_id": sent.id, "merchant_id": merchant.id, "merchant_name": "老街面馆",
                    "title": "会员日", "content": "全场八折",
                    "page": f"pages/merchant/detail?id={merchant.id}"}


def test_push_segment_by_level(database):
    merchant = make_merchant()
    gold = member(merchant, level=2)
    member(merchant, level=1)
    member(merchant, level=0)
    assert recipients_of(push(merchant, {"levels": [2, 3]})) == {gold.id}


def test_push_segment_by_last_visit(database):
    merchant = make_merchant()
    recent = member(merchant, last_visit_days_ago=3)
    lapsed = member(merchant, last_visit_days_ago=60)
    never = member(merchant)
    assert recipients_of(push(merchant, {"last_visit_within_days": 7})) == {recent.id}
    assert recipients_of(push(merchant, {"last_visit_before_days": 30})) == {lapsed.id, never.id}
    assert recipients_of(push(merchant, {"last_visit_within_days": 90,
                                         "last_visit_before_days": 30})) == {lapsed.id}


def test_push_skips_consumers_who_opted_out(database):
    merchant, other = make_merchant(), make_merchant()
    stays, refuses_this, refuses_all, refuses_other = (member(merchant) for _ in range(4))
    pushes.set_opt_out(refuses_this.id, merchant.id, True)
    pushes.set_opt_out(refuses_all.id, None, True)
    pushes.set_opt_out(refuses_other.id, other.id, True)
    assert recipients_of(push(merchant)) == {stays.id, refuses_other.id}
    pushes.set_opt_out(refuses_all.id, None, False)
    assert recipients_of(push(merchant)) == {stays.id, refuses_other.id, refuses_all.id}


def test_opt_out_twice_keeps_one_row(database):
    merchant = make_merchant()
    user = make_user()
    pushes.set_opt_out(user.id, merchant.id, True)
    pushes.set_opt_out(user.id, merchant.id, True)
    assert PushOptOut.select().where(PushOptOut.user == user.id).count() == 1


@pytest.mark.parametrize("segment", [
    {"levels": []}, {"levels": ["gold"]}, {"levels": [True]}, {"levels": 2},
    {"last_visit_within_days": 0}, {"last_visit_before_days": "7"},
    {"last_visit_within_days": 7, "last_visit_before_days": 30}, {"city": "上海"}, [1]])
def test_parse_segment_refuses_bad_segments(segment):
    with pytest.raises(ValidationFailed) as raised:
        pushes.parse_segment(segment)
    assert raised.value.code == "VALIDATION_FAILED"
    assert raised.value.details["field"].startswith("segment")


def test_push_beyond_daily_limit_is_rate_limited_until_shanghai_midnight(database):
    merchant = make_merchant()
    member(merchant)
    for _ in range(2):
        push(merchant, limit=2)
    with pytest.raises(RateLimited) as raised:
        push(merchant, limit=2)
    assert raised.value.code == "RATE_LIMITED" and raised.value.http_status == 429
    assert raised.value.retry_after == 12 * 3600  # 12:00 in Shanghai
    assert MerchantPush.select().count() == 2
    assert OutboxMessage.select().count() == 2  # the refused push wrote nothing


def test_daily_limit_follows_the_shanghai_calendar_day(database):
    merchant = make_merchant()
    late_evening = dt.datetime(2026, 11, 28, 15, 30)  # 23:30 in Shanghai
    push(merchant, now=late_evening, limit=1)
    with pytest.raises(RateLimited) as raised:
        push(merchant, now=late_evening + dt.timedelta(minutes=20), limit=1)
    assert raised.value.retry_after == 10 * 60
    push(merchant, now=late_evening + dt.timedelta(minutes=31), limit=1)  # 00:01 next day
    assert [p.local_day for p in MerchantPush.select().order_by(MerchantPush.id)] == \
        ["2026-11-28", "2026-11-29"]


def test_concurrent_pushes_never_exceed_the_daily_limit(database):
    merchant = make_merchant()
    for _ in range(3):
        member(merchant)
    outcomes = run_at_once(8, lambda i: push(merchant, limit=3))
    assert sum(isinstance(o, MerchantPush) for o in outcomes) == 3
    assert all(isinstance(o, (MerchantPush, RateLimited)) for o in outcomes), outcomes
    assert MerchantPush.select().count() == 3
    assert OutboxMessage.select().where(OutboxMessage.event == "merchant.push").count() == 9


def test_merge_keeps_the_absorbed_accounts_opt_outs(database):
    merchant, other = make_merchant(), make_merchant()
    source, target = make_user("src"), make_user("dst")
    pushes.set_opt_out(source.id, merchant.id, True)
    pushes.set_opt_out(source.id, other.id, True)
    pushes.set_opt_out(target.id, other.id, True)
    merge_users(source.id, target.id, "phone")
    assert sorted(o.merchant_id for o in PushOptOut.select().where(PushOptOut.user == target.id)) \
        == sorted([merchant.id, other.id])
