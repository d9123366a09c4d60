"""WeChat Pay API v3, imitated: JSAPI orders, query, close, refunds and notifications.

Requests must carry a valid ``Authorization`` (WECHATPAY2-SHA256-RSA2048, the merchant's
key; 401 SIGN_ERROR otherwise); every answer and notification is signed with the stand-in
platform key (``SANDBOX_WECHATPAY_PRIVATE_KEY_FILE``) under ``WECHATPAY_PUBLIC_KEY_ID``,
and notification resources are AES-256-GCM encrypted with the APIv3 key, as WeChat Pay does.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import time
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.x509.oid import NameOID
from wechatpayv3.utils import rsa_sign

from alliance.checks import ascii_digits
from alliance.db import utcnow
from config.settings import Settings
from payments.common import format_rfc3339, load_private_key, load_public_key
from sandbox import paycontrol, trades
from sandbox.base import SandboxHandler
from sandbox.delivery import Notification
from sandbox.models import SandboxRefund, SandboxTrade

PREFIX = "/_sandbox/wechatpay"
SIGNATURE_TYPE = "WECHATPAY2-SHA256-RSA2048"
OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-*|]{6,32}$")
_AUTH_ITEM = re.compile(r'(\w+)="([^"]*)"')
TRADE_ERRORS = {"NOT_FOUND": (404, "ORDER_NOT_EXIST", "订单不存在"),
                "EXISTS": (403, "OUT_TRADE_NO_USED", "商户订单号重复"),
                "PAID": (400, "ORDERPAID", "订单已支付"),
                "CLOSED": (400, "ORDER_CLOSED", "订单已关闭"),
                "NOT_PAID": (400, "INVALID_REQUEST", "订单未支付，不能退款"),
                "REFUND_EXCEEDS": (400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")}

Answer = tuple[int, dict | None]


def error(status: int, code: str, message: str) -> Answer:
    return status, {"code": code, "message": message}


def platform_certificate(key) -> x509.Certificate:
    """The stand-in's platform certificate for ``key``: self-signed, valid 2020 to 2040, its
    serial drawn from the key, so that every process of the stand-in issues the same one."""
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tenpay.com"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com sandbox")])
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    serial = int.from_bytes(hashlib.sha1(der).digest(), "big") >> 1  # positive, 159 bits
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
            .not_valid_after(dt.datetime(2040, 1, 1, tzinfo=dt.timezone.utc))
            .sign(key, SHA256()))


def merchant_public_key(configured: str, private_key_file: str):
    """The merchant's public key as the provider holds it: the configured file, or else
    the public half of the merchant's private key."""
    if configured:
        return load_public_key(configured)
    return load_private_key(private_key_file).public_key()


class WechatPaySandbox:
    provider = "wechatpay"

    def __init__(self, settings: Settings):
        self.mchid, self.appid = settings.wechatpay_mch_id, settings.wechat_miniapp_appid
        self.cert_serial = settings.wechatpay_cert_serial
        self.public_key_id = settings.wechatpay_public_key_id
        self._apiv3_key = settings.wechatpay_apiv3_key.encode()
        self._private_key = load_private_key(settings.sandbox_wechatpay_private_key_file)
        self._merchant_key = merchant_public_key(settings.sandbox_merchant_public_key_file,
                                                 settings.wechatpay_private_key_file)
        self._platform_key = (load_private_key(settings.sandbox_wechatpay_platform_key_file)
                              if settings.sandbox_wechatpay_platform_key_file else None)
        self.platform_certificate = (platform_certificate(self._platform_key)
                                     if self._platform_key else None)

    @property
    def platform_serial(self) -> str:
        """The serial of the stand-in's platform certificate, as ``Wechatpay-Serial`` says it."""
        return format(self.platform_certificate.serial_number, "X")

    # -- signatures ---------------------------------------------------------------------
    def signed_headers(self, body: str, timestamp: int | None = None,
                       signature: str | None = None,
                       by_certificate: bool = False) -> dict[str, str]:
        """The Wechatpay-* headers of an answer or notification with ``body``: signed with
        the WeChat Pay public key's private half, or ``by_certificate`` the platform
        certificate's."""
        ts, nonce = str(int(time.time()) if timestamp is None else timestamp), secrets.token_hex(16)
        key, serial = ((self._platform_key, self.platform_serial) if by_certificate
                       else (self._private_key, self.public_key_id))
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce,
                "Wechatpay-Signature": signature or rsa_sign(key, f"{ts}\n{nonce}\n{body}\n"),
                "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": SIGNATURE_TYPE,
                "Request-ID": uuid.uuid4().hex, "Content-Type": "application/json; charset=utf-8"}

    def verify_request(self, method: str, url: str, body: str, authorization: str) -> bool:
        """Is ``authorization`` the merchant's valid signature of this request?"""
        scheme, _, rest = authorization.partition(" ")
        items = dict(_AUTH_ITEM.findall(rest))
        if scheme != SIGNATURE_TYPE or items.get("mchid") != self.mchid \
                or items.get("serial_no") != self.cert_serial:
            return False
        timestamp = items.get("timestamp", "")
        if not ascii_digits(timestamp, 12) or abs(time.time() - int(timestamp)) >= 300:
            return False
        message = f"{method}\n{url}\n{timestamp}\n{items.get('nonce_str', '')}\n{body}\n"
        try:
            self._merchant_key.verify(base64.b64decode(items.get("signature", "")),
                                      message.encode(), PKCS1v15(), SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def encrypt(self, plaintext: dict, original_type: str) -> dict:
        """An AEAD_AES_256_GCM resource, as WeChat Pay encrypts notification payloads."""
        return {**self.encrypt_text(json.dumps(plaintext, ensure_ascii=False), original_type),
                "original_type": original_type}

    def encrypt_text(self, text: str, associated_data: str) -> dict:
        """``text`` sealed with the APIv3 key (AEAD_AES_256_GCM), as WeChat Pay seals it."""
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM(self._apiv3_key).encrypt(nonce.encode(), text.encode(),
                                                     associated_data.encode())
        return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": associated_data, "nonce": nonce}

    def notification_body(self, notify_id: str, event_type: str, summary: str,
                          resource: dict) -> str:
        return json.dumps({"id": notify_id, "create_time": format_rfc3339(utcnow()),
                           "resource_type": "encrypt-resource", "event_type": event_type,
                           "summary": summary, "resource": resource}, ensure_ascii=False)

    def _notification(self, url: str, notify_id: str, event_type: str, summary: str,
                      plaintext: dict, original_type: str,
                      by_certificate: bool = False) -> Notification:
        body = self.notification_body(notify_id, event_type, summary,
                                      self.encrypt(plaintext, original_type))
        return Notification(url, body.encode(), self.signed_headers(
            body, by_certificate=by_certificate),
            accepted=lambda status, reply: 200 <= status < 300)

    def certificates(self) -> Answer:
        """``GET /v3/certificates``: the platform certificate, sealed with the APIv3 key."""
        certificate = self.platform_certificate
        if certificate is None:
            return 200, {"data": []}
        pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        sealed = self.encrypt_text(pem, "certificate")
        return 200, {"data": [{
            "serial_no": self.platform_serial,
            "effective_time": format_rfc3339(certificate.not_valid_before_utc),
            "expire_time": format_rfc3339(certificate.not_valid_after_utc),
            "encrypt_certificate": sealed}]}

    # -- views ------------------------------------------------------------------------
    def transaction(self, trade: SandboxTrade) -> dict:
        total = trade.amount_fen
        view = {"appid": trade.appid, "mchid": self.mchid, "out_trade_no": trade.out_trade_no,
                "trade_type": "JSAPI", "trade_state": trade.state,
                "trade_state_desc": {"SUCCESS": "支付成功", "REFUND": "转入退款",
                                     "CLOSED": "已关闭"}.get(trade.state, "订单未支付"),
                "payer": {"openid": trade.payer},
                "amount": {"total": total, "currency": "CNY", "payer_currency": "CNY"}}
        if trade.transaction_id:
            view.update(transaction_id=trade.transaction_id, bank_type="OTHERS",
                        success_time=format_rfc3339(trade.paid_at))
            view["amount"]["payer_total"] = total
        return view

    def refund_view(self, refund: SandboxRefund) -> dict:
        trade = SandboxTrade.get_by_id(refund.trade)
        view = {"refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no,
                "transaction_id": trade.transaction_id, "out_trade_no": refund.out_trade_no,
                "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
                "create_time": format_rfc3339(refund.created_at), "status": refund.status,
                "funds_account": "AVAILABLE",
                "amount": {"total": trade.amount_fen, "refund": refund.amount_fen,
                           "payer_total": trade.amount_fen, "payer_refund": refund.amount_fen,
                           "currency": "CNY"}}
        if refund.succeeded_at:
            view["success_time"] = format_rfc3339(refund.succeeded_at)
        return view

    # -- the API ------------------------------------------------------------------------
    def jsapi(self, body: dict) -> Answer:
        amount, payer = body.get("amount") or {}, body.get("payer") or {}
        if body.get("appid") != self.appid or body.get("mchid") != self.mchid:
            return error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        for name, value in (("description", body.get("description")),
                            ("notify_url", body.get("notify_url")), ("payer.openid", payer.get("openid"))):
            if not isinstance(value, str) or not value:
                return error(400, "PARAM_ERROR", f"{name} 为必填项")
        if not OUT_TRADE_NO.match(str(body.get("out_trade_no", ""))):
            return error(400, "PARAM_ERROR", "out_trade_no 格式错误")
        total = amount.get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            return error(400, "PARAM_ERROR", "amount.total 必须为正整数")
        if not body["notify_url"].startswith(("https://", "http://")) or "?" in body["notify_url"]:
            return error(400, "PARAM_ERROR", "notify_url 格式错误")
        try:
            trade = trades.open_trade(self.provider, out_trade_no=body["out_trade_no"],
                                      amount_fen=total, description=body["description"][:127],
                                      appid=self.appid, payer=payer["openid"],
                                      notify_url=body["notify_url"])
        except trades.TradeError as exc:
            return error(*TRADE_ERRORS[exc.reason])
        return 200, {"prepay_id": trade.prepay_id}

    def query(self, out_trade_no: str, mchid: str | None) -> Answer:
        if mchid != self.mchid:
            return error(400, "PARAM_ERROR", "mchid 与请求签名不一致")
        try:
            return 200, self.transaction(trades.find_trade(self.provider, out_trade_no))
        except trades.TradeError as exc:
            return error(*TRADE_ERRORS[exc.reason])

    def close(self, out_trade_no: str, body: dict) -> Answer:
        if body.get("mchid") != self.mchid:
            return error(400, "PARAM_ERROR", "mchid 与请求签名不一致")
        try:
            trades.close_trade(self.provider, out_trade_no)
        except trades.TradeError as exc:
            return error(*TRADE_ERRORS[exc.reason])
        return 204, None

    def refund(self, body: dict) -> tuple[int, dict | None, int | None]:
        """The answer, and the id of a refund to settle (None when nothing new started)."""
        amount = body.get("amount") or {}
        refund_fen, total = amount.get("refund"), amount.get("total")
        if not all(isinstance(v, int) and v > 0 for v in (refund_fen, total)) \
                or not body.get("out_refund_no") or not body.get("out_trade_no"):
            return (*error(400, "PARAM_ERROR", "out_trade_no、out_refund_no、amount 为必填项"), None)
        try:
            trade = trades.find_trade(self.provider, body["out_trade_no"])
            if trade.amount_fen != total:
                return (*error(400, "PARAM_ERROR", "订单金额与原订单不一致"), None)
            refund = trades.open_refund(self.provider, trade.out_trade_no, body["out_refund_no"],
                                        refund_fen, body.get("notify_url") or "")
        except trades.TradeError as exc:
            status, code, message = TRADE_ERRORS[exc.reason]
            if exc.reason == "NOT_FOUND":
                status, code = 404, "RESOURCE_NOT_EXISTS"
            return (*error(status, code, message), None)
        settle = refund.id if refund.status == "PROCESSING" else None
        return 200, self.refund_view(refund), settle

    def query_refund(self, out_refund_no: str) -> Answer:
        try:
            return 200, self.refund_view(trades.find_refund(self.provider, None, out_refund_no))
        except trades.TradeError:
            return error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")

    # -- the buyer and the notifications ----------------------------------------------------
    def pay(self, body: dict) -> tuple[SandboxTrade, Notification]:
        trade = trades.pay_trade(self.provider, str(body.get("out_trade_no") or ""),
                                 amount_fen=trades.amount_override(body))
        plaintext = self.transaction(trade)
        return trade, self._notification(trade.notify_url, f"EV-{trade.notify_id}",
                                         "TRANSACTION.SUCCESS", "支付成功", plaintext,
                                         "transaction",
                                         by_certificate=body.get("signed_by") == "certificate")

    def refund_notification(self, refund: SandboxRefund) -> Notification | None:
        if not refund.notify_url:
            return None
        view = self.refund_view(refund)
        plaintext = {"mchid": self.mchid, "refund_status": refund.status,
                     "user_received_account": view["user_received_account"],
                     **{k: view[k] for k in ("out_trade_no", "transaction_id", "out_refund_no",
                                             "refund_id", "success_time")},
                     "amount": {k: view["amount"][k] for k in ("total", "refund", "payer_total",
                                                               "payer_refund")}}
        return self._notification(refund.notify_url, f"EV-R{refund.refund_id}",
                                  f"REFUND.{refund.status}", "退款成功", plaintext, "refund")


class _Handler(SandboxHandler):
    """Checks the merchant's signature, runs the call, answers signed."""

    @property
    def sandbox(self) -> WechatPaySandbox:
        return self.ctx.extras["wechatpay_sandbox"]

    def prepare(self) -> None:
        super().prepare()
        self.text = self.request.body.decode("utf-8", "replace")
        url = self.request.uri[len(PREFIX):]
        if not self.sandbox.verify_request(self.request.method, url, self.text,
                                           self.request.headers.get("Authorization", "")):
            self.answer(*error(401, "SIGN_ERROR", "签名错误"))

    def body(self) -> dict:
        try:
            value = json.loads(self.text or "{}")
        except (ValueError, RecursionError):
            value = None
        return value if isinstance(value, dict) else {}

    def answer(self, status: int, data: dict | None) -> None:
        text = "" if data is None else json.dumps(data, ensure_ascii=False)
        self.set_status(status)
        for name, value in self.sandbox.signed_headers(text).items():
            self.set_header(name, value)
        self.finish(text or None)


class CertificatesHandler(_Handler):
    async def get(self):
        self.answer(*self.sandbox.certificates())


class JsapiHandler(_Handler):
    async def post(self):
        self.answer(*await self.run_sync(self.sandbox.jsapi, self.body()))


class QueryHandler(_Handler):
    async def get(self, out_trade_no):
        self.answer(*await self.run_sync(self.sandbox.query, out_trade_no, self.query("mchid")))


class CloseHandler(_Handler):
    async def post(self, out_trade_no):
        self.answer(*await self.run_sync(self.sandbox.close, out_trade_no, self.body()))


class RefundHandler(_Handler):
    async def post(self):
        status, data, settle = await self.run_sync(self.sandbox.refund, self.body())
        self.answer(status, data)
        if settle is not None:
            paycontrol.settle_refund_later(self, self.sandbox, settle)


class RefundQueryHandler(_Handler):
    async def get(self, out_refund_no):
        self.answer(*await self.run_sync(self.sandbox.query_refund, out_refund_no))


def routes() -> list:
    return [
        (rf"{PREFIX}/v3/certificates", CertificatesHandler),
        (rf"{PREFIX}/v3/pay/transactions/jsapi", JsapiHandler),
        (rf"{PREFIX}/v3/pay/transactions/out-trade-no/([^/?]+)", QueryHandler),
        (rf"{PREFIX}/v3/pay/transactions/out-trade-no/([^/?]+)/close", CloseHandler),
        (rf"{PREFIX}/v3/refund/domestic/refunds", RefundHandler),
        (rf"{PREFIX}/v3/refund/domestic/refunds/([^/?]+)", RefundQueryHandler),
        (rf"{PREFIX}/_control/pay", paycontrol.PayControlHandler,
         {"stand_in": "wechatpay_sandbox"}),
    ]
