import datetime as dt

import pytest

from alliance.db import utcnow
from alliance.points import services as points
from alliance.points.models import PointsAccount, PointsAllocation, PointsEntry
from alliance.points.services import InsufficientPoints
from tests.concurrency import run_at_once


def test_earn_credits_balance_and_records_the_funding_merchant(database):
    posted = points.earn(1, 100, merchant_id=7, idempotency_key="order:1:earn")
    assert posted.entry.balance_after == 100 and posted.entry.merchant_id == 7
    assert points.balance_of(1) == 100


def test_earn_twice_with_one_key_counts_once(database):
    points.earn(1, 100, merchant_id=7, idempotency_key="order:1:earn")
    again = points.earn(1, 100, merchant_id=7, idempotency_key="order:1:earn")
    assert again.replayed and points.balance_of(1) == 100
    assert PointsAccount.get_by_id(1).lifetime_earned == 100  # the repeat's credit taken back
    assert PointsEntry.select().count() == 1 and again.entry.balance_after == 100


def test_spend_beyond_balance_is_refused_and_changes_nothing(database):
    points.earn(1, 50, merchant_id=7, idempotency_key="e1")
    with pytest.raises(InsufficientPoints):
        points.spend(1, 60, merchant_id=8, idempotency_key="s1")
    assert points.balance_of(1) == 50 and PointsEntry.select().count() == 1


def test_spend_at_another_merchant_records_which_merchant_funded_it(database):
    points.earn(1, 30, merchant_id=7, idempotency_key="e1")
    points.earn(1, 50, merchant_id=9, idempotency_key="e2")
    spent = points.spend(1, 60, merchant_id=8, idempotency_key="s1").entry
    funding = {(a.funding_merchant_id, a.amount) for a in
               PointsAllocation.select().where(PointsAllocation.debit == spent)}
    assert funding == {(7, 30), (9, 30)}
    assert spent.balance_after == 20 and spent.merchant_id == 8


def test_refund_of_a_spend_restores_balance_and_lots(database):
    points.earn(1, 30, merchant_id=7, idempotency_key="e1")
    points.spend(1, 30, merchant_id=8, idempotency_key="s1")
    points.refund_spend("s1", idempotency_key="s1:refund")
    points.refund_spend("s1", idempotency_key="s1:refund")
    assert points.balance_of(1) == 30
    assert PointsEntry.get(PointsEntry.idempotency_key == "e1").lot_remaining == 30


def test_expiry_removes_only_what_is_left_of_a_lot(database):
    past = utcnow() - dt.timedelta(days=400)
    points.earn(1, 100, merchant_id=7, idempotency_key="old", now=past)
    points.earn(1, 40, merchant_id=7, idempotency_key="new")
    # a day after the old lot was earned: it expires first, so it is consumed first
    points.spend(1, 30, merchant_id=8, idempotency_key="s1", now=past + dt.timedelta(days=1))
    assert points.expire_due() == 1
    assert points.expire_due() == 0
    assert points.balance_of(1) == 40
    expired = PointsEntry.get(PointsEntry.kind == "expire")
    assert expired.amount == -70 and expired.balance_after == 40


def test_points_given_back_to_an_expired_lot_expire_again(database):
    t0 = utcnow()
    lot = points.earn(1, 100, merchant_id=7, idempotency_key="e1",
                      lifetime=dt.timedelta(minutes=5), now=t0).entry
    points.spend(1, 30, merchant_id=8, idempotency_key="s1", now=t0)
    assert points.expire_due(now=t0 + dt.timedelta(minutes=6)) == 1  # the 70 left
    points.refund_spend("s1", idempotency_key="s1:refund")  # the order is cancelled later
    assert points.balance_of(1) == 30
    assert points.expire_due(now=t0 + dt.timedelta(minutes=7)) == 1
    assert points.expire_due(now=t0 + dt.timedelta(minutes=8)) == 0
    assert points.balance_of(1) == 0 and PointsEntry.get_by_id(lot.id).lot_remaining == 0
    expiries = [(e.idempotency_key, e.amount) for e in
                PointsEntry.select().where(PointsEntry.kind == "expire").order_by(PointsEntry.id)]
    assert expiries == [(f"expire:{lot.id}", -70), (f"expire:{lot.id}:2", -30)]
    assert sum(e.amount for e in PointsEntry.select()) == 0


def test_a_lot_that_cannot_expire_holds_up_no_lot_after_it(database):
    past = utcnow() - dt.timedelta(days=366)
    for user_id in (1, 2, 3):
        points.earn(user_id, 100, merchant_id=7, idempotency_key=f"e{user_id}", now=past)
    # balances that disagree with their lots: those lots are refused expiry, every run
    PointsAccount.update(balance=0).where(PointsAccount.user_id.in_([1, 2, 3])).execute()
    points.earn(4, 50, merchant_id=7, idempotency_key="e4", now=past)
    assert points.expire_due(batch=2) == 1
    assert points.balance_of(4) == 0


def test_points_past_their_date_are_not_spent_though_not_yet_expired(database):
    t0 = utcnow()
    stale = points.earn(1, 100, merchant_id=7, idempotency_key="e1",
                        lifetime=dt.timedelta(minutes=1), now=t0).entry
    live = points.earn(1, 50, merchant_id=9, idempotency_key="e2", now=t0).entry
    later = t0 + dt.timedelta(minutes=2)  # the expiry job has not run yet
    with pytest.raises(InsufficientPoints):
        points.spend(1, 120, merchant_id=8, idempotency_key="s1", now=later)
    # taken back from an order that earned nothing left: from the live lot, not the stale one
    points.spend(1, 40, merchant_id=8, idempotency_key="s2", now=later, kind="adjust",
                 from_lot="e1", unearn=True)
    lots = {e.id: e.lot_remaining for e in PointsEntry.select().where(PointsEntry.kind == "earn")}
    assert lots == {stale.id: 100, live.id: 10}
    assert PointsAccount.get_by_id(1).lifetime_earned == 110  # taken back from the growth
    assert points.expire_due(now=later) == 1 and points.balance_of(1) == 10


def test_concurrent_spends_never_drive_the_balance_negative(database):
    points.earn(1, 100, merchant_id=7, idempotency_key="e1")
    outcomes = run_at_once(12, lambda i: points.spend(1, 30, merchant_id=8,
                                                      idempotency_key=f"s{i}"))
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) - len(refused) == 3
    assert all(isinstance(o, InsufficientPoints) for o in refused)
    assert PointsAccount.get_by_id(1).balance == 10
    ledger = sum(e.amount for e in PointsEntry.select())
    assert ledger == 10
    allocated = sum(a.amount for a in PointsAllocation.select())
    assert allocated == 90


def test_adjust_debit_by_operator_is_guarded_too(database):
    points.earn(1, 10, merchant_id=None, idempotency_key="e1")
    with pytest.raises(InsufficientPoints):
        points.adjust(1, -20, idempotency_key="adj1", memo="纠错", operator_id=3)
    assert points.adjust(1, -10, idempotency_key="adj2", memo="纠错").entry.kind == "adjust"
    assert points.balance_of(1) == 0


def test_concurrent_first_earns_of_one_user_open_one_account_and_add_up(database):
    outcomes = run_at_once(8, lambda i: points.earn(1, 10, merchant_id=7, idempotency_key=f"e{i}"))
    assert not [o for o in outcomes if isinstance(o, Exception)]
    account = PointsAccount.get_by_id(1)
    assert (account.balance, account.lifetime_earned) == (80, 80)
    assert sorted(e.balance_after for e in PointsEntry.select()) == list(range(10, 90, 10))


def test_concurrent_earns_with_one_key_post_once(database):
    posted = run_at_once(6, lambda i: points.earn(1, 10, merchant_id=7, idempotency_key="e1"))
    assert not [p for p in posted if isinstance(p, Exception)]
    assert sum(not p.replayed for p in posted) == 1
    assert {p.entry.id for p in posted} == {PointsEntry.get().id}
    assert points.balance_of(1) == 10
