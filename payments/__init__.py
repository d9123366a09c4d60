"""The PaymentGateway adapters (WeChat Pay v3 and v2, Alipay) and their notify endpoints.

``make_gateways`` chooses them once, from the settings: the orders capability finds them in
``ctx.extras["payment_gateways"]``, keyed by channel.
"""
from __future__ import annotations

from alliance.payments.channels import ALIPAY, WECHATPAY, WECHATPAY_V2
from alliance.ports import PaymentGateway
from config.settings import Settings
from payments.alipay import AlipayGateway
from payments.wechatpay_v2 import WechatPayV2Gateway
from payments.wechatpay_v3 import WechatPayV3Gateway

# Where each provider notifies us (CONTRACT.md's fixed URLs), under PUBLIC_BASE_URL.
NOTIFY_PATHS = {
    WECHATPAY: "/payments/wechatpay/notify",
    WECHATPAY_V2: "/payments/wechatpay/v2/notify",
    ALIPAY: "/payments/alipay/notify",
}


def notify_url(settings: Settings, channel: str) -> str:
    return settings.public_base_url + NOTIFY_PATHS[channel]


def make_gateways(settings: Settings) -> dict[str, PaymentGateway]:
    """Every channel the settings configure: WeChat Pay v3 and Alipay always, v2 only with
    ``WECHATPAY_API_KEY``."""
    timeout = settings.upstream_timeout_s
    gateways: dict[str, PaymentGateway] = {
        WECHATPAY: WechatPayV3Gateway(
            mchid=settings.wechatpay_mch_id, appid=settings.wechat_miniapp_appid,
            apiv3_key=settings.wechatpay_apiv3_key, cert_serial=settings.wechatpay_cert_serial,
            private_key_file=settings.wechatpay_private_key_file,
            public_key_file=settings.wechatpay_public_key_file,
            public_key_id=settings.wechatpay_public_key_id,
            api_base=settings.wechatpay_api_base,
            notify_url=notify_url(settings, WECHATPAY), timeout=timeout),
        ALIPAY: AlipayGateway(
            app_id=settings.alipay_app_id, app_private_key_file=settings.alipay_app_private_key_file,
            alipay_public_key_file=settings.alipay_public_key_file,
            seller_id=settings.alipay_seller_id, gateway=settings.alipay_gateway,
            notify_url=notify_url(settings, ALIPAY), timeout=timeout),
    }
    if settings.wechatpay_api_key:
        gateways[WECHATPAY_V2] = WechatPayV2Gateway(
            appid=settings.wechat_miniapp_appid, mch_id=settings.wechatpay_mch_id,
            api_key=settings.wechatpay_api_key, api_base=settings.wechatpay_api_base,
            notify_url=notify_url(settings, WECHATPAY_V2), timeout=timeout,
            cert_file=settings.wechatpay_cert_file,
            key_file=settings.wechatpay_private_key_file)
    return gateways
