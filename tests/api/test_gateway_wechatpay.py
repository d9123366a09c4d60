"""The WeChat Pay API v3 gateway against WeChat Pay's stand-in, over HTTP."""
import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.hashes import SHA256

from alliance.db import utcnow
from alliance.payments import notices
from alliance.payments.errors import (PaymentAlreadyPaid, PaymentProviderError, PaymentSignError,
                                      PaymentTradeExists, PaymentUnavailable, RefundRejected)
from alliance.ports import PrepayRequest, RefundRequest
from payments.common import load_private_key
from tests.payments_support import KEYS, PaymentTestCase, failing_once, write_key_pair
from tests.support import VAR_DIR

OTHER_PRIVATE, OTHER_PUBLIC = write_key_pair(VAR_DIR / "test-keys", "wechatpay-other")


class WechatPayCase(PaymentTestCase):
    channel = "wechatpay"
    control = "/_sandbox/wechatpay/_control/pay"

    def prepay(self, out_trade_no="T20261128100001", amount_fen=1234, openid="o-alice"):
        request = PrepayRequest(out_trade_no, amount_fen, "招牌牛肉面", payer_openid=openid,
                                time_expire=utcnow() + dt.timedelta(minutes=30))
        return self.call(self.gateway(self.channel).prepay, request)

    def pay(self, out_trade_no="T20261128100001", **options):
        response = self.api("POST", self.control, {"out_trade_no": out_trade_no, **options})
        assert response.status in (200, 202), response.body
        return response.json

    def gateway_call(self, name: str, *args):
        return self.call(getattr(self.gateway(self.channel), name), *args)

    def assert_raises(self, error_type, status: int, code: str, name: str, *args):
        with pytest.raises(error_type) as caught:
            self.gateway_call(name, *args)
        assert (caught.value.http_status, caught.value.code) == (status, code)
        return caught.value


class WechatPayGatewayTest(WechatPayCase):
    def test_prepay_answers_request_payment_parameters_signed_by_the_merchant(self):
        result = self.prepay()
        params = result.client_params
        assert set(params) == {"timeStamp", "nonceStr", "package", "signType", "paySign"}
        assert params["package"] == f"prepay_id={result.provider_ref}" and params["signType"] == "RSA"
        message = (f"{self.settings.wechat_miniapp_appid}\n{params['timeStamp']}\n"
                   f"{params['nonceStr']}\n{params['package']}\n")
        load_private_key(self.settings.wechatpay_private_key_file).public_key().verify(
            base64.b64decode(params["paySign"]), message.encode(), PKCS1v15(), SHA256())
        query = self.gateway_call("query", "T20261128100001")
        assert (query.state, query.amount_fen, query.payer) == ("unpaid", 1234, "o-alice")

    def test_prepay_again_with_the_same_terms_answers_the_same_prepay_id(self):
        assert self.prepay().provider_ref == self.prepay().provider_ref

    def test_prepay_reusing_out_trade_no_with_another_amount_is_refused(self):
        self.prepay()
        with pytest.raises(PaymentTradeExists) as caught:
            self.prepay(amount_fen=999)
        assert (caught.value.http_status, caught.value.code) == (409, "PAYMENT_TRADE_EXISTS")
        assert caught.value.details["provider_code"] == "OUT_TRADE_NO_USED"

    def test_query_of_an_unknown_trade_is_not_found(self):
        assert self.gateway_call("query", "T20261128199999").state == "not_found"

    def test_pay_control_delivers_a_notification_the_endpoint_accepts(self):
        self.prepay()
        paid = self.pay(wait=True)
        assert paid["deliveries"] == [{"attempts": 1, "status": 204, "accepted": True}]
        [row] = self.notifications()
        assert (row.kind, row.out_trade_no, row.amount_fen, row.transaction_id) == (
            "payment", "T20261128100001", 1234, paid["transaction_id"])
        query = self.gateway_call("query", "T20261128100001")
        assert (query.state, query.transaction_id) == ("paid", paid["transaction_id"])
        assert query.paid_at is not None

    def test_pay_control_duplicates_are_recorded_once(self):
        self.prepay()
        paid = self.pay(duplicates=3, wait=True)
        assert [d["accepted"] for d in paid["deliveries"]] == [True] * 4
        assert len(self.notifications()) == 1

    def test_pay_control_delivers_later_when_delayed(self):
        self.prepay()
        assert self.pay(delay_s=0.3)["deliveries"] is None
        assert self.notifications() == []
        self.wait_for(self.notifications)

    def test_pay_control_retries_until_the_merchant_accepts(self):
        calls = []
        notices.register_payment_handler(failing_once(calls))
        self.prepay()
        paid = self.pay(wait=True)
        assert paid["deliveries"][0]["attempts"] == 2 and paid["deliveries"][0]["accepted"]
        assert self.notifications()[0].status == "processed" and len(calls) == 2

    def test_pay_control_can_notify_another_amount(self):
        self.prepay()
        self.pay(amount_fen=1, wait=True)
        assert self.notifications()[0].amount_fen == 1

    def test_a_notification_under_a_platform_certificate_is_taken_once_it_is_known(self):
        # A merchant moving to the WeChat Pay public key gets notifications signed under
        # the platform certificate for a while: the first is refused while the certificate
        # downloads (never on the event loop), WeChat Pay's next try is taken.
        self.prepay()
        paid = self.pay(signed_by="certificate", wait=True)
        [delivery] = paid["deliveries"]
        assert delivery["accepted"] and delivery["attempts"] >= 2
        rows = self.notifications()
        assert [(row.status, row.reason) for row in rows][:-1] == [
            ("rejected", "UNKNOWN_SERIAL")] * (delivery["attempts"] - 1)
        assert rows[-1].status != "rejected"
        assert rows[-1].transaction_id == paid["transaction_id"]
        gateway = self.gateway(self.channel)
        stand_in = self.extras["wechatpay_sandbox"]
        assert gateway.certificates.key(stand_in.platform_serial) is not None
        assert gateway.certificates.key("PUB_KEY_ID_0000") is None  # not a certificate

    def test_pay_control_of_an_unknown_trade_is_not_found(self):
        response = self.api("POST", self.control, {"out_trade_no": "T20261128199999"})
        assert response.status == 404 and response.json["code"] == "NOT_FOUND"

    def test_close_makes_the_trade_unpayable(self):
        self.prepay()
        assert self.gateway_call("close", "T20261128100001") is None
        assert self.gateway_call("query", "T20261128100001").state == "closed"
        response = self.api("POST", self.control, {"out_trade_no": "T20261128100001"})
        assert response.status == 409 and response.json["code"] == "CLOSED"

    def test_close_of_a_paid_trade_is_refused(self):
        self.prepay()
        self.pay(wait=True)
        self.assert_raises(PaymentAlreadyPaid, 409, "PAYMENT_ALREADY_PAID", "close",
                           "T20261128100001")

    def test_refund_round_trip(self):
        self.prepay()
        self.pay(wait=True)
        request = RefundRequest("T20261128100001", "R20261128100001", 300, 1234, "不想要了")
        refund = self.gateway_call("refund", request)
        assert (refund.status, refund.refund_fen) == ("processing", 300) and refund.refund_id
        [row] = self.wait_for(lambda: self.notifications(kind="refund"))
        assert (row.out_refund_no, row.amount_fen) == ("R20261128100001", 300)
        settled = self.gateway_call("query_refund", "T20261128100001", "R20261128100001")
        assert (settled.status, settled.refund_id) == ("succeeded", refund.refund_id)
        assert self.gateway_call("query", "T20261128100001").state == "refunded"

    def test_refund_beyond_the_paid_amount_is_rejected(self):
        self.prepay()
        self.pay(wait=True)
        error = self.assert_raises(RefundRejected, 409, "REFUND_REJECTED", "refund",
                                   RefundRequest("T20261128100001", "R1", 2000, 1234))
        assert error.details["provider_code"] == "INVALID_REQUEST"

    def test_refund_of_an_unpaid_trade_is_rejected(self):
        self.prepay()
        self.assert_raises(RefundRejected, 409, "REFUND_REJECTED", "refund",
                           RefundRequest("T20261128100001", "R1", 100, 1234))


class WechatPayUnknownMerchantKeyTest(WechatPayCase):
    # We sign with a key whose public half WeChat Pay does not hold.
    env = {"WECHATPAY_PRIVATE_KEY_FILE": str(OTHER_PRIVATE),
           "SANDBOX_MERCHANT_PUBLIC_KEY_FILE": str(KEYS / "merchant_public_key.pem")}

    def test_prepay_signed_with_an_unknown_key_is_a_sign_error(self):
        with pytest.raises(PaymentSignError) as caught:
            self.prepay()
        assert (caught.value.http_status, caught.value.code) == (502, "PAYMENT_SIGN_ERROR")
        assert caught.value.details["provider_code"] == "SIGN_ERROR"


class WechatPayForgedAnswerTest(WechatPayCase):
    # WeChat Pay's public key as we hold it does not match the key its answers carry.
    env = {"WECHATPAY_PUBLIC_KEY_FILE": str(OTHER_PUBLIC)}

    def test_answer_not_signed_by_wechatpay_is_refused(self):
        with pytest.raises(PaymentProviderError) as caught:
            self.prepay()
        assert (caught.value.http_status, caught.value.code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert caught.value.details["reason"] == "answer not verified"


class WechatPayUnreachableTest(WechatPayCase):
    env = {"WECHATPAY_API_BASE": "http://127.0.0.1:9/"}

    def test_unreachable_provider_is_unavailable(self):
        self.assert_raises(PaymentUnavailable, 503, "PAYMENT_UNAVAILABLE", "query", "T1234567")
