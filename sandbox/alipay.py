"""Alipay OpenAPI, imitated at ``gateway.do``: alipay.trade.create / query / close / refund /
fastpay.refund.query. Requests must carry the app's RSA2 sign and a ``timestamp`` in Beijing
time (Alipay answers 40002 ``isv.invalid-timestamp`` to one far from its clock; its window is
not published, the stand-in allows TIMESTAMP_LEEWAY either way); answers are
``{"<method>_response": {...}, "sign": "..."}`` signed over the raw node text, and
notifications are form POSTs signed with the stand-in Alipay key
(``SANDBOX_ALIPAY_PRIVATE_KEY_FILE``), retried until the reply is exactly ``success``."""
from __future__ import annotations

import datetime as dt
import json
import secrets
from urllib.parse import parse_qsl, urlencode

from alipay.aop.api.util.SignatureUtils import sign_with_rsa2, verify_with_rsa

from alliance.db import utcnow
from config.settings import Settings
from payments.alipay import parse_form, sign_content
from payments.common import (fen_to_yuan, format_beijing, load_private_key, parse_beijing,
                             pkcs1_pem, spki_pem, yuan_to_fen)
from sandbox import delivery, paycontrol, trades
from sandbox.base import SandboxHandler
from sandbox.delivery import Notification
from sandbox.models import SandboxRefund, SandboxTrade
from sandbox.wechatpay import merchant_public_key

PREFIX = "/_sandbox/alipay"
TIMESTAMP_LEEWAY = dt.timedelta(minutes=15)
FORM = "application/x-www-form-urlencoded; charset=utf-8"
TRADE_ERRORS = {"NOT_FOUND": ("ACQ.TRADE_NOT_EXIST", "交易不存在"),
                "EXISTS": ("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"),
                "PAID": ("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"),
                "CLOSED": ("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"),
                "NOT_PAID": ("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"),
                "REFUND_EXCEEDS": ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")}


def trade_status(trade: SandboxTrade) -> str:
    if trade.state == trades.NOTPAY:
        return "WAIT_BUYER_PAY"
    if trade.state == trades.CLOSED or trade.refunded_fen >= trade.amount_fen:
        return "TRADE_CLOSED"
    return "TRADE_SUCCESS"


def failure(code: str, msg: str, sub_code: str, sub_msg: str) -> dict:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def business_failure(reason: str) -> dict:
    return failure("40004", "Business Failed", *TRADE_ERRORS[reason])


class AlipaySandbox:
    provider = "alipay"

    def __init__(self, settings: Settings):
        self.app_id, self.seller_id = settings.alipay_app_id, settings.alipay_seller_id
        self._private_key = pkcs1_pem(load_private_key(settings.sandbox_alipay_private_key_file))
        self._app_public_key = spki_pem(merchant_public_key(
            settings.sandbox_alipay_app_public_key_file, settings.alipay_app_private_key_file))

    # -- signatures ---------------------------------------------------------------------
    def sign(self, content: str) -> str:
        return sign_with_rsa2(self._private_key, content, "utf-8")

    def verify_request(self, params: dict[str, str]) -> bool:
        """Is ``sign`` the app's RSA2 signature over the other non-empty parameters?"""
        try:
            return verify_with_rsa(self._app_public_key, sign_content(params).encode(),
                                   params.get("sign", ""))
        except Exception:  # rsa raises VerificationError; bad base64 raises others
            return False

    @staticmethod
    def timely(params: dict[str, str]) -> bool:
        """Is ``timestamp`` a Beijing time within TIMESTAMP_LEEWAY of now, as the gateway
        requires (else isv.invalid-timestamp)?"""
        try:
            sent = parse_beijing(params.get("timestamp", ""))
        except ValueError:
            return False
        return abs(sent - utcnow()) <= TIMESTAMP_LEEWAY

    def response(self, method: str, node: dict) -> str:
        text = json.dumps(node, ensure_ascii=False, separators=(",", ":"))
        name = method.replace(".", "_") + "_response"
        return f'{{"{name}":{text},"sign":"{self.sign(text)}"}}'

    def signed_form(self, params: dict[str, str]) -> bytes:
        """A notification's form body: RSA2 over the sorted parameters minus sign_type."""
        params = {**params, "sign": self.sign(sign_content(params))}
        return urlencode({**params, "sign_type": "RSA2"}).encode()

    # -- the API ------------------------------------------------------------------------
    def gateway(self, params: dict[str, str]) -> tuple[str, Notification | None]:
        """The signed answer to a gateway call, and a notification it causes (refunds)."""
        method = params.get("method", "")
        handler = {"alipay.trade.create": self.create, "alipay.trade.query": self.query,
                   "alipay.trade.close": self.close, "alipay.trade.refund": self.refund,
                   "alipay.trade.fastpay.refund.query": self.refund_query}.get(method)
        if handler is None:
            return self.response("error", failure("40002", "Invalid Arguments",
                                                  "isv.invalid-method", "不存在的方法名")), None
        notification = None
        if params.get("app_id") != self.app_id:
            node = failure("40002", "Invalid Arguments", "isv.invalid-app-id", "无效的AppID参数")
        elif not self.verify_request(params):
            node = failure("40002", "Invalid Arguments", "isv.invalid-signature", "验签出错")
        elif not self.timely(params):
            node = failure("40002", "Invalid Arguments", "isv.invalid-timestamp", "非法的时间戳参数")
        else:
            try:
                biz = json.loads(params.get("biz_content") or "{}")
                node, notification = handler(biz, params)
            except trades.TradeError as exc:
                node = business_failure(exc.reason)
            except (KeyError, ValueError, TypeError, AttributeError):
                node = failure("40002", "Invalid Arguments", "isv.invalid-parameter", "参数有误")
        return self.response(method, node), notification

    @staticmethod
    def success(**fields) -> dict:
        return {"code": "10000", "msg": "Success", **fields}

    # Each call answers (node, notification or None).
    def create(self, biz: dict, params: dict) -> tuple[dict, None]:
        buyer = biz.get("buyer_id") or biz.get("buyer_open_id")
        if not buyer:
            return failure("40001", "Missing Required Arguments", "isv.missing-buyer-id",
                           "缺少买家ID"), None
        trade = self.open_trade(biz, params, buyer)
        return self.success(out_trade_no=trade.out_trade_no, trade_no=trade.prepay_id), None

    def open_trade(self, biz: dict, params: dict, buyer: str | None) -> SandboxTrade:
        amount = yuan_to_fen(biz["total_amount"])
        if amount < 1:
            raise ValueError("total_amount must be at least 0.01")
        return trades.open_trade(self.provider, out_trade_no=biz["out_trade_no"],
                                 amount_fen=amount, description=biz["subject"], appid=self.app_id,
                                 payer=buyer, notify_url=params.get("notify_url") or "")

    def query(self, biz: dict, params: dict) -> tuple[dict, None]:
        trade = trades.find_trade(self.provider, biz.get("out_trade_no"), biz.get("trade_no"))
        node = self.success(**self.trade_fields(trade))
        if trade.paid_at:
            node["send_pay_date"] = format_beijing(trade.paid_at)
        return node, None

    def close(self, biz: dict, params: dict) -> tuple[dict, None]:
        try:
            trade = trades.close_trade(self.provider, biz["out_trade_no"])
        except trades.TradeError as exc:
            if exc.reason == "PAID":  # only WAIT_BUYER_PAY trades close
                return business_failure("NOT_PAID"), None
            raise
        return self.success(out_trade_no=trade.out_trade_no, trade_no=trade.prepay_id), None

    def refund(self, biz: dict, params: dict) -> tuple[dict, Notification | None]:
        out_request_no = biz.get("out_request_no") or biz["out_trade_no"]
        refund = trades.open_refund(self.provider, biz["out_trade_no"], out_request_no,
                                    yuan_to_fen(biz["refund_amount"]), notify_url="")
        fund_change = "N"
        if refund.status == "PROCESSING":  # Alipay refunds at once
            refund, fund_change = trades.finish_refund(refund.id), "Y"
        trade = SandboxTrade.get_by_id(refund.trade)
        node = self.success(trade_no=trade.transaction_id, out_trade_no=trade.out_trade_no,
                            buyer_logon_id="sandbox***@alipay.com", fund_change=fund_change,
                            refund_fee=fen_to_yuan(trade.refunded_fen),
                            gmt_refund_pay=format_beijing(refund.succeeded_at))
        return node, self.refund_notification(refund) if fund_change == "Y" else None

    def refund_query(self, biz: dict, params: dict) -> tuple[dict, None]:
        out_trade_no = biz["out_trade_no"]
        try:
            refund = trades.find_refund(self.provider, out_trade_no,
                                        biz.get("out_request_no") or out_trade_no)
        except trades.TradeError:  # Alipay answers success without refund_status
            return self.success(out_trade_no=out_trade_no), None
        trade = SandboxTrade.get_by_id(refund.trade)
        return self.success(trade_no=trade.transaction_id, out_trade_no=out_trade_no,
                            out_request_no=refund.out_refund_no,
                            total_amount=fen_to_yuan(trade.amount_fen),
                            refund_amount=fen_to_yuan(refund.amount_fen),
                            refund_status="REFUND_SUCCESS",
                            gmt_refund_pay=format_beijing(refund.succeeded_at)), None

    @staticmethod
    def trade_fields(trade: SandboxTrade) -> dict:
        total = fen_to_yuan(trade.amount_fen)
        fields = {"out_trade_no": trade.out_trade_no, "trade_status": trade_status(trade),
                  "total_amount": total, "buyer_id": trade.payer or "",
                  "buyer_user_id": trade.payer or ""}
        if trade.transaction_id:
            fields.update(trade_no=trade.transaction_id, receipt_amount=total,
                          buyer_pay_amount=total)
        return fields

    # -- the buyer and the notifications ----------------------------------------------------
    def pay(self, body: dict) -> tuple[SandboxTrade, Notification]:
        """Pay the trade ``out_trade_no``, or the one an app-pay ``order_string`` opens (as
        the Alipay app does when the buyer confirms it)."""
        order_string = body.get("order_string")
        if isinstance(order_string, str) and order_string:
            params = dict(parse_qsl(order_string, keep_blank_values=True))
            if (params.get("app_id") != self.app_id or not self.verify_request(params)
                    or not self.timely(params)):
                raise trades.TradeError("INVALID_ORDER_STRING")
            biz = json.loads(params["biz_content"])
            out_trade_no = self.open_trade(biz, params, None).out_trade_no
        else:
            out_trade_no = str(body.get("out_trade_no") or "")
        trade = trades.pay_trade(self.provider, out_trade_no, payer="2088" + trades.digits(12),
                                 amount_fen=trades.amount_override(body))
        fields = self.notify_fields(trade, trade.notify_id)
        return trade, self.notification(trade.notify_url, fields)

    def notify_fields(self, trade: SandboxTrade, notify_id: str) -> dict:
        fields = {**self.trade_fields(trade), "notify_id": notify_id,
                  "notify_type": "trade_status_sync", "notify_time": format_beijing(utcnow()),
                  "app_id": self.app_id, "auth_app_id": self.app_id, "seller_id": self.seller_id,
                  "charset": "utf-8", "version": "1.0", "subject": trade.description,
                  "gmt_create": format_beijing(trade.created_at)}
        fields.pop("buyer_user_id")
        if trade.paid_at:
            fields["gmt_payment"] = format_beijing(trade.paid_at)
        return fields

    def notification(self, url: str, fields: dict) -> Notification:
        return Notification(url, self.signed_form(fields), {"Content-Type": FORM},
                            accepted=lambda status, reply: reply == b"success")

    def refund_notification(self, refund: SandboxRefund) -> Notification | None:
        trade = SandboxTrade.get_by_id(refund.trade)
        if not trade.notify_url:
            return None
        fields = {**self.notify_fields(trade, secrets.token_hex(16)),
                  "out_biz_no": refund.out_refund_no, "refund_fee": fen_to_yuan(trade.refunded_fen),
                  "gmt_refund": format_beijing(refund.succeeded_at) + ".000"}
        return self.notification(trade.notify_url, fields)


class GatewayHandler(SandboxHandler):
    async def post(self):
        sandbox: AlipaySandbox = self.ctx.extras["alipay_sandbox"]
        try:
            params = {**parse_form(self.request.query.encode()), **parse_form(self.request.body)}
        except (UnicodeError, ValueError):
            params = {}
        answer, notification = await self.run_sync(sandbox.gateway, params)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(answer)
        if notification is not None:
            await delivery.send([notification])


def routes() -> list:
    return [(rf"{PREFIX}/gateway.do", GatewayHandler),
            (rf"{PREFIX}/_control/pay", paycontrol.PayControlHandler,
             {"stand_in": "alipay_sandbox"})]
