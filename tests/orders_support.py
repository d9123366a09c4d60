"""Order tests: the real application with its provider stand-ins, a merchant with goods and
services, logged-in buyers, and helpers to order and to pay as the buyer would."""
from __future__ import annotations

from alliance.db import connection
from alliance.orders.context import OrderContext
from alliance.orders.models import Order, PaymentAttempt, Refund
from alliance.payments.errors import PaymentUnavailable
from alliance.points import services as points
from sandbox.models import SandboxTrade
from tests.factories import make_item, make_merchant, make_shop, make_user
from tests.payments_support import ProviderCalls
from tests.support import ApiTestCase

class Unreachable:
    """A gateway whose provider does not answer close calls (the rest goes through)."""

    def __init__(self, gateway):
        self.gateway = gateway

    def __getattr__(self, name):
        return getattr(self.gateway, name)

    def close(self, out_trade_no):
        raise PaymentUnavailable()


PAY_CONTROL = {"wechatpay": "/_sandbox/wechatpay/_control/pay",
               "wechatpay_v2": "/_sandbox/wechatpay/_control/v2/pay",
               "alipay": "/_sandbox/alipay/_control/pay"}


class OrderTestCase(ProviderCalls, ApiTestCase):
    """A merchant (goods at 30.00 yuan, services at 50.00) and helpers; the orders'
    notification handlers stay installed (unlike the payments mechanism tests)."""

    def setUp(self):
        super().setUp()
        with connection():
            self.owner = make_user("店主")
            self.merchant = make_merchant(owner=self.owner, name="老街面馆")
            make_shop(self.merchant)
            self.goods = make_item(self.merchant, kind="goods", price_fen=3000, stock=10)
            self.service = make_item(self.merchant, kind="service", price_fen=5000, stock=10)

    @property
    def octx(self) -> OrderContext:
        return self.extras["orders"]

    def owner_token(self) -> str:
        """A token of the merchant's owner (logged in through the sandbox, then made owner)."""
        from alliance.merchants.models import StaffMembership

        login = self.login("owner-of-test")
        with connection():
            StaffMembership.get_or_create(merchant=self.merchant, user=login["user"]["id"],
                                          defaults={"role": "merchant_owner"})
        return login["access_token"]

    def user_id(self, name: str) -> int:
        return self.login(name)["user"]["id"]

    def give_points(self, name: str, amount: int) -> None:
        user_id = self.user_id(name)
        with connection():
            points.earn(user_id, amount, merchant_id=None, idempotency_key=f"gift:{user_id}:{amount}")

    def balance(self, name: str) -> int:
        user_id = self.user_id(name)
        with connection():
            return points.balance_of(user_id)

    def give_coupon(self, name: str, discount_fen: int = 500, threshold_fen: int = 0) -> int:
        """A fixed-amount coupon of the merchant claimed by ``name``; its id."""
        from alliance.coupons.claims import claim
        from alliance.coupons.templates import create_template

        with connection():
            template = create_template(
                {"name": f"减{discount_fen}", "kind": "fixed", "threshold_fen": threshold_fen,
                 "discount_fen": discount_fen, "valid_days": 30, "total_stock": 100,
                 "channels": ["own"]}, merchant_id=self.merchant.id, actor_kind="user",
                actor_id=self.owner.id)
            return claim(template.id, self.user_id(name)).id

    def coupon_status(self, coupon_id: int) -> str:
        from alliance.coupons.models import Coupon

        with connection():
            return Coupon.get_by_id(coupon_id).status

    def order(self, token: str, item=None, quantity: int = 1, **extra) -> dict:
        item = item or self.goods
        response = self.api("POST", "/api/v1/orders",
                            {"items": [{"item_id": item.id, "quantity": quantity}], **extra},
                            token=token)
        assert response.status == 201, response.body
        return response.json

    def start_payment(self, token: str, order_no: str, channel: str = "wechatpay") -> dict:
        response = self.api("POST", f"/api/v1/orders/{order_no}/payments", {"channel": channel},
                            token=token)
        assert response.status == 201, response.body
        return response.json

    def provider_pays(self, payment: dict, **control) -> dict:
        """The buyer pays at the provider's stand-in; its signed notification is delivered."""
        body = {"wait": True, **control}
        if payment["channel"] == "alipay":
            body["order_string"] = payment["order_string"]
        else:
            body["out_trade_no"] = payment["out_trade_no"]
        response = self.api("POST", PAY_CONTROL[payment["channel"]], body)
        assert response.status == 200, response.body
        return response.json

    def wechatpay_body(self, payment: dict, notify_id: str = "EV-1", **changes) -> str:
        """The body of a WeChat Pay v3 notification that ``payment`` succeeded, its resource
        encrypted as WeChat Pay does (``changes`` replace fields of the plaintext); signed
        by ``extras["wechatpay_sandbox"].signed_headers(body)``."""
        stand_in = self.extras["wechatpay_sandbox"]
        plaintext = {"appid": self.settings.wechat_miniapp_appid,
                     "mchid": self.settings.wechatpay_mch_id,
                     "out_trade_no": payment["out_trade_no"],
                     "transaction_id": "4200000001202611280000000001", "trade_type": "JSAPI",
                     "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
                     "success_time": "2026-11-28T10:00:00+08:00", "payer": {"openid": "o-alice"},
                     "amount": {"total": payment["amount_fen"],
                                "payer_total": payment["amount_fen"], "currency": "CNY"}}
        plaintext.update(changes)
        return stand_in.notification_body(notify_id, "TRANSACTION.SUCCESS", "支付成功",
                                          stand_in.encrypt(plaintext, "transaction"))

    def paid_order(self, token: str, item=None, channel: str = "wechatpay", **extra) -> dict:
        order = self.order(token, item, **extra)
        self.provider_pays(self.start_payment(token, order["order_no"], channel))
        return self.get_order(token, order["order_no"])

    def get_order(self, token: str, order_no: str) -> dict:
        response = self.api("GET", f"/api/v1/orders/{order_no}", token=token)
        assert response.status == 200, response.body
        return response.json

    def row(self, order_no: str) -> Order:
        with connection():
            return Order.get(Order.order_no == order_no)

    def attempts(self, order_no: str) -> list[PaymentAttempt]:
        with connection():
            return list(PaymentAttempt.select().join(Order)
                        .where(Order.order_no == order_no).order_by(PaymentAttempt.seq))

    def sandbox_trade(self, out_trade_no: str) -> SandboxTrade:
        """The provider stand-ins' record of a trade."""
        with connection():
            return SandboxTrade.get(SandboxTrade.out_trade_no == out_trade_no)

    def refunds(self, order_no: str) -> list[Refund]:
        with connection():
            return list(Refund.select().join(Order, on=(Refund.order == Order.id))
                        .where(Order.order_no == order_no).order_by(Refund.seq))

    def stock(self, item) -> int:
        from alliance.catalog.models import CatalogItem

        with connection():
            return CatalogItem.get_by_id(item.id).stock
