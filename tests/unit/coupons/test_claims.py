import datetime as dt
import sqlite3
import threading

import pytest

from alliance.coupons import claims
from alliance.coupons.errors import (CouponLimitReached, CouponNotClaimable, CouponSoldOut,
                                     CouponTemplateNotFound)
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.templates import add_distribution, update_template
from alliance.db import utcnow
from alliance.errors import ValidationFailed
from alliance.points import services as points
from alliance.points.models import PointsEntry
from alliance.points.services import InsufficientPoints
from tests.concurrency import run_at_once
from tests.factories import make_merchant, make_template, make_user
from tests.support import MYSQL_URL


def test_claim_issues_a_coupon_valid_from_the_claim(database):
    template = make_template(make_merchant(), valid_days=7)
    coupon = claims.claim(template.id, make_user().id)
    assert len(coupon.code) == 12 and coupon.code.startswith("C")
    assert coupon.valid_until - coupon.valid_from == dt.timedelta(days=7)
    assert coupon.channel == "own" and coupon.status == "active"
    assert CouponTemplate.get_by_id(template.id).issued == 1


def test_fifty_threads_claiming_the_last_ten_get_exactly_ten(database):
    template = make_template(make_merchant(), total_stock=30)
    for _ in range(20):
        claims.claim(template.id, make_user().id)
    users = [make_user().id for _ in range(50)]
    outcomes = run_at_once(50, lambda i: claims.claim(template.id, users[i]))
    assert sum(isinstance(o, Coupon) for o in outcomes) == 10
    assert sum(isinstance(o, CouponSoldOut) for o in outcomes) == 40
    assert Coupon.select().where(Coupon.template == template.id).count() == 30
    assert CouponTemplate.get_by_id(template.id).issued == 30


def test_one_user_claiming_at_once_from_many_threads_gets_no_more_than_the_limit(database):
    template = make_template(make_merchant(), per_user_limit=2)
    user = make_user().id
    outcomes = run_at_once(10, lambda i: claims.claim(template.id, user))
    assert sum(isinstance(o, Coupon) for o in outcomes) == 2
    assert all(isinstance(o, (Coupon, CouponLimitReached)) for o in outcomes)
    assert Coupon.select().where(Coupon.template == template.id).count() == 2
    assert CouponTemplate.get_by_id(template.id).issued == 2  # refused claims gave stock back


def test_claim_beyond_the_limit_is_refused_and_takes_no_stock(database):
    template = make_template(make_merchant())
    user = make_user().id
    claims.claim(template.id, user)
    with pytest.raises(CouponLimitReached):
        claims.claim(template.id, user)
    assert CouponTemplate.get_by_id(template.id).issued == 1


def test_claim_of_a_sold_out_template_is_refused(database):
    template = make_template(make_merchant(), total_stock=1)
    claims.claim(template.id, make_user().id)
    with pytest.raises(CouponSoldOut):
        claims.claim(template.id, make_user().id)


def _refusals_while_another_writes(database: str, template_id: int, user_ids) -> list[type]:
    """Claims by ``user_ids`` while another connection holds SQLite's write lock: the type of
    each refusal, every one answered without waiting for the lock."""
    writer = sqlite3.connect(database.split(":///", 1)[1], timeout=5)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    outcomes = []
    try:
        for user_id in user_ids:
            thread = threading.Thread(target=lambda u=user_id: outcomes.append(
                pytest.raises(Exception, claims.claim, template_id, u).value))
            thread.start()
            thread.join(timeout=5)
            assert not thread.is_alive(), "the refusal waited for the write lock"
    finally:
        writer.rollback()
        writer.close()
    return [type(o) for o in outcomes]


@pytest.mark.skipif(bool(MYSQL_URL), reason="SQLite's one write lock")
def test_sold_out_and_limit_answers_need_no_write_lock(database):
    template = make_template(make_merchant(), total_stock=1)
    holder, latecomer = make_user().id, make_user().id
    claims.claim(template.id, holder)
    assert _refusals_while_another_writes(database, template.id, (latecomer, holder)) == [
        CouponSoldOut, CouponSoldOut]


@pytest.mark.skipif(bool(MYSQL_URL), reason="SQLite's one write lock")
def test_limit_answer_needs_no_write_lock(database):
    template = make_template(make_merchant(), total_stock=10)
    holder = make_user().id
    claims.claim(template.id, holder)
    assert _refusals_while_another_writes(database, template.id, (holder,)) == [
        CouponLimitReached]


def test_sold_out_claim_is_answered_without_reading_the_whole_template(database, monkeypatch):
    template = make_template(make_merchant(), total_stock=1)
    claims.claim(template.id, make_user().id)

    def whole_template(*args):
        raise AssertionError("read the whole template to answer sold out")

    monkeypatch.setattr(claims._TEMPLATE_WITH_ISSUER, "first", whole_template)
    with pytest.raises(CouponSoldOut):
        claims.claim(template.id, make_user().id)


def test_held_slots_are_read_only_when_the_claimer_holds_some_but_not_all(database,
                                                                         monkeypatch):
    template = make_template(make_merchant(), per_user_limit=2)
    user = make_user().id
    reads = []
    held_slots = claims._HELD_SLOTS.rows
    monkeypatch.setattr(claims._HELD_SLOTS, "rows",
                        lambda *args: reads.append(args) or held_slots(*args))
    first = claims.claim(template.id, user)
    assert reads == []  # holds none: every slot is free
    second = claims.claim(template.id, user)
    assert len(reads) == 1 and (first.seq, second.seq) == (1, 2)
    with pytest.raises(CouponLimitReached) as refused:
        claims.claim(template.id, user)
    assert len(reads) == 1  # holds all: refused from the count
    assert refused.value.details == {"template_id": template.id, "per_user_limit": 2}
    assert CouponTemplate.get_by_id(template.id).issued == 2


def test_a_pause_between_the_claims_read_and_its_write_issues_nothing(database, monkeypatch):
    merchant = make_merchant()
    template = make_template(merchant)
    free_slots = claims._free_slots

    def paused_meanwhile(*args):
        update_template(template.id, merchant.id, {"status": "paused"})
        return free_slots(*args)

    monkeypatch.setattr(claims, "_free_slots", paused_meanwhile)
    with pytest.raises(CouponNotClaimable):
        claims.claim(template.id, make_user().id)
    assert CouponTemplate.get_by_id(template.id).issued == 0 and Coupon.select().count() == 0


def test_claim_through_a_partner_records_distributor_and_referrer(database):
    issuer, partner = make_merchant(), make_merchant()
    template = make_template(issuer, channels=["own", "partner"])
    add_distribution(template.id, issuer.id, partner.id, 300, actor_id=issuer.owner_id)
    referrer, user = make_user(), make_user()
    coupon = claims.claim(template.id, user.id, f"p={partner.id}&r={referrer.id}&x=1")
    assert coupon.channel == "partner" and coupon.distributor_merchant_id == partner.id
    assert coupon.referrer_user_id == referrer.id and coupon.distribution_id is not None


def test_claim_naming_a_merchant_that_does_not_distribute_is_refused(database):
    template = make_template(make_merchant(), channels=["own", "partner"])
    with pytest.raises(CouponNotClaimable) as error:
        claims.claim(template.id, make_user().id, f"p={make_merchant().id}")
    assert error.value.details["reason"] == "not distributed here"


def test_partner_only_template_needs_a_partner_scene(database):
    template = make_template(make_merchant(), channels=["partner"])
    with pytest.raises(CouponNotClaimable):
        claims.claim(template.id, make_user().id)


def test_self_referral_and_unknown_referrer_are_not_recorded(database):
    template = make_template(make_merchant(), per_user_limit=2)
    user = make_user().id
    assert claims.claim(template.id, user, f"r={user}").referrer_user_id is None
    assert claims.claim(template.id, user, "r=999999").referrer_user_id is None


def test_garbled_scene_is_a_validation_error(database):
    with pytest.raises(ValidationFailed):
        claims.claim(make_template(make_merchant()).id, make_user().id, "p=abc")


def test_paused_or_unstarted_or_unknown_templates_cannot_be_claimed(database):
    merchant = make_merchant()
    paused = make_template(merchant)
    update_template(paused.id, merchant.id, {"status": "paused"})
    tomorrow = (utcnow() + dt.timedelta(days=1)).isoformat() + "+00:00"
    later = make_template(merchant, claim_starts_at=tomorrow)
    for template_id in (paused.id, later.id):
        with pytest.raises(CouponNotClaimable):
            claims.claim(template_id, make_user().id)
    with pytest.raises(CouponTemplateNotFound):
        claims.claim(999999, make_user().id)


def test_templates_of_a_suspended_merchant_are_not_found(database):
    template = make_template(make_merchant(status="suspended"))
    with pytest.raises(CouponTemplateNotFound):
        claims.claim(template.id, make_user().id)


def test_points_coupon_is_exchanged_not_claimed(database):
    issuer = make_merchant()
    template = make_template(issuer, channels=["points"], points_cost=500, threshold_fen=0,
                             discount_fen=500)
    user = make_user().id
    with pytest.raises(CouponNotClaimable):
        claims.claim(template.id, user)
    points.earn(user, 800, merchant_id=None, idempotency_key="e1")
    coupon = claims.exchange(template.id, user)
    assert coupon.channel == "points" and points.balance_of(user) == 300
    spend = PointsEntry.get(PointsEntry.kind == "spend")
    assert spend.merchant_id == issuer.id and spend.ref_id == str(coupon.id)


def test_exchange_without_enough_points_keeps_points_and_stock(database):
    template = make_template(make_merchant(), channels=["points"], points_cost=500,
                             threshold_fen=0, discount_fen=500)
    user = make_user().id
    points.earn(user, 100, merchant_id=None, idempotency_key="e1")
    with pytest.raises(InsufficientPoints):
        claims.exchange(template.id, user)
    assert points.balance_of(user) == 100
    assert CouponTemplate.get_by_id(template.id).issued == 0 and Coupon.select().count() == 0


def test_concurrent_exchanges_never_drive_points_negative(database):
    template = make_template(make_merchant(), channels=["points"], points_cost=300,
                             threshold_fen=0, discount_fen=300, per_user_limit=10)
    user = make_user().id
    points.earn(user, 1000, merchant_id=None, idempotency_key="e1")
    outcomes = run_at_once(8, lambda i: claims.exchange(template.id, user))
    assert sum(isinstance(o, Coupon) for o in outcomes) == 3
    assert all(isinstance(o, (Coupon, InsufficientPoints)) for o in outcomes)
    assert points.balance_of(user) == 100
    assert CouponTemplate.get_by_id(template.id).issued == 3


def test_expiry_marks_only_unused_coupons_past_their_validity(database):
    start = (utcnow() - dt.timedelta(days=3)).isoformat() + "+00:00"
    template = make_template(make_merchant(), valid_days=1, per_user_limit=3, claim_starts_at=start)
    user = make_user().id
    old = claims.claim(template.id, user, now=utcnow() - dt.timedelta(days=2))
    held = claims.claim(template.id, user, now=utcnow() - dt.timedelta(days=2))
    Coupon.update(status="locked", order_ref="o1").where(Coupon.id == held.id).execute()
    fresh = claims.claim(template.id, user)
    assert claims.expire_coupons(batch=1) == 1
    assert claims.expire_coupons() == 0
    statuses = {c.id: c.status for c in Coupon.select()}
    assert statuses == {old.id: "expired", held.id: "locked", fresh.id: "active"}
