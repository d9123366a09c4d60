"""The payment channels and the lookup of the gateway serving one."""
from __future__ import annotations

from typing import Mapping

from alliance.payments.errors import PaymentChannelUnavailable
from alliance.ports import PaymentGateway

WECHATPAY = "wechatpay"
WECHATPAY_V2 = "wechatpay_v2"
ALIPAY = "alipay"
CHANNELS = (WECHATPAY, WECHATPAY_V2, ALIPAY)


def gateway_for(gateways: Mapping[str, PaymentGateway], channel: str) -> PaymentGateway:
    """The gateway of ``channel``; PAYMENT_CHANNEL_UNAVAILABLE when none is configured."""
    gateway = gateways.get(channel)
    if gateway is None:
        raise PaymentChannelUnavailable(details={"channel": channel,
                                                 "available": sorted(gateways)})
    return gateway
