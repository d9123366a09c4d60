"""The WeChat Pay API v2 gateway against WeChat Pay's stand-in, over HTTP."""
import pytest
from wechatpy.pay.utils import calculate_signature

from alliance.payments.errors import PaymentSignError, PaymentTradeExists, RefundRejected
from alliance.ports import RefundRequest
from tests.api.test_gateway_wechatpay import WechatPayCase

API_KEY = "v2sandboxapikey0123456789abcdefg"


class WechatPayV2GatewayTest(WechatPayCase):
    env = {"WECHATPAY_API_KEY": API_KEY}
    channel = "wechatpay_v2"
    control = "/_sandbox/wechatpay/_control/v2/pay"

    def test_prepay_answers_request_payment_parameters_signed_with_the_api_key(self):
        result = self.prepay()
        params = dict(result.client_params)
        assert params["package"] == f"prepay_id={result.provider_ref}" and params["signType"] == "MD5"
        pay_sign = params.pop("paySign")
        assert pay_sign == calculate_signature(
            {**params, "appId": self.settings.wechat_miniapp_appid}, API_KEY)
        query = self.gateway_call("query", "T20261128100001")
        assert (query.state, query.amount_fen) == ("unpaid", 1234)

    def test_prepay_reusing_out_trade_no_with_another_amount_is_refused(self):
        self.prepay()
        with pytest.raises(PaymentTradeExists) as caught:
            self.prepay(amount_fen=999)
        assert (caught.value.http_status, caught.value.code) == (409, "PAYMENT_TRADE_EXISTS")

    def test_pay_control_delivers_a_notification_the_endpoint_accepts(self):
        self.prepay()
        paid = self.pay(wait=True)
        assert paid["deliveries"] == [{"attempts": 1, "status": 200, "accepted": True}]
        [row] = self.notifications()
        assert (row.channel, row.out_trade_no, row.amount_fen) == (
            "wechatpay_v2", "T20261128100001", 1234)
        query = self.gateway_call("query", "T20261128100001")
        assert (query.state, query.transaction_id) == ("paid", paid["transaction_id"])

    def test_refund_round_trip(self):
        self.prepay()
        self.pay(wait=True)
        refund = self.gateway_call("refund", RefundRequest("T20261128100001", "R1", 300, 1234))
        assert refund.status == "processing" and refund.refund_id
        [row] = self.wait_for(lambda: self.notifications(kind="refund"))
        assert (row.out_refund_no, row.amount_fen) == ("R1", 300)
        settled = self.gateway_call("query_refund", "T20261128100001", "R1")
        assert (settled.status, settled.refund_fen) == ("succeeded", 300)
        assert self.gateway_call("query", "T20261128100001").state == "refunded"

    def test_refund_beyond_the_paid_amount_is_rejected(self):
        self.prepay()
        self.pay(wait=True)
        self.assert_raises(RefundRejected, 409, "REFUND_REJECTED", "refund",
                           RefundRequest("T20261128100001", "R1", 5000, 1234))

    def test_close_makes_the_trade_unpayable(self):
        self.prepay()
        self.gateway_call("close", "T20261128100001")
        assert self.gateway_call("query", "T20261128100001").state == "closed"

    def test_request_signed_with_another_api_key_is_a_sign_error(self):
        self.extras["wechatpay_v2_sandbox"].api_key = "the-key-wechatpay-holds-is-other"
        with pytest.raises(PaymentSignError) as caught:
            self.prepay()
        assert (caught.value.http_status, caught.value.code) == (502, "PAYMENT_SIGN_ERROR")
