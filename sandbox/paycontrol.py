"""What the three payment stand-ins share at their edges: the "buyer pays" control action
and the completion of refunds, both ending in notifications delivered as the provider does."""
from __future__ import annotations

import asyncio
from typing import Protocol

from tornado.ioloop import IOLoop

from sandbox import delivery, trades
from sandbox.base import SandboxHandler
from sandbox.delivery import Notification
from sandbox.models import SandboxRefund, SandboxTrade

MAX_DUPLICATES = 10
MAX_DELAY_S = 300.0
REFUND_SETTLE_S = 0.2  # how long a refund stays PROCESSING before the money is back


class PaymentStandIn(Protocol):
    provider: str

    def pay(self, body: dict) -> tuple[SandboxTrade, Notification]:
        """The buyer pays the trade the control body names; its payment notification."""

    def refund_notification(self, refund: SandboxRefund) -> Notification | None:
        """The notification of a finished refund (None when the provider sends none)."""


class PayControlHandler(SandboxHandler):
    """``POST {"out_trade_no", "duplicates"?, "delay_s"?, "wait"?, "amount_fen"?,
    "signed_by"?}``.

    Marks the trade paid and delivers its notification, signed as the provider signs it, to
    the notify URL the trade was opened with: ``duplicates`` more copies concurrently,
    after ``delay_s``, retried until accepted. ``amount_fen`` pays the trade for another
    total (to exercise amount checks). WeChat Pay v3: ``"signed_by": "certificate"`` signs
    the notification under the platform certificate instead of the public key. With ``wait`` the answer (200) carries each delivery's
    outcome; otherwise it is 202 and the deliveries run in the background.
    """

    def initialize(self, stand_in: str) -> None:
        self.stand_in_key = stand_in

    async def post(self):
        body = self.json_body()
        try:
            duplicates = int(body.get("duplicates", 0))
            delay_s = float(body.get("delay_s", 0))
        except (TypeError, ValueError):
            duplicates, delay_s = -1, -1.0
        if not (0 <= duplicates <= MAX_DUPLICATES and 0 <= delay_s <= MAX_DELAY_S):
            self.write_json({"code": "PARAM_ERROR", "message":
                             f"duplicates 0..{MAX_DUPLICATES}, delay_s 0..{MAX_DELAY_S:g}"}, 400)
            return
        stand_in: PaymentStandIn = self.ctx.extras[self.stand_in_key]
        try:
            trade, notification = await self.run_sync(stand_in.pay, body)
        except trades.TradeError as exc:
            status = {"NOT_FOUND": 404, "INVALID_ORDER_STRING": 400}.get(exc.reason, 409)
            self.write_json({"code": exc.reason, "message": "trade cannot be paid"}, status)
            return
        wait = bool(body.get("wait"))
        outcomes = await delivery.send([notification] * (1 + duplicates), delay_s=delay_s,
                                       wait=wait)
        self.write_json({"out_trade_no": trade.out_trade_no,
                         "transaction_id": trade.transaction_id, "state": trade.state,
                         "notify_url": notification.url, "deliveries": outcomes},
                        200 if wait else 202)


def settle_refund_later(handler: SandboxHandler, stand_in: PaymentStandIn,
                        refund_id: int) -> None:
    """After a short while, finish the refund and notify it (off the request)."""

    async def settle():
        await asyncio.sleep(REFUND_SETTLE_S)
        notification = await handler.run_sync(
            lambda: stand_in.refund_notification(trades.finish_refund(refund_id)))
        if notification is not None:
            await delivery.send([notification])

    IOLoop.current().spawn_callback(settle)
