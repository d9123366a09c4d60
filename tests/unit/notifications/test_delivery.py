"""Outbox delivery: after commit, retried with backoff, permanent refusals kept, sent once."""
import dataclasses
import datetime as dt
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from alliance.accounts.models import User, WechatIdentity
from alliance.db import connection, is_mysql, transaction, utcnow
from alliance.notifications.delivery import (MAX_ATTEMPTS, Channels, SentOutcomes, deliver_due,
                                             deliver_handed_over,
                                             deliver_handed_over_together, deliver_one,
                                             deliver_soon)
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from alliance.notifications.templates import (SANDBOX_OA_TEMPLATES, SANDBOX_SUBSCRIBE_TEMPLATES,
                                              TemplateBook)
from alliance.officialaccount.models import OaFollower
from alliance.ports import SendFailed
from server.deliveries import PromptDelivery, read_ids
from tests.support import recorded_sql

MINIAPP = "wxminiapp"
PAID = {"order_no": "A20261128001", "amount_fen": 12550, "merchant_name": "老王家手工拉面馆·上海人民广场旗舰店二楼东侧",
        "paid_at": "2026-11-28T06:05:00+00:00"}


class FakeSender:
    """Records what it sends; ``failures`` are raised, in order, before anything succeeds."""

    def __init__(self, *failures: SendFailed, delay: float = 0.0):
        self.failures, self.delay = list(failures), delay
        self.sent: list[tuple] = []
        self.lock = threading.Lock()

    def _next(self, record: tuple) -> None:
        time.sleep(self.delay)
        with self.lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(record)

    def send_subscribe(self, openid, template_id, data, page):
        self._next(("subscribe", openid, template_id, data, page))

    def send_template(self, openid, template_id, data, *, miniprogram_page, client_msg_id):
        self._next(("oa", openid, template_id, data, client_msg_id))


def channels(sender) -> Channels:
    return Channels(sender=sender, miniapp_appid=MINIAPP,
                    templates=TemplateBook(SANDBOX_SUBSCRIBE_TEMPLATES, SANDBOX_OA_TEMPLATES))


def consumer(miniapp: bool = True, follower: bool = False) -> int:
    user = User.create(nickname="c")
    if miniapp:
        WechatIdentity.create(appid=MINIAPP, openid=f"mini-{user.id}", user=user)
    if follower:
        OaFollower.create(openid=f"oa-{user.id}", user=user, subscribed=True)
    return user.id


def notify(user_id: int, event: str = "order.paid", data: dict = PAID, key: str | None = None) -> int:
    with transaction():
        OutboxNotifier().notify(event, user_id=user_id, data=data, dedupe_key=key)
    return OutboxMessage.select().order_by(OutboxMessage.id.desc()).first().id


def row(message_id: int) -> OutboxMessage:
    return OutboxMessage.get_by_id(message_id)


def test_due_message_goes_out_as_a_subscribe_message(database):
    message_id = notify(consumer())
    sender = FakeSender()
    report = deliver_due(channels(sender))
    assert report.sent == 1 and row(message_id).status == "sent"
    kind, openid, template_id, data, page = sender.sent[0]
    assert (kind, template_id) == ("subscribe", "sandbox-subscribe-order-paid")
    assert data["amount3"] == "125.50元" and data["time4"] == "2026-11-28 14:05"
    assert len(data["thing2"]) == 20 and data["thing2"].endswith("…")
    assert page == "pages/order/detail?order_no=A20261128001"
    assert row(message_id).channel == "subscribe"
    assert deliver_due(channels(sender)).sent == 0 and len(sender.sent) == 1


def test_transient_failure_is_retried_later_with_backoff(database):
    message_id = notify(consumer())
    sender = FakeSender(SendFailed("-1", "system busy", permanent=False))
    assert deliver_due(channels(sender)).retried == 1
    message = row(message_id)
    assert message.status == "pending" and message.attempts == 1 and "-1" in message.last_error
    assert message.next_attempt_at > utcnow() + dt.timedelta(seconds=20)
    assert deliver_due(channels(sender)).sent == 0  # not due yet
    later = utcnow() + dt.timedelta(seconds=31)
    assert deliver_due(channels(sender), now=later).sent == 1
    assert row(message_id).status == "sent" and len(sender.sent) == 1


def test_backoff_doubles_and_gives_up_after_the_last_attempt(database):
    message_id = notify(consumer())
    sender = FakeSender(*[SendFailed("45009", permanent=False)] * MAX_ATTEMPTS)
    delays, now = [], utcnow()
    for _ in range(MAX_ATTEMPTS):
        deliver_one(channels(sender), message_id, now=now)
        message = row(message_id)
        if message.status == "pending":
            delays.append(round((message.next_attempt_at - utcnow()).total_seconds() / 10) * 10)
            now = message.next_attempt_at
    assert delays[:3] == [30, 60, 120] and row(message_id).status == "failed"
    assert row(message_id).last_error.startswith(f"gave up after {MAX_ATTEMPTS}")


def test_user_refusal_43101_is_permanent_and_not_retried(database):
    message_id = notify(consumer())
    sender = FakeSender(SendFailed("43101", "user refuse to accept the msg", permanent=True))
    assert deliver_due(channels(sender)).failed == 1
    message = row(message_id)
    assert message.status == "failed" and message.last_error == "subscribe:43101"
    assert deliver_due(channels(sender), now=utcnow() + dt.timedelta(days=1)).failed == 0
    assert sender.sent == []


def test_refused_subscribe_message_falls_back_to_the_official_account(database):
    user_id = consumer(follower=True)
    message_id = notify(user_id)
    sender = FakeSender(SendFailed("43101", permanent=True))
    assert deliver_due(channels(sender)).sent == 1
    kind, openid, template_id, data, client_msg_id = sender.sent[0]
    assert (kind, openid, client_msg_id) == ("oa", f"oa-{user_id}", f"outbox-{message_id}")
    assert data["keyword1"] == "A20261128001"
    assert row(message_id).channel == "oa"


def test_user_without_wechat_identity_is_failed(database):
    message_id = notify(consumer(miniapp=False))
    deliver_due(channels(FakeSender()))
    assert row(message_id).status == "failed" and "no_channel" in row(message_id).last_error


def test_event_missing_a_field_is_failed_without_sending(database):
    message_id = notify(consumer(), data={"order_no": "A1"})
    sender = FakeSender()
    deliver_due(channels(sender))
    assert row(message_id).status == "failed" and "amount_fen" in row(message_id).last_error
    assert sender.sent == []


def test_message_is_sent_once_under_two_concurrent_deliverers(database):
    ids = [notify(consumer()) for _ in range(6)]
    sender = FakeSender(delay=0.05)
    barrier = threading.Barrier(2)

    def run():
        barrier.wait()
        deliver_due(channels(sender))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sender.sent) == 6
    assert len({record[1] for record in sender.sent}) == 6
    assert all(row(i).status == "sent" and row(i).attempts == 1 for i in ids)


def test_abandoned_claim_is_delivered_after_its_lease(database):
    message_id = notify(consumer())
    OutboxMessage.update(status="sending", attempts=1,
                         next_attempt_at=utcnow() - dt.timedelta(seconds=1)).execute()
    sender = FakeSender()
    assert deliver_due(channels(sender)).sent == 1 and row(message_id).attempts == 2


def test_claimed_message_is_not_taken_by_another_deliverer(database):
    message_id = notify(consumer())
    OutboxMessage.update(status="sending", attempts=1,
                         next_attempt_at=utcnow() + dt.timedelta(seconds=60)).execute()
    assert deliver_one(channels(FakeSender()), message_id) is None


def test_notifier_hands_the_message_over_after_commit(database):
    user_id = consumer()
    sender = FakeSender()
    executor = ThreadPoolExecutor(2)
    futures = []
    notifier = OutboxNotifier(dispatch=lambda mid: futures.append(
        executor.submit(deliver_soon, channels(sender), mid)))
    with transaction():
        notifier.notify("coupon.expiring", user_id=user_id, dedupe_key="c1",
                        data={"coupon_name": "满100减20", "merchant_name": "影院",
                              "valid_until": "2026-12-01T00:00:00+08:00"})
        assert futures == []  # nothing leaves before the commit
    for future in futures:
        future.result(timeout=10)
    executor.shutdown()
    assert [record[0] for record in sender.sent] == ["subscribe"]
    assert OutboxMessage.get().status == "sent"
    assert json.loads(OutboxMessage.get().payload)["coupon_name"] == "满100减20"


def test_rolled_back_notification_is_never_handed_over(database):
    handed = []
    notifier = OutboxNotifier(dispatch=handed.append)
    try:
        with transaction():
            notifier.notify("order.paid", user_id=consumer(), data=PAID)
            raise RuntimeError("payment rejected")
    except RuntimeError:
        pass
    assert handed == [] and OutboxMessage.select().count() == 0


def test_failing_hand_over_leaves_the_message_due(database):
    def broken(message_id):
        raise RuntimeError("executor shut down")

    with transaction():
        OutboxNotifier(dispatch=broken).notify("order.paid", user_id=consumer(), data=PAID)
    assert OutboxMessage.get().status == "pending"
    with connection():
        assert deliver_due(channels(FakeSender())).sent == 1


def handed_over(user_id: int) -> OutboxMessage:
    """A message written by a notifier with a prompt dispatcher; what it handed over."""
    handed = []
    with transaction():
        OutboxNotifier(dispatch=handed.append).notify("order.paid", user_id=user_id, data=PAID)
    [message] = handed
    return message


def test_message_handed_over_for_prompt_delivery_is_not_swept_meanwhile(database):
    message = handed_over(consumer())
    stored = row(message.id)
    assert (stored.status, stored.attempts) == ("sending", 1)  # claimed as written
    sender = FakeSender()
    assert deliver_due(channels(sender)).sent == 0  # the prompt delivery holds it
    deliver_soon(channels(sender), message)
    assert len(sender.sent) == 1
    assert (row(message.id).status, row(message.id).attempts) == ("sent", 1)
    assert deliver_due(channels(sender), now=utcnow() + dt.timedelta(minutes=5)).sent == 0


def test_prompt_delivery_that_never_ran_is_swept_after_its_lease(database):
    message = handed_over(consumer())
    sender = FakeSender()
    report = deliver_due(channels(sender), now=utcnow() + dt.timedelta(seconds=61))
    assert report.sent == 1 and len(sender.sent) == 1 and row(message.id).attempts == 2


def test_late_prompt_delivery_never_sends_what_the_sweep_took(database):
    message = handed_over(consumer())
    sender = FakeSender()
    # The worker got to it only after the lease ran out and the sweep had delivered it.
    OutboxMessage.update(next_attempt_at=utcnow() - dt.timedelta(seconds=1)).execute()
    assert deliver_due(channels(sender)).sent == 1
    message.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    deliver_soon(channels(sender), message)
    assert len(sender.sent) == 1 and row(message.id).status == "sent"


def test_prompt_delivery_with_little_lease_left_waits_for_the_sweep(database):
    message = handed_over(consumer())
    message.next_attempt_at = utcnow() + dt.timedelta(seconds=10)  # queued for 50 s
    sender = FakeSender()
    deliver_soon(channels(sender), message)
    assert sender.sent == [] and row(message.id).status == "sending"
    assert deliver_due(channels(sender), now=utcnow() + dt.timedelta(seconds=61)).sent == 1


def test_message_handed_over_by_id_is_delivered_once(database):
    # What the server's delivery process does with an id read from its pipe.
    message = handed_over(consumer())
    sender = FakeSender()
    deliver_handed_over(channels(sender), message.id)
    deliver_handed_over(channels(sender), message.id)  # sent already: left alone
    deliver_handed_over(channels(sender), message.id + 1000)  # unknown: left alone
    assert len(sender.sent) == 1 and row(message.id).status == "sent"


def test_a_handed_over_message_costs_one_read_and_one_write(database):
    # The delivery process sends every payment's message: the message is read with its
    # user's mini-program openid, and the outcome is one guarded UPDATE, which MySQL runs
    # without a transaction's BEGIN and COMMIT round trips (SQLite in its writers' turn).
    message = handed_over(consumer())
    sender = FakeSender()
    with recorded_sql() as statements:
        deliver_handed_over(channels(sender), message.id)
    assert sender.sent[0][1] == f"mini-{message.user_id}"
    read, write = statements
    assert read.sql.startswith("SELECT") and 'JOIN "wechat_identity"' in read.sql
    assert write.sql.startswith('UPDATE "outbox_message"')
    assert write.in_transaction is not is_mysql()
    assert row(message.id).status == "sent"


def test_a_handed_over_message_of_a_user_without_a_miniapp_identity_goes_to_the_oa(database):
    message = handed_over(consumer(miniapp=False, follower=True))
    sender = FakeSender()
    deliver_handed_over(channels(sender), message.id)
    assert [s[:2] for s in sender.sent] == [("oa", f"oa-{message.user_id}")]
    assert row(message.id).status == "sent"


class RecordingPool:
    """Stands in for the server's delivery threads: records what it is given."""

    def __init__(self):
        self.submitted = []

    def submit(self, fn, *args):
        self.submitted.append(args[-1].id)


def test_prompt_delivery_hands_ids_to_the_delivery_process_pipe(database):
    reader, writer = os.pipe()
    pool = RecordingPool()
    dispatch = PromptDelivery(channels(FakeSender()), pool)
    dispatch.attach(writer)
    with transaction():
        notifier = OutboxNotifier(dispatch=dispatch)
        for n in range(3):
            notifier.notify("order.paid", user_id=consumer(), data=PAID, dedupe_key=f"k{n}")
    ids = [m.id for m in OutboxMessage.select().order_by(OutboxMessage.id)]
    # Read as two delivery processes sharing the pipe would: each read takes whole ids.
    assert read_ids(reader, at_most=2) == ids[:2]
    assert read_ids(reader, at_most=2) == ids[2:]
    assert pool.submitted == []
    os.close(writer)
    assert read_ids(reader) is None  # every writer gone
    os.close(reader)


def test_prompt_delivery_sends_here_when_the_pipe_is_full_or_gone(database):
    reader, writer = os.pipe()
    pool = RecordingPool()
    dispatch = PromptDelivery(channels(FakeSender()), pool)
    dispatch.attach(writer)
    for chunk in (b"0\n" * 1024, b"\n"):  # a delivery process far behind: the pipe full
        while True:
            try:
                os.write(writer, chunk)
            except BlockingIOError:
                break
    first = handed_over(consumer())
    dispatch(first)
    os.close(reader)  # a delivery process gone with its pipe
    second = handed_over(consumer())
    dispatch(second)
    assert pool.submitted == [first.id, second.id]
    os.close(writer)


def test_sent_outcomes_of_concurrent_deliveries_are_all_recorded(database):
    messages = [handed_over(consumer()) for _ in range(12)]
    sender = FakeSender(delay=0.01)
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda m: deliver_handed_over(channels(sender), m.id), messages))
    assert len(sender.sent) == 12
    assert {row(m.id).status for m in messages} == {"sent"}
    assert {row(m.id).channel for m in messages} == {"subscribe"}


def test_ids_read_together_from_the_pipe_cost_one_read(database):
    # The delivery process reads the ids that gathered on its pipe and their messages with
    # one query; each one still being sent goes to a delivery thread.
    messages = [handed_over(consumer()) for _ in range(3)]
    sender = FakeSender()
    deliver_handed_over(channels(sender), messages[0].id)  # sent already: left alone
    submitted = []
    ids = [m.id for m in messages] + [messages[-1].id + 1000]  # and one unknown
    with recorded_sql() as statements:
        deliver_handed_over_together(channels(sender), ids,
                                     lambda fn, *args: submitted.append((fn, args)))
    [read] = statements
    assert read.sql.startswith("SELECT") and 'JOIN "wechat_identity"' in read.sql
    assert [args[1].id for _, args in submitted] == [m.id for m in messages[1:]]
    assert [args[2] for _, args in submitted] == [f"mini-{m.user_id}" for m in messages[1:]]
    for fn, args in submitted:
        fn(*args)
    assert len(sender.sent) == 3 and {row(m.id).status for m in messages} == {"sent"}


def test_sent_outcomes_of_a_delivery_process_are_recorded_together(database):
    messages = [handed_over(consumer()) for _ in range(6)]
    outcomes = SentOutcomes(interval=60)  # recorded when asked, here
    sender = FakeSender(delay=0.01)
    with ThreadPoolExecutor(3) as pool:
        deliver_handed_over_together(
            dataclasses.replace(channels(sender), record_sent=outcomes), [m.id for m in messages],
            pool.submit)
    assert len(sender.sent) == 6 and {row(m.id).status for m in messages} == {"sending"}
    with recorded_sql() as statements:
        assert outcomes.record() == 6
    assert [s.sql.split(" ", 1)[0] for s in statements] == ["UPDATE"]
    assert {(row(m.id).status, row(m.id).channel) for m in messages} == {("sent", "subscribe")}
    assert all(row(m.id).sent_at is not None for m in messages)
    assert outcomes.record() == 0  # nothing left


def test_a_sent_outcome_never_overwrites_a_deliverer_that_took_over(database):
    late, on_time = handed_over(consumer()), handed_over(consumer())
    outcomes = SentOutcomes(interval=60)
    outcomes(late, "subscribe")
    outcomes(on_time, "oa")
    # The late one's lease ran out meanwhile: the sweep claimed it again (a new attempt).
    with transaction():
        (OutboxMessage.update(attempts=OutboxMessage.attempts + 1)
         .where(OutboxMessage.id == late.id).execute())
    assert outcomes.record() == 1
    assert (row(late.id).status, row(late.id).attempts) == ("sending", 2)
    assert (row(on_time.id).status, row(on_time.id).channel) == ("sent", "oa")


def test_sent_outcomes_left_are_recorded_when_the_delivery_process_stops(database):
    message = handed_over(consumer())
    outcomes = SentOutcomes(interval=60).start()
    outcomes(message, "subscribe")
    outcomes.stop()
    assert row(message.id).status == "sent"


class ThreadRecordingSender(FakeSender):
    """Records which threads sent."""

    def __init__(self, delay: float = 0.0):
        super().__init__(delay=delay)
        self.threads: set[str] = set()

    def send_subscribe(self, openid, template_id, data, page):
        self.threads.add(threading.current_thread().name)
        super().send_subscribe(openid, template_id, data, page)


def test_a_sweep_with_time_sends_batch_after_batch_on_the_delivery_threads(database):
    # A promotion queues thousands of messages: one batch of them, one at a time, every
    # 10 s took a promotion to 100,000 consumers over 80 minutes.
    messages = [notify(consumer()) for _ in range(25)]
    sender = ThreadRecordingSender(delay=0.01)
    with ThreadPoolExecutor(4, thread_name_prefix="sweep") as executor:
        report = deliver_due(channels(sender), batch=10, executor=executor, budget_s=30)
    assert report.sent == 25 and sorted(report.outcomes) == messages
    assert len(sender.sent) == 25 and len(sender.threads) > 1
    assert {row(message_id).status for message_id in messages} == {"sent"}


def test_a_sweep_without_time_sends_one_batch(database):
    for _ in range(5):
        notify(consumer())
    sender = FakeSender()
    assert deliver_due(channels(sender), batch=3).sent == 3
    assert deliver_due(channels(sender), batch=3).sent == 2 and len(sender.sent) == 5


def test_sweeps_running_at_once_send_each_message_once(database):
    messages = [notify(consumer()) for _ in range(30)]
    sender = FakeSender(delay=0.005)

    def sweep():
        with ThreadPoolExecutor(3) as executor:
            return deliver_due(channels(sender), batch=7, executor=executor, budget_s=30)

    with ThreadPoolExecutor(2) as sweeps:
        reports = list(sweeps.map(lambda _: sweep(), range(2)))
    assert sum(report.sent for report in reports) == 30
    assert len(sender.sent) == 30  # none twice
    assert {row(message_id).status for message_id in messages} == {"sent"}
