"""WeChat Pay API v2 notifications at /payments/wechatpay/v2/notify (XML, API-key signs)."""
import hashlib

from wechatpy.crypto import RefundCrypto
from wechatpy.pay.utils import dict_to_xml

from alliance.payments import notices
from tests.payments_support import PaymentTestCase

PATH = "/payments/wechatpay/v2/notify"
SUCCESS = (b"<xml><return_code><![CDATA[SUCCESS]]></return_code>"
           b"<return_msg><![CDATA[OK]]></return_msg></xml>")
API_KEY = "v2sandboxapikey0123456789abcdefg"


class WechatPayV2NotifyTest(PaymentTestCase):
    env = {"WECHATPAY_API_KEY": API_KEY}

    def setUp(self):
        super().setUp()
        self.stand_in = self.extras["wechatpay_v2_sandbox"]

    def payment(self, **changes) -> dict:
        fields = {"return_code": "SUCCESS", "return_msg": "OK",
                  "appid": self.settings.wechat_miniapp_appid,
                  "mch_id": self.settings.wechatpay_mch_id, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
                  "result_code": "SUCCESS", "openid": "o-alice", "is_subscribe": "N",
                  "trade_type": "JSAPI", "bank_type": "OTHERS", "total_fee": 1234, "fee_type": "CNY",
                  "cash_fee": 1234, "transaction_id": "4200000002202611280000000001",
                  "out_trade_no": "T20261128000002", "time_end": "20261128100000"}
        fields.update(changes)
        return fields

    def post(self, body: bytes):
        return self.api("POST", PATH, body=body, headers={"Content-Type": "text/xml"})

    def assert_rejected(self, response, status: int, reason: str) -> None:
        assert response.status == status, (response.status, response.body)
        assert b"<return_code><![CDATA[FAIL]]></return_code>" in response.body
        assert [(r.status, r.reason) for r in self.notifications()] == [("rejected", reason)]

    def test_notify_valid_md5_payment_is_answered_exactly_success(self):
        response = self.post(self.stand_in.signed_xml(self.payment()))
        assert response.status == 200 and response.body == SUCCESS
        [row] = self.notifications()
        assert (row.kind, row.out_trade_no, row.amount_fen, row.notification_id) == (
            "payment", "T20261128000002", 1234, "pay:T20261128000002:4200000002202611280000000001")

    def test_notify_valid_hmac_payment_is_accepted(self):
        seen = []
        notices.register_payment_handler(seen.append)
        body = self.stand_in.signed_xml(self.payment(sign_type="HMAC-SHA256"), "HMAC-SHA256")
        assert self.post(body).body == SUCCESS
        assert seen[0].paid and seen[0].paid_at.isoformat() == "2026-11-28T02:00:00"

    def test_notify_duplicate_is_recorded_once(self):
        body = self.stand_in.signed_xml(self.payment())
        assert self.post(body).body == SUCCESS
        assert self.post(body).body == SUCCESS
        assert len(self.notifications()) == 1

    def test_notify_signed_with_another_key_is_rejected(self):
        self.stand_in.api_key = "another-key-another-key-another-k"
        self.assert_rejected(self.post(self.stand_in.signed_xml(self.payment())), 401,
                             "BAD_SIGNATURE")

    def test_notify_with_changed_amount_after_signing_is_rejected(self):
        body = self.stand_in.signed_xml(self.payment()).replace(b"1234", b"1")
        self.assert_rejected(self.post(body), 401, "BAD_SIGNATURE")

    def test_notify_for_another_app_is_rejected(self):
        body = self.stand_in.signed_xml(self.payment(appid="wx0000000000000999"))
        self.assert_rejected(self.post(body), 400, "APPID_MISMATCH")

    def test_notify_that_is_not_xml_is_rejected(self):
        self.assert_rejected(self.post(b"return_code=SUCCESS"), 400, "MALFORMED")

    def test_notify_nested_beyond_any_message_is_malformed_before_its_signature(self):
        # Unsigned, 1 MB of nesting: refused as it is parsed, never checked field by field.
        deep = b"<xml>" + b"<a>" * 60000 + b"</a>" * 60000 + b"</xml>"
        self.assert_rejected(self.post(deep), 400, "MALFORMED")

    def test_notify_signed_with_an_amount_that_is_not_whole_fen_is_malformed(self):
        for total_fee in ("1e3", "12.5", "-1", "9223372036854775808"):
            with self.subTest(total_fee=total_fee):
                response = self.post(self.stand_in.signed_xml(self.payment(total_fee=total_fee)))
                assert response.status == 400 and b"FAIL" in response.body, response.body
        assert {(r.status, r.reason) for r in self.notifications()} == {("rejected", "MALFORMED")}

    def test_notify_signed_with_a_time_before_the_calendar_is_malformed(self):
        response = self.post(self.stand_in.signed_xml(self.payment(time_end="00010101000000")))
        self.assert_rejected(response, 400, "MALFORMED")

    def test_a_body_over_the_limit_is_refused_in_wechat_pays_xml(self):
        response = self.post(b"<xml>" + b" " * (1024 * 1024 + 1) + b"</xml>")
        assert response.status == 413 and response.body.startswith(b"<xml><return_code>"), (
            response.status, response.body[:200])
        assert response.headers["X-Request-Id"]

    def refund_body(self, key: str = API_KEY) -> bytes:
        info = ("<root><transaction_id><![CDATA[4200000002202611280000000001]]></transaction_id>"
                "<out_trade_no><![CDATA[T20261128000002]]></out_trade_no>"
                "<refund_id><![CDATA[50000000382019052709732678859]]></refund_id>"
                "<out_refund_no><![CDATA[R2]]></out_refund_no><total_fee>1234</total_fee>"
                "<refund_fee>300</refund_fee><refund_status><![CDATA[SUCCESS]]></refund_status>"
                "<success_time><![CDATA[2026-11-28 11:00:00]]></success_time></root>")
        req_info = RefundCrypto(hashlib.md5(key.encode()).hexdigest().encode()).encrypt(info)
        return dict_to_xml({"return_code": "SUCCESS", "appid": self.settings.wechat_miniapp_appid,
                            "mch_id": self.settings.wechatpay_mch_id, "nonce_str": "abc",
                            "req_info": req_info.decode()}).encode()

    def test_notify_refund_is_decrypted_and_recorded(self):
        seen = []
        notices.register_refund_handler(seen.append)
        assert self.post(self.refund_body()).body == SUCCESS
        [notice] = seen
        assert (notice.out_refund_no, notice.refund_fen, notice.status) == ("R2", 300, "succeeded")
        assert notice.succeeded_at.isoformat() == "2026-11-28T03:00:00"

    def test_notify_refund_encrypted_with_another_key_is_rejected(self):
        self.assert_rejected(self.post(self.refund_body("not-the-merchant-key-0123456789")),
                             400, "DECRYPT_FAILED")


class WechatPayV2UnconfiguredTest(PaymentTestCase):
    def test_notify_without_an_api_key_is_refused(self):
        response = self.api("POST", PATH, body=b"<xml></xml>")
        assert response.status == 404
        assert b"<return_code><![CDATA[FAIL]]></return_code>" in response.body
        assert "wechatpay_v2" not in self.extras["payment_gateways"]
