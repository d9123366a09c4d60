"""The buyer is told: an order's payment reaches WeChat as a subscribe message."""
from alliance.notifications.models import OutboxMessage
from sandbox.models import SandboxSentMessage
from tests.orders_support import OrderTestCase


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
