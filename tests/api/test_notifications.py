"""Notifications through the real WeChat adapter and the sandbox's message APIs."""
import asyncio
import time

import requests
from tornado.ioloop import IOLoop

from alliance.db import connection, transaction
from alliance.notifications.delivery import deliver_due
from alliance.notifications.models import OutboxMessage
from tests.payments_support import ProviderCalls
from tests.support import ApiTestCase

PAID = {"order_no": "A1", "amount_fen": 990, "merchant_name": "面馆",
        "paid_at": "2026-11-28T06:05:00+00:00"}


class NotificationDeliveryTest(ApiTestCase):
    def in_worker(self, fn, *args):
        """Run blocking work off the loop while the loop serves the sandbox."""
        def call():
            with connection():
                return fn(*args)

        return self.io_loop.run_sync(lambda: IOLoop.current().run_in_executor(None, call),
                                     timeout=30)

    def notify(self, user_id: int, key: str) -> None:
        ctx = self.app.settings["ctx"]

        def write():
            with transaction():
                ctx.notifier.notify("order.paid", user_id=user_id, data=PAID, dedupe_key=key)

        self.in_worker(write)

    def inbox(self) -> list:
        return self.api("GET", "/_sandbox/wechat/_control/messages").json["items"]

    def wait_for(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            self.io_loop.run_sync(lambda: asyncio.sleep(0.05))
        raise AssertionError("condition not met in time")

    def statuses(self) -> list:
        return self.in_worker(lambda: [m.status for m in OutboxMessage.select()])

    def test_notification_is_delivered_promptly_after_commit(self):
        user = self.login("alice")["user"]
        self.notify(user["id"], "paid-A1")
        [message] = self.wait_for(self.inbox)
        assert message["kind"] == "subscribe"
        assert message["body"]["data"]["character_string1"] == {"value": "A1"}
        assert self.wait_for(lambda: self.statuses() == ["sent"])

    def test_refused_subscribe_message_reaches_the_follower_once(self):
        user = self.login("bob")["user"]
        self.api("POST", "/_sandbox/wechat/_control/oa-push", {"name": "bob", "event": "subscribe"})
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "subscribe/send", "errcode": 43101, "count": 5})
        self.notify(user["id"], "paid-B1")
        [message] = self.wait_for(self.inbox)
        assert message["kind"] == "template" and message["client_msg_id"].startswith("outbox-")
        assert self.wait_for(lambda: self.statuses() == ["sent"])
        channels = self.app.settings["ctx"].outbox_channels
        assert self.in_worker(deliver_due, channels).sent == 0
        assert len(self.inbox()) == 1

    def test_busy_wechat_leaves_the_message_for_a_retry(self):
        user = self.login("carol")["user"]
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "subscribe/send", "errcode": -1})
        self.notify(user["id"], "paid-C1")
        assert self.wait_for(lambda: self.statuses() == ["pending"])
        assert self.inbox() == []

    def test_bad_data_47003_is_recorded_as_failed(self):
        user = self.login("dan")["user"]
        self.api("POST", "/_sandbox/wechat/_control/faults",
                 {"api": "subscribe/send", "errcode": 47003})
        self.notify(user["id"], "paid-D1")
        assert self.wait_for(lambda: self.statuses() == ["failed"])
        errors = self.in_worker(lambda: [m.last_error for m in OutboxMessage.select()])
        assert errors == ["subscribe:47003"]


class SandboxMessageApiTest(ProviderCalls, ApiTestCase):
    """The stand-in's message APIs as WeChat answers them (one transaction each)."""

    def send(self, kind: str, token: str, body: dict) -> dict:
        return self.api("POST", f"/_sandbox/wechat/cgi-bin/message/{kind}/send"
                        f"?access_token={token}", body).json

    def access_token(self) -> str:
        return self.api("POST", "/_sandbox/wechat/cgi-bin/stable_token", {
            "grant_type": "client_credential", "appid": self.settings.wechat_oa_appid,
            "secret": self.settings.wechat_oa_secret}).json["access_token"]

    def test_first_sends_at_once_are_all_taken_and_counted(self):
        # The first calls of an API create its counter: on MariaDB, created inside each
        # call's transaction, they deadlocked and some answered 500 (a round of first calls
        # after each reset of the counters).
        from sandbox.models import SandboxApiCall

        url = self.get_url(f"/_sandbox/wechat/cgi-bin/message/subscribe/send"
                           f"?access_token={self.access_token()}")
        for round_ in range(10):
            with transaction():
                SandboxApiCall.delete().execute()
            answers = self.run_together(12, lambda i: requests.post(url, json={
                "touser": f"o-user-{i}", "template_id": "TPL",
                "data": {"thing1": {"value": "面馆"}}}, timeout=20))
            assert [(a.status_code, a.json().get("errcode")) for a in answers] == [(200, 0)] * 12
            calls = self.api("GET", "/_sandbox/wechat/_control/calls").json
            assert calls["subscribe/send"] == 12, round_
        inbox = self.api("GET", "/_sandbox/wechat/_control/messages").json["items"]
        assert len(inbox) == 10 * 12

    def test_template_send_is_one_message_per_client_msg_id(self):
        token = self.access_token()
        follower = self.api("POST", "/_sandbox/wechat/_control/oa-users",
                            {"name": "carol"}).json["openid"]
        body = {"touser": follower, "template_id": "TPL", "client_msg_id": "outbox-7",
                "data": {"thing1": {"value": "面馆"}}}
        first, again = self.send("template", token, body), self.send("template", token, body)
        assert first["errcode"] == 0 and again == first
        assert self.send("template", "not-a-token", body)["errcode"] == 40001
        assert self.send("template", token, {**body, "touser": "nobody"})["errcode"] == 40003
        assert self.send("subscribe", token, {**body, "data": "x"})["errcode"] == 47003
        inbox = self.api("GET", "/_sandbox/wechat/_control/messages").json["items"]
        assert [m["client_msg_id"] for m in inbox] == ["outbox-7"]
        calls = self.api("GET", "/_sandbox/wechat/_control/calls").json
        assert (calls["template/send"], calls["subscribe/send"]) == (4, 1)
