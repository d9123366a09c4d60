"""Refunds through the providers: partial and full, by the merchant, through after-sales
with the merchant's decision and the platform's arbitration; refund notifications once."""
import datetime as dt

from alliance.accounts.models import OperatorAuditLog
from alliance.commissions.models import CommissionEntry
from alliance.coupons.claims import claim
from alliance.coupons.templates import add_distribution, create_template
from alliance.db import connection
from alliance.orders import refunds
from alliance.payments.errors import PaymentUnavailable, RefundRejected
from alliance.points.models import PointsAccount, PointsAllocation, PointsEntry
from tests.factories import make_merchant
from tests.orders_support import OrderTestCase


class RefusingRefunds:
    """A gateway whose provider answers refunds with ``error`` (the rest goes through)."""

    def __init__(self, gateway, error):
        self.gateway, self.error = gateway, error

    def __getattr__(self, name):
        return getattr(self.gateway, name)

    def refund(self, request):
        raise self.error


class RefundCase(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.staff = self.owner_token()

    def refund(self, order_no: str, amount_fen: int, reason: str = "缺货"):
        return self.api("POST", f"/api/v1/merchant/orders/{order_no}/refunds",
                        {"amount_fen": amount_fen, "reason": reason}, token=self.staff)

    def settled(self, order_no: str, count: int = 1) -> list:
        """Wait until ``count`` refunds of the order succeeded; the refunds."""
        def succeeded():
            found = [r for r in self.refunds(order_no) if r.status == "succeeded"]
            return found if len(found) >= count else []

        return self.wait_for(succeeded)

    def after_sale(self, order_no: str, **body):
        return self.api("POST", f"/api/v1/orders/{order_no}/after-sales",
                        {"reason": "不想要了", **body}, token=self.buyer)

    def replace_gateway(self, channel: str, wrapper) -> None:
        gateways = self.extras["payment_gateways"]
        real = gateways[channel]
        gateways[channel] = wrapper(real)
        self.addCleanup(gateways.__setitem__, channel, real)


class MerchantRefundTest(RefundCase):
    def test_partial_refunds_then_the_rest_refund_everything(self):
        self.give_points("alice", 1000)
        coupon_id = self.give_coupon("alice", discount_fen=500)
        order = self.paid_order(self.buyer, quantity=2, points=200, coupon_id=coupon_id)
        order_no, paid = order["order_no"], order["paid_fen"]
        assert (order["status"], paid, order["breakdown"]["earn_points"]) == ("paid", 6300, 53)
        assert self.refund(order_no, 1000).status == 201
        self.settled(order_no)
        after_first = self.get_order(self.buyer, order_no)
        assert (after_first["status"], after_first["refunded_fen"]) == ("paid", 1000)
        assert self.stock(self.goods) == 8  # a partial refund returns no goods
        assert self.refund(order_no, paid - 1000).status == 201
        self.settled(order_no, 2)
        done = self.get_order(self.buyer, order_no)
        assert (done["status"], done["refunded_fen"]) == ("refunded", paid)
        assert self.stock(self.goods) == 10  # nothing had left the shop
        assert self.coupon_status(coupon_id) == "active"
        with connection():
            clawed = [-e.amount for e in PointsEntry.select().where(PointsEntry.kind == "adjust")]
        items_paid = paid - order["breakdown"]["shipping_fen"]  # what earned the points
        assert sum(clawed) == 53 and clawed[0] == 53 * 1000 // items_paid
        assert self.balance("alice") == 1000  # spent points back, earned points taken back
        with connection():  # taken back from the order's own lot, funded by its merchant
            lots = {e.idempotency_key: e.lot_remaining
                    for e in PointsEntry.select().where(PointsEntry.kind == "earn")}
            funders = {a.funding_merchant_id for a in PointsAllocation.select().join(
                PointsEntry, on=(PointsAllocation.debit == PointsEntry.id))
                .where(PointsEntry.kind == "adjust")}
        assert lots == {f"gift:{self.user_id('alice')}:1000": 1000, f"order:{order_no}:earn": 0}
        assert funders == {self.merchant.id}

    def test_a_refund_takes_its_share_of_the_purchase_out_of_the_membership(self):
        rules = {"levels": [{"name": "银卡", "min_spent_fen": 5_000, "discount_percent": 0,
                             "points_multiplier_pct": 100}]}
        assert self.api("PUT", "/api/v1/merchant/level-rules", rules,
                        token=self.staff).status == 200
        order = self.paid_order(self.buyer, quantity=2)  # 60.00: the 50.00 level reached
        order_no, earned = order["order_no"], order["breakdown"]["earn_points"]
        items_paid = order["paid_fen"] - order["breakdown"]["shipping_fen"]

        def membership():
            [member] = self.api("GET", "/api/v1/me/membership",
                                token=self.buyer).json["memberships"]
            with connection():
                growth = PointsAccount.get_by_id(self.user_id("alice")).lifetime_earned
            return member["level"], member["total_spent_fen"], member["points_earned"], growth

        assert membership() == (1, items_paid, earned, earned)
        assert self.refund(order_no, 3000).status == 201  # one of the two units
        self.settled(order_no)
        taken = earned * 3000 // items_paid
        assert membership() == (0, items_paid - 3000, earned - taken, earned - taken)
        assert self.refund(order_no, order["paid_fen"] - 3000).status == 201
        self.settled(order_no, 2)
        assert membership() == (0, 0, 0, 0)  # the visit stays: the buyer came

    def test_a_partners_coupon_used_online_owes_its_commission_until_refunded(self):
        with connection():
            partner = make_merchant(name="星光影城")
            template = create_template(
                {"name": "影城送面馆券", "kind": "fixed", "threshold_fen": 0,
                 "discount_fen": 500, "valid_days": 30, "total_stock": 100,
                 "channels": ["partner"]}, merchant_id=self.merchant.id, actor_kind="user",
                actor_id=self.owner.id)
            add_distribution(template.id, self.merchant.id, partner.id, 300,
                             actor_id=self.owner.id)
            coupon = claim(template.id, self.user_id("alice"), scene=f"p={partner.id}")
            # Lower terms after the hand-out: the partner is owed those it handed it out under.
            add_distribution(template.id, self.merchant.id, partner.id, 100,
                             actor_id=self.owner.id)
        order = self.paid_order(self.buyer, coupon_id=coupon.id)
        with connection():  # used at the issuer, online: the partner's redemption all the same
            [entry] = CommissionEntry.select()
        assert (entry.payer_merchant_id, entry.payee_merchant_id, entry.amount_fen,
                entry.source_type, entry.status) == (self.merchant.id, partner.id, 300,
                                                     "coupon_use", "pending")
        assert self.refund(order["order_no"], order["paid_fen"]).status == 201
        self.settled(order["order_no"])
        with connection():  # refunded in full: the coupon is the buyer's again, nothing owed
            assert CommissionEntry.get_by_id(entry.id).status == "cancelled"
        assert self.coupon_status(coupon.id) == "active"

    def test_refund_beyond_what_is_left_is_refused(self):
        order = self.paid_order(self.buyer)
        self.assert_error(self.refund(order["order_no"], order["paid_fen"] + 1), 422,
                          "REFUND_AMOUNT_INVALID")

    def test_second_refund_while_one_is_in_flight_is_refused_then_retried(self):
        order = self.paid_order(self.buyer)
        self.replace_gateway("wechatpay", lambda g: RefusingRefunds(g, PaymentUnavailable()))
        assert self.refund(order["order_no"], 500).status == 201
        assert self.row(order["order_no"]).status == "refunding"
        self.assert_error(self.refund(order["order_no"], 500), 409, "ORDER_STATE_CONFLICT")
        [pending] = self.refunds(order["order_no"])
        assert (pending.status, pending.last_error[:19]) == ("pending", "PAYMENT_UNAVAILABLE")
        self.extras["payment_gateways"]["wechatpay"] = self.extras["payment_gateways"]["wechatpay"].gateway
        counts = self.call(refunds.refresh_refunds, self.octx, older_than=dt.timedelta(0))
        assert counts["submitted"] == 1
        self.settled(order["order_no"])
        assert self.row(order["order_no"]).status == "paid"

    def test_refund_refused_by_the_provider_fails_and_flags_the_order(self):
        order = self.paid_order(self.buyer)
        self.replace_gateway("wechatpay", lambda g: RefusingRefunds(g, RefundRejected()))
        assert self.refund(order["order_no"], 500).status == 201
        [failed] = self.refunds(order["order_no"])
        row = self.row(order["order_no"])
        assert (failed.status, row.status, row.abnormal_reason) == ("failed", "paid", "REFUND_FAILED")

    def test_alipay_refund_answered_at_once_and_notified_applies_once(self):
        order = self.paid_order(self.buyer, channel="alipay")
        assert self.refund(order["order_no"], 1500).status == 201
        self.settled(order["order_no"])
        # Alipay's refund notification arrives as well: a repeat of what its answer said.
        [notice] = self.wait_for(lambda: [n for n in self.notifications(kind="refund")
                                          if n.status != "received"])
        assert notice.status == "processed"
        done = self.get_order(self.buyer, order["order_no"])
        assert (done["status"], done["refunded_fen"]) == ("paid", 1500)

    def test_refund_notification_repeated_changes_nothing_more(self):
        order = self.paid_order(self.buyer)
        self.refund(order["order_no"], 700)
        [refund] = self.settled(order["order_no"])
        stand_in = self.extras["wechatpay_sandbox"]
        attempt = self.attempts(order["order_no"])[0]
        plaintext = {"mchid": self.settings.wechatpay_mch_id, "out_trade_no": attempt.out_trade_no,
                     "transaction_id": attempt.transaction_id, "out_refund_no": refund.out_refund_no,
                     "refund_id": "50000000000000000000000000001", "refund_status": "SUCCESS",
                     "success_time": "2026-11-28T11:00:00+08:00", "user_received_account": "零钱",
                     "amount": {"total": order["paid_fen"], "refund": 700,
                                "payer_total": order["paid_fen"], "payer_refund": 700}}
        body = stand_in.notification_body("EV-R-again", "REFUND.SUCCESS", "退款成功",
                                          stand_in.encrypt(plaintext, "refund"))
        response = self.api("POST", "/payments/wechatpay/notify", body=body.encode(),
                            headers=stand_in.signed_headers(body))
        assert response.status == 204
        assert self.get_order(self.buyer, order["order_no"])["refunded_fen"] == 700


class AfterSaleTest(RefundCase):
    def decide(self, request_id: int, approve: bool, note: str = ""):
        return self.api("POST", f"/api/v1/merchant/after-sales/{request_id}/decision",
                        {"approve": approve, "note": note}, token=self.staff)

    def test_refund_request_approved_by_the_merchant_is_refunded(self):
        order = self.paid_order(self.buyer)
        created = self.after_sale(order["order_no"])
        assert created.status == 201 and created.json["status"] == "requested"
        assert created.json["amount_fen"] == order["paid_fen"]
        again = self.after_sale(order["order_no"])
        self.assert_error(again, 409, "AFTER_SALE_IN_PROGRESS")
        decided = self.decide(created.json["id"], True)
        assert decided.json["status"] == "refunding"
        self.settled(order["order_no"])
        mine = self.api("GET", f"/api/v1/after-sales/{created.json['id']}", token=self.buyer).json
        assert mine["status"] == "refunded"
        assert self.get_order(self.buyer, order["order_no"])["status"] == "refunded"
        assert self.stock(self.goods) == 10

    def test_a_refund_only_request_naming_units_puts_nothing_back_on_the_shelf(self):
        # 1.00 yuan back on two units the buyer keeps: they still ship, and stock stays down.
        order = self.paid_order(self.buyer, quantity=2)
        order_no, line_id = order["order_no"], order["items"][0]["line_id"]
        assert self.stock(self.goods) == 8
        created = self.after_sale(order_no, kind="refund", amount_fen=100,
                                  lines=[{"line_id": line_id, "quantity": 2}]).json
        assert self.decide(created["id"], True).json["status"] == "refunding"
        self.settled(order_no)
        done = self.get_order(self.buyer, order_no)
        assert (done["status"], done["refunded_fen"]) == ("paid", 100)
        assert done["items"][0]["returned_quantity"] == 0
        assert self.stock(self.goods) == 8
        shipped = self.api("POST", f"/api/v1/merchant/orders/{order_no}/shipment",
                           {"carrier": "顺丰", "tracking_no": "SF1234567890"}, token=self.staff)
        assert shipped.json["status"] == "shipped" and self.stock(self.goods) == 8

    def test_return_of_shipped_goods_is_refunded_when_they_arrive(self):
        order = self.paid_order(self.buyer, quantity=2)
        order_no = order["order_no"]
        shipped = self.api("POST", f"/api/v1/merchant/orders/{order_no}/shipment",
                           {"carrier": "顺丰", "tracking_no": "SF1234567890"}, token=self.staff)
        assert shipped.json["status"] == "shipped"
        line_id = order["items"][0]["line_id"]
        self.assert_error(self.after_sale(order_no, kind="return_refund", amount_fen=order["paid_fen"] + 1),
                          422, "REFUND_AMOUNT_INVALID")
        created = self.after_sale(order_no, kind="return_refund", amount_fen=3000,
                                  lines=[{"line_id": line_id, "quantity": 1}]).json
        assert self.decide(created["id"], True).json["status"] == "approved"
        sent = self.api("POST", f"/api/v1/after-sales/{created['id']}/return-shipment",
                        {"carrier": "顺丰", "tracking_no": "SF999"}, token=self.buyer)
        assert sent.json["status"] == "returned"
        received = self.api("POST", f"/api/v1/merchant/after-sales/{created['id']}/return-receipt",
                            {}, token=self.staff)
        assert received.json["status"] == "refunding"
        self.settled(order_no)
        done = self.get_order(self.buyer, order_no)
        assert (done["status"], done["refunded_fen"]) == ("shipped", 3000)
        assert done["items"][0]["returned_quantity"] == 1
        assert self.stock(self.goods) == 9

    def test_rejected_request_arbitrated_by_the_platform_is_refunded(self):
        order = self.paid_order(self.buyer)
        created = self.after_sale(order["order_no"]).json
        self.assert_error(self.decide(created["id"], False), 400, "VALIDATION_FAILED")
        assert self.decide(created["id"], False, "商品无质量问题").json["status"] == "rejected"
        escalated = self.api("POST", f"/api/v1/after-sales/{created['id']}/arbitration",
                             {"reason": "商家拒绝不合理"}, token=self.buyer)
        assert escalated.json["status"] == "arbitrating"
        admin = self.operator_token("customer_service")
        disputes = self.api("GET", "/api/admin/v1/after-sales?status=arbitrating", token=admin).json
        assert [d["id"] for d in disputes["items"]] == [created["id"]]
        ruled = self.api("POST", f"/api/admin/v1/after-sales/{created['id']}/arbitration",
                         {"refund": True, "note": "支持退款", "amount_fen": 2000}, token=admin)
        assert ruled.status == 200 and ruled.json["status"] == "refunding"
        self.settled(order["order_no"])
        assert self.get_order(self.buyer, order["order_no"])["refunded_fen"] == 2000
        with connection():
            assert OperatorAuditLog.get().action == "after_sale.arbitrate"

    def test_withdrawn_request_frees_the_order_for_another(self):
        order = self.paid_order(self.buyer)
        created = self.after_sale(order["order_no"]).json
        withdrawn = self.api("POST", f"/api/v1/after-sales/{created['id']}/withdrawal", {},
                             token=self.buyer)
        assert withdrawn.json["status"] == "closed"
        assert self.after_sale(order["order_no"]).status == 201

    def test_after_sale_of_an_unpaid_order_is_refused(self):
        created = self.order(self.buyer)
        self.assert_error(self.after_sale(created["order_no"]), 409, "ORDER_STATE_CONFLICT")
