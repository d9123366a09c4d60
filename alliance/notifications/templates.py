"""What each notification says: events rendered into WeChat message templates.

Templates are configured per event as JSON (``WECHAT_SUBSCRIBE_TEMPLATES`` for mini-program
subscribe messages, ``WECHAT_OA_TEMPLATES`` for official-account template messages), because
template ids and their keyword names belong to each WeChat account:

    {"order.paid": {"template_id": "...", "page": "pages/order/detail?order_no={order_no}",
                    "data": {"character_string1": "{order_no}", "amount2": "{amount_yuan}"}}}

Values are ``str.format`` templates over the event's data plus derived fields: for every
``*_fen`` a ``*_yuan`` ("12.50元"), for every time (``*_at``, ``valid_until``) a ``*_text``
("2026-11-28 14:05", Asia/Shanghai), and ``result_text`` for a ``result``. Subscribe values
are cut to WeChat's limits by keyword kind (thing 20, name 10, phrase 5, ...).
"""
from __future__ import annotations

import datetime as dt
import json
import string
from dataclasses import dataclass

from alliance.clock import SHANGHAI, parse_iso

# The events the backend sends, and the data fields each one needs.
EVENTS: dict[str, tuple[str, ...]] = {
    "order.paid": ("order_no", "amount_fen", "merchant_name", "paid_at"),
    "order.shipped": ("order_no", "merchant_name", "shipped_at"),
    "order.refund_result": ("order_no", "refund_fen", "result"),
    "coupon.expiring": ("coupon_name", "merchant_name", "valid_until"),
    "merchant.audit_result": ("merchant_name", "result"),
    "referral.rewarded": ("invitee_nickname", "points"),
    "catalog.item_approved": ("item_name",),
    "catalog.item_rejected": ("item_name", "reason"),
    "catalog.item_taken_down": ("item_name", "reason"),
    "merchant.push": ("merchant_name", "title", "content", "page"),
    "points.earned": ("points", "merchant_name", "balance"),
    "cooperation.updated": ("merchant_name", "action_text", "kind_text"),
    "group_buy.succeeded": ("order_no", "item_name", "group_size"),
    "group_buy.failed": ("order_no", "item_name", "refund_fen"),
    "campaign.audit_result": ("campaign_name", "subject_text", "result"),
    "complaint.resolved": ("complaint_id", "subject", "result", "resolution"),
    "campaign.promoted": ("campaign_id", "campaign_name", "title", "content", "ends_at"),
    "lottery.won": ("draw_id", "lottery_id", "lottery_title", "prize_name", "won_at"),
}
OPTIONAL_DEFAULTS = {"reason": "无", "carrier": "", "tracking_no": ""}
RESULT_TEXT = {"approved": "审核通过", "rejected": "未通过", "suspended": "已暂停营业",
               "reinstated": "已恢复营业", "success": "退款成功", "failed": "退款失败",
               "refused": "已拒绝", "resolved": "已处理", "dismissed": "未予支持"}
VALUE_LIMITS = {"thing": 20, "name": 10, "phrase": 5, "character_string": 32, "number": 32,
                "letter": 32, "symbol": 5, "car_number": 8, "phone_number": 17}

SANDBOX_SUBSCRIBE_TEMPLATES = {
    "order.paid": {"template_id": "sandbox-subscribe-order-paid",
                   "page": "pages/order/detail?order_no={order_no}",
                   "data": {"character_string1": "{order_no}", "thing2": "{merchant_name}",
                            "amount3": "{amount_yuan}", "time4": "{paid_at_text}"}},
    "order.shipped": {"template_id": "sandbox-subscribe-order-shipped",
                      "page": "pages/order/detail?order_no={order_no}",
                      "data": {"character_string1": "{order_no}", "thing2": "{merchant_name}",
                               "time3": "{shipped_at_text}", "thing4": "{carrier} {tracking_no}"}},
    "order.refund_result": {"template_id": "sandbox-subscribe-refund-result",
                            "page": "pages/order/detail?order_no={order_no}",
                            "data": {"character_string1": "{order_no}",
                                     "amount2": "{refund_yuan}", "phrase3": "{result_text}",
                                     "thing4": "{reason}"}},
    "coupon.expiring": {"template_id": "sandbox-subscribe-coupon-expiring",
                        "page": "pages/coupons/index",
                        "data": {"thing1": "{coupon_name}", "thing2": "{merchant_name}",
                                 "time3": "{valid_until_text}"}},
    "merchant.audit_result": {"template_id": "sandbox-subscribe-audit-result",
                              "page": "pages/merchant/index",
                              "data": {"thing1": "{merchant_name}", "phrase2": "{result_text}",
                                       "thing3": "{reason}"}},
    "referral.rewarded": {"template_id": "sandbox-subscribe-referral-reward",
                          "page": "pages/referral/index",
                          "data": {"thing1": "好友{invitee_nickname}完成首单",
                                   "number2": "{points}"}},
    "catalog.item_approved": {"template_id": "sandbox-subscribe-item-review",
                              "page": "pages/merchant/catalog",
                              "data": {"thing1": "{item_name}", "phrase2": "审核通过"}},
    "catalog.item_rejected": {"template_id": "sandbox-subscribe-item-review",
                              "page": "pages/merchant/catalog",
                              "data": {"thing1": "{item_name}", "phrase2": "未通过",
                                       "thing3": "{reason}"}},
    "catalog.item_taken_down": {"template_id": "sandbox-subscribe-item-review",
                                "page": "pages/merchant/catalog",
                                "data": {"thing1": "{item_name}", "phrase2": "已下架",
                                         "thing3": "{reason}"}},
    "merchant.push": {"template_id": "sandbox-subscribe-merchant-push", "page": "{page}",
                      "data": {"thing1": "{merchant_name}", "thing2": "{title}",
                               "thing3": "{content}"}},
    "points.earned": {"template_id": "sandbox-subscribe-points-earned", "page": "pages/points/index",
                      "data": {"thing1": "{merchant_name}", "number2": "{points}",
                               "number3": "{balance}"}},
    "cooperation.updated": {"template_id": "sandbox-subscribe-cooperation",
                            "page": "pages/merchant/cooperation?id={cooperation_id}",
                            "data": {"thing1": "{merchant_name}", "phrase2": "{action_text}",
                                     "thing3": "{kind_text}"}},
    "group_buy.succeeded": {"template_id": "sandbox-subscribe-group-buy",
                            "page": "pages/order/detail?order_no={order_no}",
                            "data": {"thing1": "{item_name}", "phrase2": "拼团成功",
                                     "thing3": "{group_size}人团已成团，订单将按时履约",
                                     "character_string4": "{order_no}"}},
    "group_buy.failed": {"template_id": "sandbox-subscribe-group-buy",
                         "page": "pages/order/detail?order_no={order_no}",
                         "data": {"thing1": "{item_name}", "phrase2": "拼团失败",
                                  "thing3": "未在时限内成团，已付款项原路退回",
                                  "character_string4": "{order_no}"}},
    "campaign.audit_result": {"template_id": "sandbox-subscribe-campaign-review",
                              "page": "pages/merchant/campaign?id={campaign_id}",
                              "data": {"thing1": "{campaign_name}", "thing2": "{subject_text}",
                                       "phrase3": "{result_text}", "thing4": "{reason}"}},
    "complaint.resolved": {"template_id": "sandbox-subscribe-complaint",
                           "page": "pages/complaints/index?id={complaint_id}",
                           "data": {"thing1": "{subject}", "phrase2": "{result_text}",
                                    "thing3": "{resolution}"}},
    "campaign.promoted": {"template_id": "sandbox-subscribe-campaign",
                          "page": "pages/campaign/detail?id={campaign_id}",
                          "data": {"thing1": "{title}", "thing2": "{campaign_name}",
                                   "time3": "{ends_at_text}", "thing4": "{content}"}},
    "lottery.won": {"template_id": "sandbox-subscribe-lottery",
                    "page": "pages/lottery/detail?id={lottery_id}",
                    "data": {"thing1": "{lottery_title}", "thing2": "{prize_name}",
                             "time3": "{won_at_text}"}},
}
SANDBOX_OA_TEMPLATES = {
    "order.paid": {"template_id": "sandbox-oa-order-paid",
                   "page": "pages/order/detail?order_no={order_no}",
                   "data": {"first": "您的订单已支付成功", "keyword1": "{order_no}",
                            "keyword2": "{amount_yuan}", "keyword3": "{paid_at_text}",
                            "remark": "{merchant_name}"}},
    "order.shipped": {"template_id": "sandbox-oa-order-shipped",
                      "page": "pages/order/detail?order_no={order_no}",
                      "data": {"first": "您的订单已发货", "keyword1": "{order_no}",
                               "keyword2": "{carrier} {tracking_no}",
                               "remark": "{merchant_name}"}},
    "order.refund_result": {"template_id": "sandbox-oa-refund-result",
                            "page": "pages/order/detail?order_no={order_no}",
                            "data": {"first": "{result_text}", "keyword1": "{order_no}",
                                     "keyword2": "{refund_yuan}", "remark": "{reason}"}},
    "coupon.expiring": {"template_id": "sandbox-oa-coupon-expiring",
                        "page": "pages/coupons/index",
                        "data": {"first": "您的优惠券即将过期", "keyword1": "{coupon_name}",
                                 "keyword2": "{valid_until_text}", "remark": "{merchant_name}"}},
    "merchant.audit_result": {"template_id": "sandbox-oa-audit-result",
                              "page": "pages/merchant/index",
                              "data": {"first": "{merchant_name}", "keyword1": "{result_text}",
                                       "remark": "{reason}"}},
    "referral.rewarded": {"template_id": "sandbox-oa-referral-reward",
                          "page": "pages/referral/index",
                          "data": {"first": "好友{invitee_nickname}完成首单",
                                   "keyword1": "{points}", "remark": "感谢您的推荐"}},
    "catalog.item_approved": {"template_id": "sandbox-oa-item-review",
                              "page": "pages/merchant/catalog",
                              "data": {"first": "商品审核通过", "keyword1": "{item_name}",
                                       "keyword2": "审核通过"}},
    "catalog.item_rejected": {"template_id": "sandbox-oa-item-review",
                              "page": "pages/merchant/catalog",
                              "data": {"first": "商品审核未通过", "keyword1": "{item_name}",
                                       "keyword2": "未通过", "remark": "{reason}"}},
    "catalog.item_taken_down": {"template_id": "sandbox-oa-item-review",
                                "page": "pages/merchant/catalog",
                                "data": {"first": "商品已被下架", "keyword1": "{item_name}",
                                         "keyword2": "已下架", "remark": "{reason}"}},
    "merchant.push": {"template_id": "sandbox-oa-merchant-push", "page": "{page}",
                      "data": {"first": "{title}", "keyword1": "{merchant_name}",
                               "keyword2": "{content}"}},
    "points.earned": {"template_id": "sandbox-oa-points-earned", "page": "pages/points/index",
                      "data": {"first": "您获得了联盟积分", "keyword1": "{points}",
                               "keyword2": "{balance}", "remark": "{merchant_name}"}},
    "cooperation.updated": {"template_id": "sandbox-oa-cooperation",
                            "page": "pages/merchant/cooperation?id={cooperation_id}",
                            "data": {"first": "异业合作有新动态", "keyword1": "{merchant_name}",
                                     "keyword2": "{action_text}", "remark": "{kind_text}"}},
    "group_buy.succeeded": {"template_id": "sandbox-oa-group-buy",
                            "page": "pages/order/detail?order_no={order_no}",
                            "data": {"first": "拼团成功", "keyword1": "{item_name}",
                                     "keyword2": "{group_size}人团", "keyword3": "{order_no}",
                                     "remark": "您的订单将按时履约"}},
    "group_buy.failed": {"template_id": "sandbox-oa-group-buy",
                         "page": "pages/order/detail?order_no={order_no}",
                         "data": {"first": "拼团失败", "keyword1": "{item_name}",
                                  "keyword2": "订单已取消", "keyword3": "{order_no}",
                                  "remark": "未在时限内成团，已支付的款项将原路退回"}},
    "campaign.audit_result": {"template_id": "sandbox-oa-campaign-review",
                              "page": "pages/merchant/campaign?id={campaign_id}",
                              "data": {"first": "营销活动审核结果", "keyword1": "{campaign_name}",
                                       "keyword2": "{subject_text}", "keyword3": "{result_text}",
                                       "remark": "{reason}"}},
    "complaint.resolved": {"template_id": "sandbox-oa-complaint",
                           "page": "pages/complaints/index?id={complaint_id}",
                           "data": {"first": "您的反馈已有处理结果", "keyword1": "{subject}",
                                    "keyword2": "{result_text}", "remark": "{resolution}"}},
    "campaign.promoted": {"template_id": "sandbox-oa-campaign",
                          "page": "pages/campaign/detail?id={campaign_id}",
                          "data": {"first": "{title}", "keyword1": "{campaign_name}",
                                   "keyword2": "{ends_at_text}", "remark": "{content}"}},
    "lottery.won": {"template_id": "sandbox-oa-lottery",
                    "page": "pages/lottery/detail?id={lottery_id}",
                    "data": {"first": "恭喜您中奖了", "keyword1": "{lottery_title}",
                             "keyword2": "{prize_name}", "keyword3": "{won_at_text}"}},
}


class RenderError(Exception):
    """The event's data cannot fill its template (a missing field): never retried."""


@dataclass(frozen=True)
class Rendered:
    template_id: str
    page: str | None
    data: dict[str, str]


@dataclass(frozen=True)
class TemplateBook:
    """The templates of both channels, by event."""

    subscribe: dict
    oa: dict

    @classmethod
    def from_settings(cls, settings) -> "TemplateBook":
        def load(raw: str | None, sandbox_default: dict) -> dict:
            if raw:
                return json.loads(raw)
            return sandbox_default if settings.is_sandbox else {}

        return cls(load(settings.wechat_subscribe_templates, SANDBOX_SUBSCRIBE_TEMPLATES),
                   load(settings.wechat_oa_templates, SANDBOX_OA_TEMPLATES))

    def render(self, channel: str, event: str, data: dict) -> Rendered | None:
        """The message for ``channel`` (subscribe | oa), or None when none is configured."""
        spec = (self.subscribe if channel == "subscribe" else self.oa).get(event)
        if not spec:
            return None
        values = _values(event, data)
        rendered = {key: _fill(text, values) for key, text in spec.get("data", {}).items()}
        if channel == "subscribe":
            rendered = {key: _limit(key, value) for key, value in rendered.items()}
        page = _fill(spec["page"], values) if spec.get("page") else None
        return Rendered(spec["template_id"], page, rendered)


def _values(event: str, data: dict) -> dict:
    missing = [name for name in EVENTS.get(event, ()) if data.get(name) in (None, "")]
    if missing:
        raise RenderError(f"{event} lacks {', '.join(missing)}")
    values = {**OPTIONAL_DEFAULTS, **data}
    for name, value in data.items():
        if name.endswith("_fen") and isinstance(value, int):
            values[name[:-4] + "_yuan"] = f"{value / 100:.2f}元"
        if (name.endswith("_at") or name == "valid_until") and isinstance(value, str):
            try:
                values[name + "_text"] = _local_text(parse_iso(value))
            except ValueError:
                raise RenderError(f"{event}.{name} is not an ISO 8601 time") from None
    if "result" in data:
        values["result_text"] = RESULT_TEXT.get(str(data["result"]), str(data["result"]))
    return values


def _local_text(utc_naive: dt.datetime) -> str:
    return utc_naive.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _fill(text: str, values: dict) -> str:
    try:
        return string.Formatter().vformat(text, (), values).strip()
    except (KeyError, IndexError) as exc:
        raise RenderError(f"template needs {exc}") from None


def _limit(key: str, value: str) -> str:
    kind = key.rstrip("0123456789")
    limit = VALUE_LIMITS.get(kind)
    if limit is None or len(value) <= limit:
        return value
    return value[:limit - 1] + "…" if kind in ("thing", "name") else value[:limit]
