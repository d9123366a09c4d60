"""Settlement tests: the real orders (paid by WeChat Pay-signed notifications, at the time the
test chooses, and refunded through the provider's stand-in), and the periods around now."""
from __future__ import annotations

import datetime as dt

from alliance.clock import SHANGHAI
from alliance.db import connection, utcnow
from alliance.merchants.models import Merchant
from alliance.settlement.models import SettlementItem, SettlementLine, SettlementStatement
from alliance.settlement.periods import Period, period_containing
from alliance.settlement.statements import close_period
from tests.orders_support import OrderTestCase


class SettlementCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()
        self.current: Period = period_containing(utcnow())
        self.last: Period = self.current.previous()
        self.notices = 0

    def in_last_month(self, day: int, hour: int = 12) -> dt.datetime:
        """A time of the previous month, in Asia/Shanghai."""
        start = self.last.start.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
        return start.replace(day=day, hour=hour)

    def pay_at(self, at: dt.datetime, item=None, quantity: int = 1, **extra) -> dict:
        """An order paid, as WeChat Pay notifies it, at ``at`` (the provider's time)."""
        order = self.order(self.buyer, item, quantity=quantity, **extra)
        payment = self.start_payment(self.buyer, order["order_no"])
        self.notices += 1
        stand_in = self.extras["wechatpay_sandbox"]
        body = self.wechatpay_body(payment, f"EV-S{self.notices}",
                                   success_time=at.isoformat(timespec="seconds"),
                                   transaction_id=f"42000000012026{self.notices:014d}")
        response = self.api("POST", "/payments/wechatpay/notify", body=body.encode(),
                            headers=stand_in.signed_headers(body))
        assert response.status == 204, response.body
        self.provider_pays(payment)  # the stand-in's trade too (its notification changes nothing)
        paid = self.get_order(self.buyer, order["order_no"])
        assert paid["is_paid"], paid
        return paid

    def refund(self, order_no: str, amount_fen: int) -> None:
        """The merchant refunds ``amount_fen``; waits until the provider says it succeeded."""
        before = len([r for r in self.refunds(order_no) if r.status == "succeeded"])
        response = self.api("POST", f"/api/v1/merchant/orders/{order_no}/refunds",
                            {"amount_fen": amount_fen, "reason": "缺货"}, token=self.staff)
        assert response.status == 201, response.body
        self.wait_for(lambda: len([r for r in self.refunds(order_no)
                                   if r.status == "succeeded"]) > before)

    def set_rate(self, merchant, bp: int | None) -> None:
        with connection():
            Merchant.update(commission_bp=bp).where(Merchant.id == merchant.id).execute()

    def close(self, period: Period, now: dt.datetime | None = None) -> dict:
        """Close ``period`` (by default a minute after it ended, or now when later)."""
        now = now or max(utcnow(), period.end + dt.timedelta(minutes=1))
        return self.call(close_period, period.name, now)

    def statement(self, merchant, period: Period) -> SettlementStatement | None:
        with connection():
            return SettlementStatement.get_or_none(SettlementStatement.merchant_id == merchant.id,
                                                   SettlementStatement.period == period.name)

    def lines(self, statement: SettlementStatement) -> dict[str, int]:
        with connection():
            return {line.line: line.amount_fen for line in
                    SettlementLine.select().where(SettlementLine.statement == statement.id)}

    def items(self, statement: SettlementStatement) -> list[SettlementItem]:
        with connection():
            return list(SettlementItem.select().where(SettlementItem.statement == statement.id)
                        .order_by(SettlementItem.id))
