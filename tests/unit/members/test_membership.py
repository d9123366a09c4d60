import threading

import pytest

from alliance.db import connection, transaction, utcnow
from alliance.members.levels import platform_level
from alliance.members.models import MerchantLevelRule, MerchantMember, PointsAward
from alliance.members.queries import my_membership
from alliance.members.awards import ReceiptAlreadyAwarded, SelfAwardForbidden, award_points
from alliance.members.services import (BASE_LEVEL_NAME, LevelRulesInvalid, member_benefits,
                                       record_purchase, record_visit, set_level_rules)
from alliance.notifications.outbox import OutboxNotifier
from alliance.points import services as points
from alliance.points.models import PointsEntry
from alliance.points.rules import max_points_for, points_earned_for
from tests.factories import make_merchant, make_user
from tests.support import recorded_sql

LEVELS = [{"name": "银卡", "min_spent_fen": 10_000, "discount_percent": 5,
           "points_multiplier_pct": 150},
          {"name": "金卡", "min_spent_fen": 50_000, "discount_percent": 10,
           "points_multiplier_pct": 200}]


def _award(merchant, user, amount, **kwargs):
    return award_points(merchant.id, merchant.owner_id, user.id, amount,
                        notifier=OutboxNotifier(), **kwargs)


def test_points_rules_round_down_and_cap_the_share():
    assert points_earned_for(12_345) == 123
    assert points_earned_for(12_345, 150) == 184
    assert max_points_for(10_001) == 5000


def test_platform_level_follows_growth():
    assert platform_level(0)["name"] == "普通会员"
    assert platform_level(1_000) == {"level": 1, "name": "银卡会员", "growth": 1_000,
                                     "next_level_growth": 5_000}
    assert platform_level(10**6)["next_level_growth"] is None


def test_level_thresholds_must_rise(database):
    merchant = make_merchant()
    with pytest.raises(LevelRulesInvalid) as error:
        set_level_rules(merchant.id, [LEVELS[1], LEVELS[0]])
    assert error.value.details["field"] == "levels[1].min_spent_fen"
    with pytest.raises(LevelRulesInvalid):
        set_level_rules(merchant.id, [{**LEVELS[0], "discount_percent": 80}])


def test_award_uses_the_members_multiplier_and_funds_from_the_merchant(database):
    merchant, user = make_merchant(), make_user()
    set_level_rules(merchant.id, LEVELS)
    first = _award(merchant, user, 20_000).award  # 200 yuan at level 0 -> 200 points
    assert (first.points, first.multiplier_pct) == (200, 100)
    assert member_benefits(user.id, merchant.id).name == "银卡"
    second = _award(merchant, user, 10_000).award  # now silver: 1.5x
    assert (second.points, second.multiplier_pct) == (150, 150)
    assert points.balance_of(user.id) == 350
    assert {e.merchant_id for e in PointsEntry.select()} == {merchant.id}
    member = MerchantMember.get(MerchantMember.user_id == user.id)
    assert (member.visits, member.total_spent_fen, member.points_earned) == (2, 30_000, 350)


def test_changing_the_rules_relevels_existing_members(database):
    merchant, user = make_merchant(), make_user()
    _award(merchant, user, 60_000)
    assert member_benefits(user.id, merchant.id).level == 0
    set_level_rules(merchant.id, LEVELS)
    assert member_benefits(user.id, merchant.id).name == "金卡"
    set_level_rules(merchant.id, [])
    assert member_benefits(user.id, merchant.id).level == 0


def test_a_receipt_is_awarded_once(database):
    merchant, user = make_merchant(), make_user()
    first = _award(merchant, user, 5_000, receipt_no="R-1")
    again = _award(merchant, user, 5_000, receipt_no="R-1")
    assert again.replayed and again.award.id == first.award.id
    assert points.balance_of(user.id) == 50 and PointsAward.select().count() == 1
    with pytest.raises(ReceiptAlreadyAwarded):
        _award(merchant, make_user(), 5_000, receipt_no="R-1")


def test_staff_cannot_award_themselves(database):
    merchant = make_merchant()
    with pytest.raises(SelfAwardForbidden):
        award_points(merchant.id, merchant.owner_id, merchant.owner_id, 1_000,
                     notifier=OutboxNotifier())


def test_record_purchase_is_counted_once_per_key(database):
    merchant, user = make_merchant(), make_user()
    assert record_purchase(user.id, merchant.id, 9_900, idempotency_key="order:A1:earn",
                           ref_type="order", ref_id="A1") == 99
    record_purchase(user.id, merchant.id, 9_900, idempotency_key="order:A1:earn",
                    ref_type="order", ref_id="A1")
    assert points.balance_of(user.id) == 99
    assert MerchantMember.get(MerchantMember.user_id == user.id).visits == 1


def test_concurrent_first_purchases_make_one_membership_and_add_up(database):
    merchant, user = make_merchant(), make_user()
    set_level_rules(merchant.id, LEVELS)
    barrier = threading.Barrier(6)

    def buy():
        barrier.wait()
        with connection(), transaction():
            record_visit(user.id, merchant.id, spent_fen=10_000, points_earned=100)

    threads = [threading.Thread(target=buy) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    member = MerchantMember.get(MerchantMember.user_id == user.id)
    assert (member.visits, member.total_spent_fen, member.points_earned) == (6, 60_000, 600)
    assert member_benefits(user.id, merchant.id).name == "金卡"


def test_level_rule_changes_racing_purchases_neither_deadlock_nor_mislevel(database):
    """A purchase locks its membership row, then reads the rules for its level; a rule change
    takes the members first, then the rules: the same order, so on MariaDB neither waits for
    the other in a cycle (a deadlock would fail the payment's transaction)."""
    merchant = make_merchant()
    buyers = [make_user() for _ in range(6)]
    for buyer in buyers[:4]:  # members already; the last two join with their first purchase
        with connection(), transaction():
            record_visit(buyer.id, merchant.id)
    cheaper = [dict(rule, min_spent_fen=rule["min_spent_fen"] // 2) for rule in LEVELS]
    failures, start = [], threading.Barrier(len(buyers) + 1)

    def buy(buyer, rounds=8):
        start.wait()
        for n in range(rounds):
            try:
                with connection(), transaction():
                    record_purchase(buyer.id, merchant.id, 4_000,
                                    idempotency_key=f"order:{buyer.id}-{n}:earn",
                                    ref_type="order", ref_id=f"{buyer.id}-{n}")
            except Exception as exc:  # a deadlock would land here
                failures.append(exc)

    def change_rules(rounds=8):
        start.wait()
        for n in range(rounds):
            try:
                with connection():
                    set_level_rules(merchant.id, LEVELS if n % 2 else cheaper)
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=buy, args=(b,)) for b in buyers]
    threads.append(threading.Thread(target=change_rules))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    for buyer in buyers:  # 8 x 40 yuan = 320 yuan: 银卡 under the last rules (LEVELS)
        member = MerchantMember.get(MerchantMember.user_id == buyer.id)
        assert member.total_spent_fen == 32_000
        assert member_benefits(buyer.id, merchant.id).name == "银卡"


def test_my_memberships_read_every_levels_benefits_at_once(database):
    user = make_user()
    merchants = [make_merchant(name=f"会员店{n}") for n in range(6)]
    for n, merchant in enumerate(merchants):
        MerchantLevelRule.create(merchant=merchant, level=1, name=f"银卡{n}", min_spent_fen=100,
                                 discount_percent=n, points_multiplier_pct=100 + n)
        MerchantMember.create(merchant=merchant, user_id=user.id, level=1 if n % 3 else 0,
                              total_spent_fen=500, last_visit_at=utcnow())
    with recorded_sql() as statements:
        mine = my_membership(user.id)
    # the account, the memberships, the levels' rules, the merchants' member days
    assert len(statements) == 4
    levels = {m["merchant_name"]: (m["level"], m["level_name"], m["discount_percent"])
              for m in mine["memberships"]}
    assert levels == {f"会员店{n}": (1, f"银卡{n}", n) if n % 3 else (0, BASE_LEVEL_NAME, 0)
                      for n in range(6)}
