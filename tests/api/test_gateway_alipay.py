"""The Alipay gateway against Alipay's stand-in, over HTTP."""
import contextlib
import datetime as dt
import json
import os
import time
from urllib.parse import parse_qsl

import pytest

from alliance.db import utcnow
from alliance.payments.errors import (PaymentProviderError, PaymentSignError, PaymentTradeExists,
                                      RefundRejected)
from alliance.ports import PrepayRequest, RefundRequest
from payments.common import format_beijing, parse_beijing
from tests.payments_support import KEYS, PaymentTestCase, write_key_pair
from tests.support import VAR_DIR

OTHER_PRIVATE, OTHER_PUBLIC = write_key_pair(VAR_DIR / "test-keys", "alipay-other")
CONTROL = "/_sandbox/alipay/_control/pay"


@contextlib.contextmanager
def host_zone(name: str):
    """The process's local time zone set to ``name`` for a while."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ")
        else:
            os.environ["TZ"] = before
        time.tzset()


class AlipayCase(PaymentTestCase):
    def prepay(self, out_trade_no="T20261128200001", amount_fen=1234, buyer_id=None):
        request = PrepayRequest(out_trade_no, amount_fen, "电影票 2 张", buyer_id=buyer_id)
        return self.call(self.gateway("alipay").prepay, request)

    def gateway_call(self, name: str, *args):
        return self.call(getattr(self.gateway("alipay"), name), *args)

    def pay(self, **body):
        response = self.api("POST", CONTROL, {"wait": True, **body})
        assert response.status == 200, response.body
        return response.json


class AlipayGatewayTest(AlipayCase):
    def test_prepay_answers_a_signed_app_pay_order_string(self):
        result = self.prepay()
        params = dict(parse_qsl(result.client_params["order_string"]))
        assert (params["app_id"], params["method"], params["sign_type"]) == (
            self.settings.alipay_app_id, "alipay.trade.app.pay", "RSA2")
        assert params["notify_url"] == self.settings.public_base_url + "/payments/alipay/notify"
        biz = json.loads(params["biz_content"])
        assert (biz["out_trade_no"], biz["total_amount"]) == ("T20261128200001", "12.34")
        assert self.extras["alipay_sandbox"].verify_request(params)

    def test_requests_are_stamped_in_beijing_time_whatever_the_hosts_zone(self):
        with host_zone("America/New_York"):  # Alipay reads `timestamp` as Beijing time
            params = dict(parse_qsl(self.prepay().client_params["order_string"]))
            opened = self.prepay("T20261128200002", buyer_id="2088102177846875")  # gateway call
        stamped = parse_beijing(params["timestamp"])
        assert abs(stamped - utcnow()) < dt.timedelta(minutes=1)
        assert opened.client_params["trade_no"]

    def test_a_request_stamped_hours_off_is_refused_as_alipay_does(self):
        stale = {"timestamp": format_beijing(utcnow() - dt.timedelta(hours=8))}
        assert not self.extras["alipay_sandbox"].timely(stale)
        assert self.extras["alipay_sandbox"].timely({"timestamp": format_beijing(utcnow())})
        assert not self.extras["alipay_sandbox"].timely({"timestamp": "soon"})

    def test_order_string_paid_in_the_app_is_notified_and_queried_paid(self):
        result = self.prepay()
        paid = self.pay(order_string=result.client_params["order_string"])
        assert paid["deliveries"] == [{"attempts": 1, "status": 200, "accepted": True}]
        [row] = self.notifications()
        assert (row.channel, row.out_trade_no, row.amount_fen, row.transaction_id) == (
            "alipay", "T20261128200001", 1234, paid["transaction_id"])
        query = self.gateway_call("query", "T20261128200001")
        assert (query.state, query.amount_fen, query.transaction_id) == (
            "paid", 1234, paid["transaction_id"])

    def test_order_string_altered_by_the_client_is_not_paid(self):
        order_string = self.prepay().client_params["order_string"].replace("12.34", "0.01")
        response = self.api("POST", CONTROL, {"order_string": order_string})
        assert response.status == 400 and response.json["code"] == "INVALID_ORDER_STRING"
        assert self.notifications() == []

    def test_prepay_for_a_mini_program_buyer_opens_the_trade(self):
        result = self.prepay(buyer_id="2088102177846875")
        assert result.client_params["trade_no"] == result.provider_ref
        query = self.gateway_call("query", "T20261128200001")
        assert (query.state, query.provider_state) == ("unpaid", "WAIT_BUYER_PAY")
        self.pay(out_trade_no="T20261128200001")
        assert self.notifications()[0].transaction_id == result.provider_ref

    def test_prepay_reusing_out_trade_no_with_another_amount_is_refused(self):
        self.prepay(buyer_id="2088102177846875")
        with pytest.raises(PaymentTradeExists) as caught:
            self.prepay(amount_fen=1, buyer_id="2088102177846875")
        assert (caught.value.http_status, caught.value.code) == (409, "PAYMENT_TRADE_EXISTS")

    def test_query_of_an_unknown_trade_is_not_found(self):
        assert self.gateway_call("query", "T20261128299999").state == "not_found"

    def test_close_makes_the_trade_unpayable(self):
        self.prepay(buyer_id="2088102177846875")
        self.gateway_call("close", "T20261128200001")
        assert self.gateway_call("query", "T20261128200001").state == "closed"

    def test_refund_round_trip(self):
        self.pay(order_string=self.prepay().client_params["order_string"])
        refund = self.gateway_call("refund", RefundRequest("T20261128200001", "R1", 300, 1234))
        assert (refund.status, refund.refund_fen) == ("succeeded", 300)
        [row] = self.wait_for(lambda: self.notifications(kind="refund"))
        assert (row.out_refund_no, row.out_trade_no) == ("R1", "T20261128200001")
        assert self.gateway_call("query_refund", "T20261128200001", "R1").status == "succeeded"
        again = self.gateway_call("refund", RefundRequest("T20261128200001", "R1", 300, 1234))
        assert (again.status, again.refund_fen) == ("succeeded", 300)
        assert self.gateway_call("query", "T20261128200001").state == "paid"

    def test_refund_beyond_the_paid_amount_is_rejected(self):
        self.pay(order_string=self.prepay().client_params["order_string"])
        with pytest.raises(RefundRejected) as caught:
            self.gateway_call("refund", RefundRequest("T20261128200001", "R1", 5000, 1234))
        assert (caught.value.http_status, caught.value.code) == (409, "REFUND_REJECTED")
        assert caught.value.details["provider_code"] == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"


class AlipayUnknownAppKeyTest(AlipayCase):
    env = {"ALIPAY_APP_PRIVATE_KEY_FILE": str(OTHER_PRIVATE),
           "SANDBOX_ALIPAY_APP_PUBLIC_KEY_FILE": str(KEYS / "alipay_app_public_key.pem")}

    def test_request_signed_with_an_unknown_key_is_a_sign_error(self):
        with pytest.raises(PaymentSignError) as caught:
            self.prepay(buyer_id="2088102177846875")
        assert (caught.value.http_status, caught.value.code) == (502, "PAYMENT_SIGN_ERROR")
        assert caught.value.details["provider_code"] == "isv.invalid-signature"


class AlipayForgedAnswerTest(AlipayCase):
    env = {"ALIPAY_PUBLIC_KEY_FILE": str(OTHER_PUBLIC)}

    def test_answer_not_signed_by_alipay_is_refused(self):
        with pytest.raises(PaymentProviderError) as caught:
            self.gateway_call("query", "T20261128200001")
        assert (caught.value.http_status, caught.value.code) == (502, "PAYMENT_PROVIDER_ERROR")
        assert caught.value.details["reason"] == "answer not verified"
