"""Verified notices: one row per notification, one application per notification."""
import threading
import uuid

import pytest

from alliance.db import db, pipelined_transaction, transaction
from alliance.infra.models import KeyValue
from alliance.payments import notices
from alliance.payments.models import PaymentNotification
from alliance.ports import PaymentNotice, RefundNotice


@pytest.fixture(autouse=True)
def no_handlers():
    yield
    notices.register_payment_handler(None)
    notices.register_refund_handler(None)


def payment(notification_id="EV-1", amount_fen=1234) -> PaymentNotice:
    return PaymentNotice(channel="wechatpay", notification_id=notification_id,
                         out_trade_no="T20261128000001", transaction_id="4200000001",
                         amount_fen=amount_fen, paid=True, trade_state="SUCCESS",
                         raw={"amount": {"total": amount_fen}})


def applied_count(notice_id: str) -> int:
    return KeyValue.select().where(KeyValue.key.startswith(f"applied:{notice_id}:")).count()


def record_effect(notice) -> None:
    """A handler whose effect is a row in the database (so repeats can be counted)."""
    with transaction():
        KeyValue.create(key=f"applied:{notice.notification_id}:{uuid.uuid4().hex}", value="1")


def test_accept_without_handler_records_the_notice_as_received(database):
    outcome = notices.accept_notice(payment())
    row = PaymentNotification.get_by_id(outcome.record_id)
    assert (outcome.status, outcome.duplicate) == ("received", False)
    assert (row.kind, row.out_trade_no, row.amount_fen) == ("payment", "T20261128000001", 1234)


def test_accept_of_a_repeat_is_a_duplicate_in_the_same_row(database):
    first = notices.accept_notice(payment())
    second = notices.accept_notice(payment())
    assert second.duplicate and second.record_id == first.record_id
    assert PaymentNotification.select().count() == 1


def test_accept_applies_the_handler_once_for_repeats(database):
    notices.register_payment_handler(record_effect)
    assert notices.accept_notice(payment()).status == "processed"
    again = notices.accept_notice(payment())
    assert again.duplicate and again.status == "processed"
    assert applied_count("EV-1") == 1


def test_concurrent_repeats_apply_once(database):
    notices.register_payment_handler(record_effect)
    barrier = threading.Barrier(8)
    outcomes, errors = [], []

    def deliver():
        barrier.wait()
        try:
            outcomes.append(notices.accept_notice(payment("EV-concurrent")))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(not o.duplicate for o in outcomes) == 1
    assert PaymentNotification.select().count() == 1
    assert applied_count("EV-concurrent") == 1


def test_handler_reason_marks_the_notification_abnormal(database):
    notices.register_payment_handler(lambda notice: "AMOUNT_MISMATCH")
    outcome = notices.accept_notice(payment(amount_fen=1))
    row = PaymentNotification.get_by_id(outcome.record_id)
    assert outcome.status == row.status == "abnormal" and row.reason == "AMOUNT_MISMATCH"


def test_handler_failure_leaves_the_notice_received_for_a_retry(database):
    calls = []

    def flaky(notice):
        calls.append(notice)
        if len(calls) == 1:
            record_effect(notice)  # rolled back with the failure
            raise RuntimeError("order table locked")
        record_effect(notice)

    notices.register_payment_handler(flaky)
    with pytest.raises(RuntimeError):
        notices.accept_notice(payment())
    row = PaymentNotification.get()
    assert row.status == "received" and "RuntimeError" in row.reason
    assert applied_count("EV-1") == 0
    retry = notices.accept_notice(payment())
    assert retry.status == "processed" and not retry.duplicate
    assert applied_count("EV-1") == 1


def test_prepare_reads_outside_the_transaction_and_hands_its_reads_over(database):
    # What a handler reads before it writes is read before the transaction: on SQLite the
    # transaction holds the one write lock, for every writer.
    seen = []

    def prepare(notice):
        seen.append(("prepare", db.in_transaction()))
        return {"amount": notice.amount_fen}

    def apply(notice, reads):
        seen.append(("apply", db.in_transaction(), reads))
        record_effect(notice)

    notices.register_payment_handler(apply, prepare=prepare)
    assert notices.accept_notice(payment()).status == "processed"
    assert notices.accept_notice(payment()).duplicate  # a repeat prepares nothing
    assert seen == [("prepare", False), ("apply", True, {"amount": 1234})]
    assert applied_count("EV-1") == 1


def test_a_failed_prepare_leaves_the_notice_received_for_a_retry(database):
    calls = []

    def prepare(notice):
        calls.append(notice)
        if len(calls) == 1:
            raise RuntimeError("database gone")
        return "read"

    notices.register_payment_handler(lambda notice, reads: record_effect(notice),
                                     prepare=prepare)
    with pytest.raises(RuntimeError):
        notices.accept_notice(payment())
    row = PaymentNotification.get()
    assert row.status == "received" and "database gone" in row.reason
    retry = notices.accept_notice(payment())
    assert (retry.status, retry.duplicate) == ("processed", False)
    assert applied_count("EV-1") == 1


def test_dispatch_pending_applies_notices_recorded_without_a_handler(database):
    refund = RefundNotice(channel="alipay", notification_id="N-2", out_trade_no="T1",
                          transaction_id="2026112822001", out_refund_no="R1", refund_id="",
                          status="succeeded", refunded_total_fen=500)
    notices.accept_notice(payment())
    notices.accept_notice(refund)
    seen = []
    notices.register_payment_handler(seen.append)
    notices.register_refund_handler(seen.append)
    assert notices.dispatch_pending() == 2
    assert seen == [payment(), refund]
    assert notices.dispatch_pending() == 0
    assert {r.status for r in PaymentNotification.select()} == {"processed"}


def test_rejections_are_kept_without_a_notification_id(database):
    notices.record_rejection("alipay", "BAD_SIGNATURE")
    notices.record_rejection("alipay", "BAD_SIGNATURE")
    rows = list(PaymentNotification.select())
    assert len(rows) == 2 and {r.notification_id for r in rows} == {None}
    assert {r.status for r in rows} == {"rejected"}


def test_a_first_arrival_is_recorded_and_applied_in_one_transaction_and_a_repeat_writes_nothing(
        database, monkeypatch):
    notices.register_payment_handler(record_effect)
    opened = []

    def counting(begin):
        def counted(*args):
            opened.append(1)
            return begin(*args)
        return counted

    monkeypatch.setattr(notices, "transaction", counting(transaction))
    monkeypatch.setattr(notices, "pipelined_transaction", counting(pipelined_transaction))
    first = notices.accept_notice(payment("EV-once"))
    assert (first.status, first.duplicate, len(opened)) == ("processed", False, 1)

    def no_writes(*args):
        raise AssertionError("a repeat of a handled notice opened a transaction")

    monkeypatch.setattr(notices, "transaction", no_writes)
    monkeypatch.setattr(notices, "pipelined_transaction", no_writes)
    again = notices.accept_notice(payment("EV-once"))
    assert (again.record_id, again.status, again.duplicate) == (first.record_id, "processed", True)
    assert applied_count("EV-once") == 1
