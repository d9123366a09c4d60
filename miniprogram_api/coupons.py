"""Consumers' coupons: claiming (free) and exchanging (for points), the coupon center, and
their own coupons."""
from __future__ import annotations

from alliance.coupons import claims
from alliance.coupons import queries as coupon_queries
from alliance.coupons.views import coupon_view
from miniprogram_api.merchants import BrowseHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent


class ClaimHandler(BaseHandler):
    @authenticated("self:write")
    @idempotent
    async def post(self, template_id: str):
        scene = v.string(self.json_body(), "scene", required=False, max_length=64)
        user_id = self.principal.id
        claims.refuse_from_memory(int(template_id), scene)  # a rush's late claims: no hop
        coupon = await self.run_sync(
            lambda: coupon_view(claims.claim(int(template_id), user_id, scene)))
        self.write_json(coupon, 201)


class ExchangeHandler(BaseHandler):
    @authenticated("self:write")
    @idempotent
    async def post(self, template_id: str):
        user_id = self.principal.id
        claims.refuse_from_memory(int(template_id))
        coupon = await self.run_sync(
            lambda: coupon_view(claims.exchange(int(template_id), user_id)))
        self.write_json(coupon, 201)


class CouponCenterHandler(BrowseHandler):
    async def get(self):
        viewer = await self.viewer_id()
        result = await self.run_sync(coupon_queries.open_templates,
                                     self.query("channel", "platform"), viewer,
                                     self.query("cursor"), self.limit())
        self.write_json(result)


class MyCouponsHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        result = await self.run_sync(coupon_queries.my_coupons, self.principal.id,
                                     self.query("status"), self.query("cursor"), limit)
        self.write_json(result)


def routes() -> list:
    return [
        (r"/api/v1/coupon-templates", CouponCenterHandler),
        (r"/api/v1/coupon-templates/([0-9]{1,10})/claim", ClaimHandler),
        (r"/api/v1/coupon-templates/([0-9]{1,10})/exchange", ExchangeHandler),
        (r"/api/v1/me/coupons", MyCouponsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj, ref

    nullable_int = {"type": "integer", "nullable": True}
    nullable_time = {**TIME, "nullable": True}
    template = obj({
        "id": INT, "name": STR, "description": STR,
        "kind": {"type": "string", "enum": ["fixed", "percent", "service"],
                 "description": "fixed: 满 threshold 减 discount; percent: percent_off % off "
                                "up to max_discount_fen; service: pays for item_id"},
        "tier": {"type": "string", "enum": ["shop", "platform"],
                 "description": "an order stacks at most one coupon of each tier"},
        "threshold_fen": FEN, "discount_fen": FEN, "percent_off": INT, "max_discount_fen": FEN,
        "item_id": nullable_int,
        "scope": {"type": "string", "enum": ["merchant", "items", "alliance"],
                  "description": "where coupons are valid: the issuer, the issuer's listed "
                                 "items, or every alliance merchant"},
        "scope_item_ids": {"type": "array", "items": INT},
        "valid_from": nullable_time, "valid_until": nullable_time,
        "valid_days": {**nullable_int, "description": "valid N days after the claim"},
        "claim_starts_at": TIME, "claim_ends_at": nullable_time,
        "remaining": INT, "per_user_limit": INT,
        "channels": {"type": "array",
                     "items": {"type": "string", "enum": ["own", "partner", "platform", "points"]}},
        "points_cost": INT,
        "issuer": obj({"merchant_id": nullable_int, "name": STR})},
        ["id", "name", "kind", "tier", "remaining"])
    return {
        "CouponTemplate": template,
        "CouponOffer": {"allOf": [ref("CouponTemplate"), obj({
            "claim_scene": {"type": "string", "description": "send as the claim's scene "
                                                             "(attributes a partner's counter)"},
            "distributor": {**obj({"merchant_id": INT, "name": STR}), "nullable": True},
            "claimed_by_me": INT, "can_claim": {"type": "boolean"}})]},
        "Coupon": obj({
            "id": INT, "code": {"type": "string", "description": "what the counter scans or "
                                                                 "types to redeem it"},
            "status": {"type": "string",
                       "enum": ["active", "locked", "used", "redeemed", "expired"]},
            "valid_from": TIME, "valid_until": TIME,
            "source": obj({"channel": {"type": "string",
                                       "enum": ["own", "partner", "platform", "points",
                                                "lottery"],
                                       "description": "lottery: won in a points lottery"},
                           "distributor_merchant_id": nullable_int,
                           "referrer_user_id": nullable_int, "scene": STR}),
            "claimed_at": TIME, "used_at": nullable_time, "template": ref("CouponTemplate")},
            ["id", "code", "valid_until", "source"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, obj, op, path_param, query_param, ref

    tags = ["coupons"]
    template_id = [path_param("id", INT)]
    return {
        "/api/v1/coupon-templates": {"get": op(
            "The coupon center: platform coupons to claim, or coupons to buy with points, "
            "newest first; only those open to claim now (stock left, within their claim "
            "window and validity), so every page is full while more remain",
            tags=tags, auth=False, ok=list_of(ref("CouponOffer")), errors=(400,),
            params=[query_param("channel", {"type": "string", "enum": ["platform", "points"]},
                                "default: platform"), *PAGING])},
        "/api/v1/coupon-templates/{id}/claim": {"post": op(
            "Claim a coupon (never oversold; the per-user limit holds under concurrency)",
            tags=tags, status=201, ok=ref("Coupon"), idempotent=True, params=template_id,
            errors=(404, 409),
            body=obj({"scene": {"type": "string", "maxLength": 64,
                                "description": "attribution from the QR code or link: "
                                               "p=<partner merchant id>&r=<referrer user id>"}}),
            description="Errors: COUPON_SOLD_OUT, COUPON_LIMIT_REACHED, COUPON_NOT_CLAIMABLE "
                        "(window, channel or a partner that does not distribute it), "
                        "COUPON_TEMPLATE_NOT_FOUND.")},
        "/api/v1/coupon-templates/{id}/exchange": {"post": op(
            "Buy a coupon of the points channel with points", tags=tags, status=201,
            ok=ref("Coupon"), idempotent=True, params=template_id, errors=(404, 409),
            description="Errors: POINTS_INSUFFICIENT, COUPON_SOLD_OUT, COUPON_LIMIT_REACHED, "
                        "COUPON_NOT_CLAIMABLE.")},
        "/api/v1/me/coupons": {"get": op(
            "The consumer's coupons, newest first", tags=tags, ok=list_of(ref("Coupon")),
            errors=(400,),
            params=[query_param("status", {"type": "string", "enum": [
                "active", "locked", "used", "redeemed", "expired"]}), *PAGING])},
    }


OPENAPI = _openapi()
