"""WeChat Pay API v2, imitated: XML requests and answers signed with the API key (MD5 or
HMAC-SHA256, as the request says), unified order, query, close, refunds, and notifications:
payment results signed like the order, refund results with an AES-256-ECB ``req_info``."""
from __future__ import annotations

import hashlib
import hmac
import secrets

import xmltodict
from wechatpy.crypto import RefundCrypto
from wechatpy.pay.utils import calculate_signature, calculate_signature_hmac, dict_to_xml

from config.settings import Settings
from payments.common import format_beijing, format_compact
from sandbox import paycontrol, trades
from sandbox.base import SandboxHandler
from sandbox.delivery import Notification
from sandbox.models import SandboxRefund, SandboxTrade
from sandbox.wechatpay import PREFIX

XML = "text/xml; charset=utf-8"
TRADE_ERRORS = {"NOT_FOUND": ("ORDERNOTEXIST", "订单不存在"),
                "EXISTS": ("OUT_TRADE_NO_USED", "商户订单号重复"),
                "PAID": ("ORDERPAID", "订单已支付"), "CLOSED": ("ORDERCLOSED", "订单已关闭"),
                "NOT_PAID": ("INVALID_REQUEST", "订单未支付，不能退款"),
                "REFUND_EXCEEDS": ("INVALID_REQUEST", "申请退款金额超过订单可退金额")}

Answer = tuple[bytes, int | None]  # the XML, and the id of a refund to settle


def merchant_accepted(status: int, reply: bytes) -> bool:
    """WeChat Pay v2 stops retrying only on a SUCCESS return_code."""
    try:
        return status == 200 and xmltodict.parse(reply)["xml"]["return_code"] == "SUCCESS"
    except Exception:  # anything unparsable is a failure, as for WeChat Pay
        return False


class WechatPayV2Sandbox:
    provider = "wechatpay_v2"

    def __init__(self, settings: Settings):
        self.appid, self.mch_id = settings.wechat_miniapp_appid, settings.wechatpay_mch_id
        self.api_key = settings.wechatpay_api_key or ""

    # -- signatures ---------------------------------------------------------------------
    def sign(self, data: dict, sign_type: str = "MD5") -> str:
        signer = calculate_signature_hmac if sign_type == "HMAC-SHA256" else calculate_signature
        return signer({k: v for k, v in data.items() if k != "sign"}, self.api_key)

    def signed_xml(self, data: dict, sign_type: str = "MD5") -> bytes:
        return dict_to_xml(data, self.sign(data, sign_type)).encode()

    def answer(self, fields: dict, sign_type: str) -> bytes:
        return self.signed_xml({"return_code": "SUCCESS", "return_msg": "OK", "appid": self.appid,
                                "mch_id": self.mch_id, "nonce_str": secrets.token_hex(16),
                                "result_code": "SUCCESS", **fields}, sign_type)

    def failure(self, reason: str, sign_type: str) -> bytes:
        err_code, description = TRADE_ERRORS.get(reason, (reason, reason))
        return self.answer({"result_code": "FAIL", "err_code": err_code,
                            "err_code_des": description}, sign_type)

    @staticmethod
    def refusal(return_msg: str) -> bytes:
        return dict_to_xml({"return_code": "FAIL", "return_msg": return_msg}).encode()

    # -- the API ------------------------------------------------------------------------
    def handle(self, endpoint: str, body: bytes) -> Answer:
        try:
            data = xmltodict.parse(body)["xml"]
            if not isinstance(data, dict):
                raise ValueError("empty")
        except Exception:  # expat and xmltodict raise several kinds
            return self.refusal("XML格式错误"), None
        sign_type = data.get("sign_type") or "MD5"
        if not self.api_key or sign_type not in ("MD5", "HMAC-SHA256") or \
                not hmac.compare_digest(str(data.get("sign") or ""), self.sign(data, sign_type)):
            return self.refusal("签名错误"), None
        if data.get("appid") != self.appid or data.get("mch_id") != self.mch_id:
            return self.failure("APPID_MCHID_NOT_MATCH", sign_type), None
        try:
            return getattr(self, endpoint)(data, sign_type)
        except trades.TradeError as exc:
            return self.failure(exc.reason, sign_type), None
        except (KeyError, ValueError):
            return self.failure("LACK_PARAMS", sign_type), None

    def unifiedorder(self, data: dict, sign_type: str) -> Answer:
        if data["trade_type"] != "JSAPI" or not data.get("openid") or int(data["total_fee"]) < 1:
            raise ValueError("JSAPI orders need an openid and a positive total_fee")
        trade = trades.open_trade(
            self.provider, out_trade_no=data["out_trade_no"], amount_fen=int(data["total_fee"]),
            description=data["body"], appid=self.appid, payer=data["openid"],
            notify_url=data["notify_url"], sign_type=sign_type)
        return self.answer({"trade_type": "JSAPI", "prepay_id": trade.prepay_id}, sign_type), None

    def orderquery(self, data: dict, sign_type: str) -> Answer:
        trade = trades.find_trade(self.provider, data.get("out_trade_no"),
                                  data.get("transaction_id"))
        return self.answer(self.trade_fields(trade), sign_type), None

    def closeorder(self, data: dict, sign_type: str) -> Answer:
        trades.close_trade(self.provider, data["out_trade_no"])
        return self.answer({}, sign_type), None

    def refund(self, data: dict, sign_type: str) -> Answer:
        trade = trades.find_trade(self.provider, data.get("out_trade_no"),
                                  data.get("transaction_id"))
        if int(data["total_fee"]) != trade.amount_fen:
            raise ValueError("total_fee differs from the order")
        refund = trades.open_refund(self.provider, trade.out_trade_no, data["out_refund_no"],
                                    int(data["refund_fee"]), data.get("notify_url") or "")
        fields = {"transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                  "out_refund_no": refund.out_refund_no, "refund_id": refund.refund_id,
                  "refund_fee": refund.amount_fen, "total_fee": trade.amount_fen,
                  "cash_fee": trade.amount_fen}
        settle = refund.id if refund.status == "PROCESSING" else None
        return self.answer(fields, sign_type), settle

    def refundquery(self, data: dict, sign_type: str) -> Answer:
        try:
            refund = trades.find_refund(self.provider, data.get("out_trade_no"),
                                        data["out_refund_no"])
        except trades.TradeError:
            return self.failure("REFUNDNOTEXIST", sign_type), None
        trade = SandboxTrade.get_by_id(refund.trade)
        fields = {"transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                  "total_fee": trade.amount_fen, "refund_count": 1,
                  "out_refund_no_0": refund.out_refund_no, "refund_id_0": refund.refund_id,
                  "refund_fee_0": refund.amount_fen, "refund_status_0": refund.status}
        if refund.succeeded_at:
            fields["refund_success_time_0"] = format_beijing(refund.succeeded_at)
        return self.answer(fields, sign_type), None

    @staticmethod
    def trade_fields(trade: SandboxTrade) -> dict:
        total = trade.amount_fen
        fields = {"out_trade_no": trade.out_trade_no, "trade_state": trade.state,
                  "total_fee": total, "fee_type": "CNY", "openid": trade.payer,
                  "trade_type": "JSAPI", "is_subscribe": "N"}
        if trade.transaction_id:
            fields.update(transaction_id=trade.transaction_id, bank_type="OTHERS",
                          cash_fee=total, time_end=format_compact(trade.paid_at))
        return fields

    # -- the buyer and the notifications ----------------------------------------------------
    def pay(self, body: dict) -> tuple[SandboxTrade, Notification]:
        trade = trades.pay_trade(self.provider, str(body.get("out_trade_no") or ""),
                                 amount_fen=trades.amount_override(body))
        fields = self.trade_fields(trade)
        fields.pop("trade_state")
        if trade.sign_type == "HMAC-SHA256":
            fields["sign_type"] = trade.sign_type
        xml = self.answer(fields, trade.sign_type or "MD5")
        return trade, Notification(trade.notify_url, xml, {"Content-Type": XML},
                                   merchant_accepted)

    def refund_notification(self, refund: SandboxRefund) -> Notification | None:
        if not refund.notify_url:
            return None
        trade = SandboxTrade.get_by_id(refund.trade)
        info = {"transaction_id": trade.transaction_id, "out_trade_no": trade.out_trade_no,
                "refund_id": refund.refund_id, "out_refund_no": refund.out_refund_no,
                "total_fee": trade.amount_fen, "refund_fee": refund.amount_fen,
                "settlement_refund_fee": refund.amount_fen, "refund_status": refund.status,
                "success_time": format_beijing(refund.succeeded_at),
                "refund_recv_accout": "支付用户的零钱", "refund_request_source": "API"}
        plaintext = "<root>" + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in info.items()) \
            + "</root>"
        key = hashlib.md5(self.api_key.encode()).hexdigest().encode()
        outer = {"return_code": "SUCCESS", "appid": self.appid, "mch_id": self.mch_id,
                 "nonce_str": secrets.token_hex(16),
                 "req_info": RefundCrypto(key).encrypt(plaintext).decode()}
        return Notification(refund.notify_url, dict_to_xml(outer).encode(), {"Content-Type": XML},
                            merchant_accepted)


class V2Handler(SandboxHandler):
    def initialize(self, endpoint: str) -> None:
        self.endpoint = endpoint

    async def post(self):
        sandbox: WechatPayV2Sandbox = self.ctx.extras["wechatpay_v2_sandbox"]
        xml, settle = await self.run_sync(sandbox.handle, self.endpoint, self.request.body)
        self.set_header("Content-Type", XML)
        self.finish(xml)
        if settle is not None:
            paycontrol.settle_refund_later(self, sandbox, settle)


def routes() -> list:
    return [(rf"{PREFIX}/{path}", V2Handler, {"endpoint": endpoint})
            for path, endpoint in (("pay/unifiedorder", "unifiedorder"),
                                   ("pay/orderquery", "orderquery"),
                                   ("pay/closeorder", "closeorder"),
                                   ("secapi/pay/refund", "refund"),
                                   ("pay/refundquery", "refundquery"))] + [
        (rf"{PREFIX}/_control/v2/pay", paycontrol.PayControlHandler,
         {"stand_in": "wechatpay_v2_sandbox"})]
