"""The buyer is told: an order's payment reaches WeChat as a subscribe message."""
import threading
from unittest import mock

from alliance.notifications.models import OutboxMessage
from sandbox.models import SandboxSentMessage
from tests.orders_support import OrderTestCase
from wechat_handlers.messages import WechatMessageSender


class OrderNotificationTest(OrderTestCase):
    def test_paid_order_notification_is_delivered_as_a_subscribe_message(self):
        token = self.token("buyer")
        order = self.paid_order(token)
        # Delivered right after the payment's commit, by a worker of this server.
        message = self.wait_for(lambda: OutboxMessage.get_or_none(
            OutboxMessage.event == "order.paid", OutboxMessage.status.in_(("sent", "failed"))))
        assert message.status == "sent", message.last_error
        sent = self.wait_for(lambda: SandboxSentMessage.get_or_none(
            SandboxSentMessage.template_id == "sandbox-subscribe-order-paid"))
        assert order["order_no"] in sent.body and "老街面馆" in sent.body


class SlowWechatTest(OrderTestCase):
    """WeChat answering slowly holds the delivery threads, never the request workers."""

    env = {"ALLIANCE_WORKER_THREADS": "1", "ALLIANCE_DELIVERY_THREADS": "1"}

    def setUp(self):
        super().setUp()
        self.release = threading.Event()
        self.sending = threading.Event()
        real = WechatMessageSender.send_subscribe

        def slow_send(sender, *args, **kwargs):  # WeChat takes its time to answer
            self.sending.set()
            self.release.wait(30)
            return real(sender, *args, **kwargs)

        patcher = mock.patch.object(WechatMessageSender, "send_subscribe", slow_send)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(self.release.set)

    def test_requests_are_served_while_a_delivery_waits_for_wechat(self):
        token = self.token("buyer")
        order = self.paid_order(token)
        assert self.sending.wait(10)  # the order.paid message is on its way, held by WeChat
        # The only request worker is free: the buyer's next requests are answered now.
        assert self.get_order(token, order["order_no"])["status"] == "paid"
        assert self.api("GET", "/api/v1/me", token=token).status == 200
        assert OutboxMessage.get(OutboxMessage.event == "order.paid").status == "sending"
        self.release.set()
        message = self.wait_for(lambda: OutboxMessage.get_or_none(
            OutboxMessage.event == "order.paid", OutboxMessage.status == "sent"))
        assert message is not None
