"""Alipay asynchronous notifications at /payments/alipay/notify (form, RSA2)."""
from urllib.parse import parse_qsl, urlencode

from alipay.aop.api.util.SignatureUtils import sign_with_rsa2
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance.payments import notices
from payments.alipay import sign_content
from payments.common import pkcs1_pem
from tests.payments_support import PaymentTestCase

PATH = "/payments/alipay/notify"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class AlipayNotifyTest(PaymentTestCase):
    def setUp(self):
        super().setUp()
        self.stand_in = self.extras["alipay_sandbox"]

    def fields(self, **changes) -> dict:
        fields = {"notify_time": "2026-11-28 10:00:05", "notify_type": "trade_status_sync",
                  "notify_id": "ac05099524730693a8b330c5ecf72da9786", "app_id": self.settings.alipay_app_id,
                  "charset": "utf-8", "version": "1.0", "trade_no": "2026112822001400001234567890",
                  "out_trade_no": "T20261128000003", "buyer_id": "2088102177846875",
                  "seller_id": self.settings.alipay_seller_id, "trade_status": "TRADE_SUCCESS",
                  "total_amount": "12.34", "receipt_amount": "12.34", "subject": "招牌牛肉面",
                  "body": "", "gmt_create": "2026-11-28 09:59:50", "gmt_payment": "2026-11-28 10:00:00"}
        fields.update(changes)
        return fields

    def post(self, body: bytes):
        return self.api("POST", PATH, body=body, headers=FORM)

    def assert_rejected(self, response, status: int, reason: str) -> None:
        assert response.status == status and response.body == b"fail", response.body
        assert [(r.status, r.reason) for r in self.notifications()] == [("rejected", reason)]

    def test_notify_valid_payment_is_answered_exactly_success(self):
        seen = []
        notices.register_payment_handler(seen.append)
        response = self.post(self.stand_in.signed_form(self.fields()))
        assert response.status == 200 and response.body == b"success"
        [notice] = seen
        assert (notice.channel, notice.out_trade_no, notice.amount_fen, notice.paid) == (
            "alipay", "T20261128000003", 1234, True)
        assert notice.paid_at.isoformat() == "2026-11-28T02:00:00"
        assert self.notifications()[0].notification_id == "ac05099524730693a8b330c5ecf72da9786"

    def test_notify_duplicate_is_recorded_once(self):
        body = self.stand_in.signed_form(self.fields())
        assert self.post(body).body == b"success"
        assert self.post(body).body == b"success"
        assert len(self.notifications()) == 1

    def test_notify_with_changed_amount_after_signing_is_rejected(self):
        params = dict(parse_qsl(self.stand_in.signed_form(self.fields()).decode()))
        params["total_amount"] = "0.01"
        self.assert_rejected(self.post(urlencode(params).encode()), 401, "BAD_SIGNATURE")

    def test_notify_signed_with_another_key_is_rejected(self):
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        fields = self.fields()
        forged = {**fields, "sign_type": "RSA2",
                  "sign": sign_with_rsa2(pkcs1_pem(other), sign_content(fields), "utf-8")}
        self.assert_rejected(self.post(urlencode(forged).encode()), 401, "BAD_SIGNATURE")

    def test_notify_with_the_signature_of_another_notification_is_rejected(self):
        params = dict(parse_qsl(self.stand_in.signed_form(self.fields()).decode()))
        params["sign"] = dict(parse_qsl(self.stand_in.signed_form(
            self.fields(notify_id="other")).decode()))["sign"]
        self.assert_rejected(self.post(urlencode(params).encode()), 401, "BAD_SIGNATURE")

    def test_notify_without_sign_is_rejected(self):
        self.assert_rejected(self.post(urlencode(self.fields()).encode()), 401, "BAD_SIGNATURE")

    def test_notify_for_another_app_is_rejected(self):
        body = self.stand_in.signed_form(self.fields(app_id="2021000000000999"))
        self.assert_rejected(self.post(body), 400, "APPID_MISMATCH")

    def test_notify_for_another_seller_is_rejected(self):
        body = self.stand_in.signed_form(self.fields(seller_id="2088000000000999"))
        self.assert_rejected(self.post(body), 400, "SELLER_MISMATCH")

    def test_notify_with_a_malformed_amount_is_rejected(self):
        body = self.stand_in.signed_form(self.fields(total_amount="12.345"))
        self.assert_rejected(self.post(body), 400, "MALFORMED")

    def test_notify_of_a_trade_closed_unpaid_is_not_a_payment(self):
        seen = []
        notices.register_payment_handler(seen.append)
        body = self.stand_in.signed_form(self.fields(trade_status="TRADE_CLOSED"))
        assert self.post(body).body == b"success"
        assert seen[0].paid is False and seen[0].trade_state == "TRADE_CLOSED"

    def test_notify_of_a_refund_is_recorded_as_a_refund(self):
        seen = []
        notices.register_refund_handler(seen.append)
        body = self.stand_in.signed_form(self.fields(
            notify_id="refund-notify-1", out_biz_no="R3", refund_fee="3.00",
            gmt_refund="2026-11-28 11:00:00.123"))
        assert self.post(body).body == b"success"
        [notice] = seen
        assert (notice.out_refund_no, notice.refunded_total_fen, notice.total_fen) == ("R3", 300, 1234)
        assert self.notifications()[0].kind == "refund"

    def test_notify_signed_with_a_time_before_the_calendar_is_malformed(self):
        body = self.stand_in.signed_form(self.fields(gmt_payment="0001-01-01 00:00:00"))
        self.assert_rejected(self.post(body), 400, "MALFORMED")

    def test_a_form_tornado_cannot_parse_is_refused_in_alipays_words(self):
        for body in (b"&".join([b"a=1"] * 1001), b"a=1"):
            headers = {**FORM, "Content-Encoding": "gzip"} if body == b"a=1" else FORM
            with self.subTest(size=len(body)):
                response = self.api("POST", PATH, body=body, headers=headers)
                assert (response.status, response.body) == (400, b"fail")
                assert response.headers["X-Request-Id"]
