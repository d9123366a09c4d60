"""Operators' consumer management: the list with search, one consumer, behaviour analysis.

The list and a consumer need ``admin:consumers``; the behaviour analysis is platform
analytics (``admin:analytics``). Personal data is masked in every answer.
"""
from __future__ import annotations

from alliance.consumers.behaviour import consumer_behaviour
from alliance.consumers.listing import UserFilters, list_users
from alliance.consumers.profile import consumer_detail
from server import validation as v
from server.base import BaseHandler, authenticated

ID_MAX = 2**31 - 1


class ConsumerBase(BaseHandler):
    def channel_of_appid(self) -> dict[str, str]:
        """Login channels by the appid of a WeChat identity."""
        settings = self.ctx.settings
        return {settings.wechat_miniapp_appid: "miniprogram",
                settings.wechat_oa_appid: "official_account"}


class ConsumersHandler(ConsumerBase):
    @authenticated("admin:consumers", kind="operator")
    async def get(self):
        has_ordered = self.query("has_ordered")
        if has_ordered not in (None, ""):
            has_ordered = v.one_of(has_ordered, "has_ordered", ("true", "false")) == "true"
        else:
            has_ordered = None
        filters = UserFilters(
            user_id=v.query_int(self.query("user_id"), "user_id", default=None, minimum=1,
                                maximum=ID_MAX),
            phone=self.query("phone") or None, nickname=self.query("nickname") or None,
            registered_from=self.query("registered_from"),
            registered_to=self.query("registered_to"), has_ordered=has_ordered,
            status=self.query("status") or None)
        self.write_json(await self.run_sync(list_users, filters, self.channel_of_appid(),
                                            self.query("cursor"),
                                            v.page_limit(self.query("limit"))))


class ConsumerHandler(ConsumerBase):
    @authenticated("admin:consumers", kind="operator")
    async def get(self, user_id: str):
        self.write_json(await self.run_sync(consumer_detail, int(user_id),
                                            self.channel_of_appid(),
                                            self.ctx.settings.secret_key))


class ConsumerStatsHandler(BaseHandler):
    @authenticated("admin:analytics", kind="operator")
    async def get(self):
        self.write_json(await self.run_sync(consumer_behaviour, self.query("from"),
                                            self.query("to")))


def routes() -> list:
    return [
        (r"/api/admin/v1/users", ConsumersHandler),
        (r"/api/admin/v1/users/([0-9]{1,10})", ConsumerHandler),
        (r"/api/admin/v1/user-stats", ConsumerStatsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj

    nullable = {"nullable": True}
    return {"OperatorConsumer": obj({
        "id": INT, "nickname": STR, "avatar_url": STR,
        "phone": {**STR, **nullable, "description": "masked: 138****8000"},
        "email": {**STR, **nullable, "description": "masked: a***@example.com"},
        "login_channels": {"type": "array", "items": {
            "type": "string", "enum": ["miniprogram", "official_account", "wechat", "phone",
                                       "email"]}},
        "status": {"type": "string", "enum": ["active", "disabled", "deleted", "merged"]},
        "merged_into": {**INT, **nullable, "description": "the account a merged one became"},
        "registered_at": TIME,
        "orders_paid": {**INT, "description": "orders ever paid (refunded ones included)"},
        "paid_fen": FEN, "platform_level": INT, "platform_level_name": STR,
        "points_balance": INT})}


SCHEMAS = _schemas()


def _detail_schema() -> dict:
    from server.openapi import FEN, INT, STR, TIME, list_of, obj, ref

    nullable_time = {**TIME, "nullable": True}
    order = obj({"order_no": STR, "status": STR, "kind": STR, "merchant_id": INT,
                 "merchant_name": STR, "payable_fen": FEN, "paid_fen": FEN, "refunded_fen": FEN,
                 "created_at": TIME, "paid_at": nullable_time})
    membership = {"allOf": [ref("MerchantMembership"), obj({"merchant_name": STR})]}
    referred_by = obj({
        "status": {"type": "string", "enum": ["bound", "converted", "lapsed", "organic"]},
        "source_kind": {**STR, "nullable": True}, "referrer_user_id": {**INT, "nullable": True},
        "referrer_nickname": {**STR, "nullable": True}, "merchant_id": {**INT, "nullable": True},
        "merchant_name": {**STR, "nullable": True}, "channel": {**STR, "nullable": True},
        "bound_at": nullable_time, "converted_at": nullable_time}, nullable=True)
    with_total = {"total": INT}
    return {"allOf": [ref("OperatorConsumer"), obj({
        "updated_at": TIME, "merged_from": {"type": "array", "items": INT},
        "platform_growth": INT, "next_level_growth": {**INT, "nullable": True},
        "memberships": {"type": "array", "items": membership},
        "points": obj({"balance": INT, "lifetime_earned": INT,
                       "recent": {"type": "array", "items": ref("PointsEntry")}}),
        "orders": obj({"total": INT, "paid": INT, "paid_fen": FEN, "refunded_fen": FEN,
                       "recent": {"type": "array", "items": order}}),
        "coupons": obj({"held": INT, "used": INT, "total": INT,
                        "by_status": {"type": "object", "additionalProperties": INT}}),
        "referral": obj({"referred_by": referred_by, "invited": INT,
                         "invited_converted": INT}),
        "complaints": {"allOf": [list_of(ref("Complaint")), obj(with_total)]},
        "after_sales": {"allOf": [list_of(ref("AfterSale")), obj(with_total)]}})]}


def _stats_schema() -> dict:
    from server.openapi import FEN, INT, STR, obj

    counted = {"orders": INT, "paid_fen": FEN}
    return obj({
        "from": {**STR, "format": "date"}, "to": {**STR, "format": "date"},
        "days": {"type": "array", "items": obj({
            "date": {**STR, "format": "date"}, "registrations": INT,
            "buyers": {**INT, "description": "distinct buyers with an order paid that day"},
            **counted})},
        "totals": obj({"registrations": INT, "buyers": INT, "repeat_buyers": INT,
                       "repeat_rate": {"type": "number",
                                       "description": "buyers with 2+ paid orders / buyers"},
                       "orders_per_buyer": {"type": "number"}, **counted}),
        "frequency": {"type": "array", "items": obj({
            "bucket": {"type": "string", "enum": ["1", "2-3", "4-9", "10+"]}, "label": STR,
            "buyers": INT})},
        "industries": {"type": "array", "items": obj({
            "industry": STR, "industry_name": STR, **counted})},
        "regions": {"type": "array", "items": obj({
            "province": {**STR, "description": "full name, or 未知"}, **counted})},
        "region_basis": obj({"delivery_address": INT, "shop": INT, "unknown": INT},
                            description="how many orders were placed by each source")})


REGION_NOTE = (
    "Region: orders store the delivery address as typed and shops their address as typed, "
    "with no structured region; the province is read from the first characters of the "
    "order's delivery address, or, for an order without one (services), of the merchant's "
    "first shop (an order does not record its shop). An address that does not start with "
    "the province counts as 未知.")


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, op, path_param, query_param, ref

    tags = ["admin consumers"]
    day = {"type": "string", "format": "date"}
    return {
        "/api/admin/v1/users": {"get": op(
            "Consumers, newest first, with their purchase figures (admin:consumers)",
            tags=tags, ok=list_of(ref("OperatorConsumer")), errors=(400, 403),
            description="Phone and email are masked. orders_paid and paid_fen count every "
                        "order ever paid, refunded ones too.",
            params=[query_param("phone", STR, "exact mainland mobile number"),
                    query_param("nickname", STR, "nickname prefix"),
                    query_param("user_id", INT),
                    query_param("registered_from", day, "Asia/Shanghai day, inclusive"),
                    query_param("registered_to", day, "Asia/Shanghai day, inclusive"),
                    query_param("has_ordered", {"type": "string", "enum": ["true", "false"]},
                                "with or without a paid order"),
                    query_param("status", {"type": "string", "enum": [
                        "active", "disabled", "deleted", "merged"]}),
                    *PAGING])},
        "/api/admin/v1/users/{id}": {"get": op(
            "One consumer: profile, memberships, points, orders, coupons, complaints, "
            "after-sales and referral (admin:consumers)", tags=tags, ok=_detail_schema(),
            errors=(403, 404), params=[path_param("id", INT)])},
        "/api/admin/v1/user-stats": {"get": op(
            "Consumer behaviour over Asia/Shanghai days (admin:analytics)", tags=tags,
            ok=_stats_schema(), errors=(400, 403),
            description="At most 92 days (the last 30 by default). A purchase is an order "
                        "paid in the period. " + REGION_NOTE,
            params=[query_param("from", day), query_param("to", day)])},
    }


OPENAPI = _openapi()
