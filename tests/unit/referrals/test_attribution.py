"""Attribution: first touch within the window, no self-referral, one reward per invitee."""
import datetime as dt
import logging
import threading

from alliance.accounts.models import User
from alliance.db import connection, utcnow
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from alliance.referrals.models import ReferralAttribution, ReferralReward
from alliance.referrals.scenes import referral_code_of, validate_scene
from alliance.points.services import balance_of
from alliance.referrals.services import (MERCHANT, USER, attribution_to_close, code_for,
                                         grant_first_order_reward, record_touch)

WINDOW = 7


def user(name: str) -> int:
    return User.create(nickname=name).id


def scene(kind: str, owner: int) -> str:
    return "r." + code_for(kind, owner)


def test_touch_binds_a_consumer_to_the_referrer(database):
    ref, new = user("ref"), user("new")
    outcome = record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    assert outcome.attributed and outcome.attribution.referrer_id == ref
    assert outcome.attribution.expires_at - outcome.attribution.bound_at == dt.timedelta(days=7)


def test_second_source_within_the_window_does_not_replace_the_first(database):
    first, second, new = user("first"), user("second"), user("new")
    record_touch(new, scene(USER, first), "miniprogram", WINDOW)
    outcome = record_touch(new, scene(USER, second), "oa", WINDOW)
    assert not outcome.attributed and outcome.reason == "already_attributed"
    assert ReferralAttribution.get(ReferralAttribution.invitee == new).referrer_id == first


def test_touch_after_the_window_lapsed_binds_the_new_source(database):
    first, second, new = user("first"), user("second"), user("new")
    long_ago = utcnow() - dt.timedelta(days=8)
    record_touch(new, scene(USER, first), "miniprogram", WINDOW, now=long_ago)
    outcome = record_touch(new, scene(MERCHANT, 5), "oa", WINDOW)
    assert outcome.attributed
    row = ReferralAttribution.get(ReferralAttribution.invitee == new)
    assert (row.source_kind, row.merchant_id, row.referrer_id) == ("merchant", 5, None)


def test_own_code_is_a_self_referral(database):
    alice = user("alice")
    outcome = record_touch(alice, scene(USER, alice), "miniprogram", WINDOW)
    assert not outcome.attributed and outcome.reason == "self_referral"
    assert ReferralAttribution.select().count() == 0


def test_codes_are_stable_per_owner_and_scenes_fit_wechat(database):
    alice = user("alice")
    assert code_for(USER, alice) == code_for(USER, alice) != code_for(MERCHANT, alice)
    assert validate_scene(scene(USER, alice)) == scene(USER, alice)


def test_reported_forms_of_a_scene_are_read(database):
    assert referral_code_of("r.ABCD2345") == "ABCD2345"
    assert referral_code_of("qrscene_r.abcd2345") == "ABCD2345"
    assert referral_code_of("r%2EABCD2345") == "ABCD2345"
    assert referral_code_of("https%253A%252F%252Fx.cn%252Fr%252FABCD2345") == "ABCD2345"
    assert referral_code_of("https://x.cn/r/ABCD2345") == "ABCD2345"
    assert referral_code_of("coupon=9") is None and referral_code_of("r.ABC") is None


def test_first_paid_order_in_the_window_rewards_the_referrer_once(database):
    ref, new = user("ref"), user("小新")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    notifier = OutboxNotifier()
    reward = grant_first_order_reward(new, "ORDER-1", reward_points=100, notifier=notifier)
    assert reward is not None and (reward.referrer_id, reward.points) == (ref, 100)
    assert grant_first_order_reward(new, "ORDER-1", reward_points=100, notifier=notifier) is None
    assert grant_first_order_reward(new, "ORDER-2", reward_points=100, notifier=notifier) is None
    assert ReferralReward.select().count() == 1
    message = OutboxMessage.get()
    assert (message.event, message.user_id) == ("referral.rewarded", ref)
    assert ReferralAttribution.get(ReferralAttribution.invitee == new).status == "converted"
    assert balance_of(ref) == 100 and balance_of(new) == 0
    assert ReferralReward.get().credit_ref.startswith("points:")


def test_later_paid_orders_write_nothing_to_the_attribution(database, caplog):
    # Every paid order asks; only the first finds it bound. The others only read.
    ref, new = user("ref"), user("new")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    grant_first_order_reward(new, "ORDER-1", reward_points=100)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert grant_first_order_reward(new, "ORDER-2", reward_points=100) is None
    statements = [str(r.msg) for r in caplog.records if r.name == "peewee"]
    assert statements and all(s.lstrip("('\"").startswith("SELECT") for s in statements), statements


def test_attribution_read_before_the_transaction_closed_is_not_read_again(database, caplog):
    ref, new = user("ref"), user("new")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    grant_first_order_reward(new, "ORDER-1", reward_points=100)
    read = attribution_to_close(new)
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        assert grant_first_order_reward(new, "ORDER-2", reward_points=100, read=read) is None
    assert not [r for r in caplog.records if r.name == "peewee"]


def test_touch_between_the_read_and_the_first_paid_order_is_closed_by_it(database):
    # Read before the payment's transaction: none. A touch binds the buyer meanwhile: the
    # organic record is refused, and the bound attribution is converted by this order.
    ref, new = user("ref"), user("new")
    read = attribution_to_close(new)
    assert read is None
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    reward = grant_first_order_reward(new, "ORDER-1", reward_points=100, read=read)
    assert reward is not None and reward.referrer_id == ref
    row = ReferralAttribution.get(ReferralAttribution.invitee == new)
    assert (row.status, row.first_order_ref) == ("converted", "ORDER-1")


def test_bound_attribution_read_before_is_read_again(database):
    # A bound attribution can be rebound once its window ends: what was read is not trusted.
    ref, late, new = user("ref"), user("late"), user("new")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW,
                 now=utcnow() - dt.timedelta(days=7, minutes=1))
    read = attribution_to_close(new)
    record_touch(new, scene(USER, late), "miniprogram", WINDOW)
    reward = grant_first_order_reward(new, "ORDER-1", reward_points=100, read=read)
    assert reward is not None and reward.referrer_id == late


def test_first_paid_order_after_the_window_gives_no_reward(database):
    ref, new = user("ref"), user("new")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW,
                 now=utcnow() - dt.timedelta(days=7, minutes=1))
    assert grant_first_order_reward(new, "ORDER-1", reward_points=100) is None
    assert ReferralAttribution.get(ReferralAttribution.invitee == new).status == "lapsed"
    assert record_touch(new, scene(USER, user("late")), "oa", WINDOW).reason == "final"


def test_customer_without_a_source_cannot_be_claimed_after_buying(database):
    new = user("new")
    assert grant_first_order_reward(new, "ORDER-1", reward_points=100) is None
    outcome = record_touch(new, scene(USER, user("ref")), "miniprogram", WINDOW)
    assert not outcome.attributed and outcome.reason == "final"
    assert ReferralReward.select().count() == 0


def test_merchant_source_converts_without_a_consumer_reward(database):
    new = user("new")
    record_touch(new, scene(MERCHANT, 3), "oa", WINDOW)
    assert grant_first_order_reward(new, "ORDER-1", reward_points=100) is None
    row = ReferralAttribution.get(ReferralAttribution.invitee == new)
    assert (row.status, row.merchant_id, row.first_order_ref) == ("converted", 3, "ORDER-1")


def test_concurrent_paid_orders_reward_once(database):
    ref, new = user("ref"), user("new")
    record_touch(new, scene(USER, ref), "miniprogram", WINDOW)
    results, barrier = [], threading.Barrier(4)

    def pay(order: str):
        barrier.wait()
        with connection():
            results.append(grant_first_order_reward(new, order, reward_points=50))

    threads = [threading.Thread(target=pay, args=(f"ORDER-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result is not None for result in results) == 1
    assert ReferralReward.select().count() == 1 and balance_of(ref) == 50


def test_concurrent_first_touches_bind_one_source(database):
    new = user("new")
    sources = [scene(USER, user(f"ref{i}")) for i in range(4)]
    barrier = threading.Barrier(4)
    outcomes = []

    def touch(reported: str):
        barrier.wait()
        with connection():
            outcomes.append(record_touch(new, reported, "miniprogram", WINDOW))

    threads = [threading.Thread(target=touch, args=(s,)) for s in sources]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(o.attributed for o in outcomes) == 1
    assert ReferralAttribution.select().count() == 1
