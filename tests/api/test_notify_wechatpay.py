"""WeChat Pay API v3 notifications at /payments/wechatpay/notify, signed and encrypted as
WeChat Pay does (by its stand-in's key under WECHATPAY_PUBLIC_KEY_ID)."""
import asyncio
import contextlib
import json
import threading
import time
import uuid

from cryptography.hazmat.primitives.asymmetric import rsa
from wechatpayv3.utils import rsa_sign

from alliance.db import after_commit, connection, db, is_sqlite, transaction
from alliance.infra.models import KeyValue
from alliance.payments import notices
from tests.payments_support import PaymentTestCase, failing_once

PATH = "/payments/wechatpay/notify"
FAIL = {"code": "FAIL", "message": "失败"}


class WechatPayNotifyTest(PaymentTestCase):
    def setUp(self):
        super().setUp()
        self.stand_in = self.extras["wechatpay_sandbox"]

    def transaction(self, **changes) -> dict:
        plaintext = {"appid": self.settings.wechat_miniapp_appid,
                     "mchid": self.settings.wechatpay_mch_id, "out_trade_no": "T20261128000001",
                     "transaction_id": "4200000001202611280000000001", "trade_type": "JSAPI",
                     "trade_state": "SUCCESS", "trade_state_desc": "支付成功", "bank_type": "OTHERS",
                     "success_time": "2026-11-28T10:00:00+08:00", "payer": {"openid": "o-alice"},
                     "amount": {"total": 1234, "payer_total": 1234, "currency": "CNY",
                                "payer_currency": "CNY"}}
        plaintext.update(changes)
        return plaintext

    def body(self, plaintext=None, notify_id="EV-2026112800000001",
             event_type="TRANSACTION.SUCCESS", original_type="transaction") -> str:
        resource = self.stand_in.encrypt(plaintext or self.transaction(), original_type)
        return self.stand_in.notification_body(notify_id, event_type, "支付成功", resource)

    def post(self, body: str, **sign):
        headers = self.stand_in.signed_headers(body, **sign)
        return self.api("POST", PATH, body=body.encode(), headers=headers)

    def assert_rejected(self, response, status: int, reason: str) -> None:
        assert response.status == status, (response.status, response.body)
        assert response.json == FAIL
        rows = self.notifications()
        assert [(r.status, r.reason, r.notification_id) for r in rows] == [("rejected", reason, None)]

    def test_notify_with_a_timestamp_of_other_digits_is_stale_not_a_failure(self):
        # "²".isdigit() is true, int("²") raises: unsigned, it must not reach int().
        self.assert_rejected(self.post(self.body(), timestamp="²"), 400, "STALE_TIMESTAMP")

    def test_notify_signed_but_malformed_is_rejected_and_changes_nothing(self):
        bad = {
            "an amount beyond 64 bits": self.body(self.transaction(amount={"total": 2 ** 63})),
            "an amount in part fen": self.body(self.transaction(amount={"total": 1234.9})),
            "an amount as text": self.body(self.transaction(amount={"total": "1234"})),
            "a time before the calendar": self.body(self.transaction(
                success_time="0001-01-01T00:00:00+08:00")),
            "an order number that is a list": self.body(self.transaction(out_trade_no=["T1"])),
            "no id": self.body(notify_id=None),
            "an empty id": self.body(notify_id=""),
            "an id that is a list": self.body(notify_id=[1]),
            "nesting beyond any message": '{"a":' * 5000 + "1" + "}" * 5000,
        }
        for what, body in bad.items():
            with self.subTest(what):
                response = self.post(body)
                assert (response.status, response.json) == (400, FAIL), response.body
        rows = self.notifications()
        assert {(r.status, r.reason) for r in rows} == {("rejected", "MALFORMED")}
        assert len(rows) == len(bad)

    def test_notify_valid_payment_is_recorded_and_acknowledged(self):
        response = self.post(self.body())
        assert response.status == 204 and response.body == b""
        [row] = self.notifications()
        assert (row.kind, row.status, row.notification_id) == ("payment", "received",
                                                                "EV-2026112800000001")
        assert (row.out_trade_no, row.transaction_id, row.amount_fen) == (
            "T20261128000001", "4200000001202611280000000001", 1234)

    def test_notify_hands_the_verified_notice_to_the_registered_handler(self):
        seen = []
        notices.register_payment_handler(seen.append)
        assert self.post(self.body()).status == 204
        [notice] = seen
        assert (notice.channel, notice.out_trade_no, notice.amount_fen, notice.paid,
                notice.payer) == ("wechatpay", "T20261128000001", 1234, True, "o-alice")
        assert notice.paid_at.isoformat() == "2026-11-28T02:00:00"
        assert self.notifications()[0].status == "processed"

    def test_notify_duplicate_is_acknowledged_and_recorded_once(self):
        body = self.body()
        assert self.post(body).status == 204
        assert self.post(body).status == 204
        assert len(self.notifications()) == 1

    def test_notify_access_line_says_what_became_of_the_notification(self):
        body = self.body()
        with self.assertLogs("alliance.access", "INFO") as first:
            assert self.post(body).status == 204
        with self.assertLogs("alliance.access", "INFO") as again:
            assert self.post(body).status == 204
        [row] = self.notifications()
        [line], [repeat] = first.records, again.records
        assert (line.access["path"], line.access["notification"],
                line.access["outcome"]) == (PATH, row.id, row.status)
        assert (repeat.access["notification"], repeat.access["outcome"]) == (row.id, "duplicate")

    def test_notify_concurrent_duplicates_apply_once(self):
        def effect(notice):
            with transaction():
                KeyValue.create(key=f"applied:{uuid.uuid4().hex}", value=notice.notification_id)

        notices.register_payment_handler(effect)
        body = self.body()
        statuses = self.post_concurrently(PATH, body.encode(),
                                          self.stand_in.signed_headers(body), copies=6)
        assert statuses == [204] * 6
        assert len(self.notifications()) == 1
        with connection():
            assert KeyValue.select().where(KeyValue.key.startswith("applied:")).count() == 1

    def test_notify_repeat_of_a_settled_notification_needs_no_worker(self):
        # WeChat Pay retries while the workers are busy (a burst of payments): a copy of a
        # notification this process settled is answered at once, from the event loop.
        notices.register_payment_handler(lambda notice: None)
        body = self.body()
        assert self.post(body).status == 204
        executor, release = self.app.settings["ctx"].executor, threading.Event()
        busy = [executor.submit(release.wait, 30) for _ in range(self.settings.worker_threads)]
        try:
            repeat = self.fetch(PATH, method="POST", body=body.encode(),
                                headers=self.stand_in.signed_headers(body), request_timeout=3,
                                raise_error=False)
        finally:
            release.set()
            for job in busy:
                job.result()
        assert repeat.code == 204, repeat.body
        [row] = self.notifications()
        assert row.status == "processed"

    def handled_on(self, hold_turn_s: float = 0.0):
        """Post a notification, while another thread writes for ``hold_turn_s``; the thread
        that applied it, and what it registered to run after the commit ran on."""
        seen = {}

        def handler(notice):
            seen["applied"] = threading.current_thread()
            after_commit(lambda: seen.setdefault("after", threading.current_thread()))
            after_commit(lambda: seen.setdefault("quick", threading.current_thread()), quick=True)

        notices.register_payment_handler(handler)
        held, holder = threading.Event(), None
        if hold_turn_s:
            def hold():
                with transaction():
                    KeyValue.create(key="held", value="1")
                    held.set()
                    time.sleep(hold_turn_s)

            holder = threading.Thread(target=hold)
            holder.start()
            held.wait(10)
        try:
            assert self.post(self.body()).status == 204
        finally:
            if holder is not None:
                holder.join(10)
        assert self.notifications()[0].status == "processed"
        for _ in range(100):  # the after-commit work handed to a worker
            if "after" in seen:
                break
            time.sleep(0.01)
        return seen

    def test_notify_is_applied_on_the_event_loop_when_sqlite_lets_it_write(self):
        # On SQLite a worker's transaction waited for the GIL after each statement, while
        # holding the one write lock; the loop applies it in the writers' turn instead.
        seen = self.handled_on()
        loop = threading.current_thread()  # the test's IOLoop runs here
        if is_sqlite():
            assert seen["applied"] is loop and seen["quick"] is loop
            assert seen["after"] is not loop  # may block (a provider call): a worker's
        else:  # every statement a round trip: never on the loop
            assert seen["applied"] is not loop

    def test_notify_waits_on_the_loop_for_a_short_write_elsewhere(self):
        seen = self.handled_on(hold_turn_s=0.03)
        assert (seen["applied"] is threading.current_thread()) == is_sqlite()

    def test_notify_goes_to_a_worker_when_another_writer_holds_on(self):
        seen = self.handled_on(hold_turn_s=0.4)
        assert seen["applied"] is not threading.current_thread()
        with connection():
            assert KeyValue.get(KeyValue.key == "held").value == "1"

    def test_notices_waiting_for_the_turn_are_applied_together_in_one_turn(self):
        # With several processes the turn passes between them through a polled file lock:
        # the loop's writes that wait for it run one after another in one turn.
        applied = []
        notices.register_payment_handler(
            lambda notice: applied.append((notice.notification_id, threading.current_thread())))
        engine, taken = db.obj, []
        if is_sqlite():
            turn_at_once = engine.turn_at_once

            @contextlib.contextmanager
            def counted_turn():
                with turn_at_once():
                    taken.append(time.monotonic())
                    yield

            engine.turn_at_once = counted_turn
        held = threading.Event()

        def hold():
            with transaction():
                KeyValue.create(key="held", value="1")
                held.set()
                time.sleep(0.08)

        holder = threading.Thread(target=hold)
        holder.start()
        held.wait(10)
        bodies = [self.body(notify_id=f"EV-TOGETHER-{n}") for n in range(3)]

        async def post_all():
            return await asyncio.gather(*(
                self.http_client.fetch(self.get_url(PATH), method="POST", body=body.encode(),
                                       headers=self.stand_in.signed_headers(body),
                                       raise_error=False) for body in bodies))

        try:
            responses = self.io_loop.run_sync(post_all)
        finally:
            holder.join(10)
            engine.__dict__.pop("turn_at_once", None)
        assert [r.code for r in responses] == [204, 204, 204]
        assert sorted(n for n, _ in applied) == [f"EV-TOGETHER-{n}" for n in range(3)]
        if is_sqlite():
            assert {thread for _, thread in applied} == {threading.current_thread()}
            assert len(taken) == 1  # one turn for the three

    def test_notify_handler_failure_answers_fail_and_the_retry_applies_it(self):
        calls = []
        notices.register_payment_handler(failing_once(calls))
        body = self.body()
        failed = self.post(body)
        assert failed.status == 500 and failed.json == FAIL
        assert self.notifications()[0].status == "received"
        assert self.post(body).status == 204
        assert self.notifications()[0].status == "processed" and len(calls) == 2

    def test_notify_refund_is_recorded_as_a_refund(self):
        plaintext = {"mchid": self.settings.wechatpay_mch_id, "out_trade_no": "T20261128000001",
                     "transaction_id": "4200000001202611280000000001", "out_refund_no": "R1",
                     "refund_id": "50000000382019052709732678859", "refund_status": "SUCCESS",
                     "success_time": "2026-11-28T11:00:00+08:00",
                     "user_received_account": "支付用户零钱",
                     "amount": {"total": 1234, "refund": 300, "payer_total": 1234,
                                "payer_refund": 300}}
        body = self.body(plaintext, "EV-R1", "REFUND.SUCCESS", "refund")
        assert self.post(body).status == 204
        [row] = self.notifications()
        assert (row.kind, row.out_refund_no, row.amount_fen) == ("refund", "R1", 300)

    def test_notify_forged_signature_is_rejected(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        body = self.body()
        timestamp = int(time.time())
        headers = self.stand_in.signed_headers(body, timestamp)
        headers["Wechatpay-Signature"] = rsa_sign(
            other, f"{timestamp}\n{headers['Wechatpay-Nonce']}\n{body}\n")
        response = self.api("POST", PATH, body=body.encode(), headers=headers)
        self.assert_rejected(response, 401, "BAD_SIGNATURE")

    def test_notify_body_changed_after_signing_is_rejected(self):
        body = self.body()
        headers = self.stand_in.signed_headers(body)
        forged = body.replace("EV-2026112800000001", "EV-2026112800000002")
        response = self.api("POST", PATH, body=forged.encode(), headers=headers)
        self.assert_rejected(response, 401, "BAD_SIGNATURE")

    def test_notify_signature_probe_is_rejected(self):
        response = self.post(self.body(), signature="WECHATPAY/SIGNTEST/" + "A" * 64)
        self.assert_rejected(response, 401, "SIGNATURE_PROBE")

    def test_notify_without_signature_headers_is_rejected(self):
        response = self.api("POST", PATH, body=self.body().encode(),
                            headers={"Content-Type": "application/json"})
        self.assert_rejected(response, 401, "BAD_SIGNATURE")

    def test_notify_with_an_unknown_serial_is_rejected(self):
        body = self.body()
        headers = {**self.stand_in.signed_headers(body), "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A72"}
        response = self.api("POST", PATH, body=body.encode(), headers=headers)
        self.assert_rejected(response, 401, "UNKNOWN_SERIAL")

    def test_notify_with_a_stale_timestamp_is_rejected(self):
        response = self.post(self.body(), timestamp=int(time.time()) - 360)
        self.assert_rejected(response, 400, "STALE_TIMESTAMP")

    def test_notify_from_the_future_is_rejected(self):
        response = self.post(self.body(), timestamp=int(time.time()) + 360)
        self.assert_rejected(response, 400, "STALE_TIMESTAMP")

    def test_notify_within_the_time_window_is_accepted(self):
        assert self.post(self.body(), timestamp=int(time.time()) - 240).status == 204

    def test_notify_for_another_merchant_is_rejected(self):
        response = self.post(self.body(self.transaction(mchid="1900000999")))
        self.assert_rejected(response, 400, "MCHID_MISMATCH")

    def test_notify_for_another_app_is_rejected(self):
        response = self.post(self.body(self.transaction(appid="wx0000000000000999")))
        self.assert_rejected(response, 400, "APPID_MISMATCH")

    def test_notify_with_tampered_ciphertext_is_rejected(self):
        event = json.loads(self.body())
        ciphertext = event["resource"]["ciphertext"]
        event["resource"]["ciphertext"] = ("B" if ciphertext[0] == "A" else "A") + ciphertext[1:]
        response = self.post(json.dumps(event))  # signed after tampering: only AEAD catches it
        self.assert_rejected(response, 400, "DECRYPT_FAILED")

    def test_notify_with_malformed_json_is_rejected(self):
        self.assert_rejected(self.post("{not json"), 400, "MALFORMED")

    def test_notify_of_an_unknown_event_is_rejected(self):
        response = self.post(self.body(event_type="MARKETING.CREATED"))
        self.assert_rejected(response, 400, "UNSUPPORTED_EVENT")

    def count_verifications(self) -> list:
        """The bodies whose signature the gateway checks from now on."""
        import payments.wechatpay_v3 as v3

        verified, real = [], v3.rsa_verify

        def counting(*args):
            verified.append(args[2])
            return real(*args)

        v3.rsa_verify = counting
        self.addCleanup(setattr, v3, "rsa_verify", real)
        return verified

    def test_a_copy_of_a_verified_notification_is_not_verified_again(self):
        # WeChat Pay sends copies of one notification, often at once: the same headers and
        # body give what the first copy's signature check and decryption gave.
        verified = self.count_verifications()
        body = self.body()
        headers = self.stand_in.signed_headers(body)
        for _ in range(3):
            response = self.api("POST", PATH, body=body.encode(), headers=headers)
            assert response.status == 204, response.body
        assert len(verified) == 1
        assert [(r.status, r.notification_id) for r in self.notifications()] == [
            ("received", "EV-2026112800000001")]

    def test_a_copy_still_has_its_timestamp_and_its_bytes_checked(self):
        verified = self.count_verifications()
        body = self.body()
        headers = self.stand_in.signed_headers(body)
        assert self.api("POST", PATH, body=body.encode(), headers=headers).status == 204
        # Another body under the same signature is verified, and refused.
        tampered = body.replace("EV-2026112800000001", "EV-2026112800000002")
        response = self.api("POST", PATH, body=tampered.encode(), headers=headers)
        assert response.status == 401 and len(verified) == 2
        # The same copy once its timestamp is stale is refused, as any would be.
        gateway = self.gateway("wechatpay")
        clock = gateway._clock
        gateway._clock = lambda: clock() + 360
        self.addCleanup(setattr, gateway, "_clock", clock)
        response = self.api("POST", PATH, body=body.encode(), headers=headers)
        assert response.status == 400 and response.json == FAIL
        assert [r.reason for r in self.notifications() if r.status == "rejected"] == [
            "BAD_SIGNATURE", "STALE_TIMESTAMP"]
