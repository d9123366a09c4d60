"""Money, time and signature formats the providers fix (vectors from PROTOCOLS.md)."""
import datetime as dt

import pytest

from payments.common import (fen_to_yuan, format_beijing, format_compact, format_rfc3339,
                             parse_beijing, parse_compact, parse_rfc3339, yuan_to_fen)
from sandbox.wechatpay_v2 import WechatPayV2Sandbox
from tests.support import make_settings

UTC_NOON = dt.datetime(2026, 11, 28, 4, 0, 0)  # 12:00 in Beijing


@pytest.mark.parametrize("fen, yuan", [(0, "0.00"), (1, "0.01"), (1234, "12.34"),
                                       (100000000, "1000000.00")])
def test_fen_and_yuan_convert_both_ways(fen, yuan):
    assert fen_to_yuan(fen) == yuan and yuan_to_fen(yuan) == fen


@pytest.mark.parametrize("text", ["12.345", "-1.00", "1e3", " 1.00", "01.00", "", "12.", "NaN"])
def test_yuan_that_is_not_a_plain_amount_is_refused(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_yuan_without_decimals_is_whole_yuan():
    assert yuan_to_fen("12") == 1200 and yuan_to_fen("12.3") == 1230


def test_provider_times_are_beijing_and_stored_as_utc():
    assert format_rfc3339(UTC_NOON) == "2026-11-28T12:00:00+08:00"
    assert parse_rfc3339("2026-11-28T12:00:00+08:00") == UTC_NOON
    assert format_compact(UTC_NOON) == "20261128120000" and parse_compact("20261128120000") == UTC_NOON
    assert format_beijing(UTC_NOON) == "2026-11-28 12:00:00"
    assert parse_beijing("2026-11-28 12:00:00.250") == UTC_NOON


def test_v2_signatures_match_the_published_vector():
    stand_in = WechatPayV2Sandbox(make_settings("sqlite:///:memory:",
                                                WECHATPAY_API_KEY="192006250b4c09247ec02edce69f6a2d"))
    fields = {"appid": "wxd930ea5d5a258f4f", "body": "test", "device_info": "1000",
              "mch_id": "10000100", "nonce_str": "ibuaiVcKdpRxkhJA"}
    assert stand_in.sign(fields) == "9A0A8659F005D6984697E2CA0A9CF3B7"
    assert stand_in.sign(fields, "HMAC-SHA256") == \
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"


def test_v2_pay_sign_matches_the_published_vector():
    stand_in = WechatPayV2Sandbox(make_settings("sqlite:///:memory:",
                                                WECHATPAY_API_KEY="qazwsxedcrfvtgbyhnujmikolp111111"))
    fields = {"appId": "wxd678efh567hg6787", "nonceStr": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
              "package": "prepay_id=wx2017033010242291fcfe0db70013231072", "signType": "MD5",
              "timeStamp": "1490840662"}
    assert stand_in.sign(fields) == "22D9B4E54AB1950F51E0649E8810ACD6"
