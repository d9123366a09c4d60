"""The consumer's membership: levels, points balance and ledger, the dynamic member code."""
from __future__ import annotations

from alliance.clock import to_local_iso
from alliance.members.queries import my_membership
from alliance.points import queries as points_queries
from server import validation as v
from server.base import BaseHandler, authenticated


class MyPointsHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        limit = v.query_int(self.query("limit"), "limit", default=20, minimum=1, maximum=100)
        page = await self.run_sync(points_queries.ledger_page, self.principal.id,
                                   self.query("cursor"), limit)
        self.write_json(page)


class MemberCodeHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        code = self.ctx.member_codes.issue(self.principal.id)
        self.write_json({"payload": code.payload, "expires_at": to_local_iso(code.expires_at),
                         "ttl_s": self.ctx.member_codes.ttl_s})


class MyMembershipHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        self.write_json(await self.run_sync(my_membership, self.principal.id))


def routes() -> list:
    return [
        (r"/api/v1/me/membership", MyMembershipHandler),
        (r"/api/v1/me/points", MyPointsHandler),
        (r"/api/v1/me/member-code", MemberCodeHandler),
    ]


SCHEMAS = {
    "PointsEntry": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["earn", "spend", "expire", "adjust", "refund"]},
        "amount": {"type": "integer", "description": "signed: + credit, - debit"},
        "balance_after": {"type": "integer"},
        "merchant_id": {"type": "integer", "nullable": True,
                        "description": "the merchant funding an earn or receiving a spend"},
        "ref_type": {"type": "string"}, "ref_id": {"type": "string"},
        "memo": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time", "nullable": True},
        "created_at": {"type": "string", "format": "date-time"}}},
    "PlatformLevel": {"type": "object", "properties": {
        "level": {"type": "integer"}, "name": {"type": "string"},
        "growth": {"type": "integer", "description": "points ever earned at alliance merchants"},
        "next_level_growth": {"type": "integer", "nullable": True}}},
    "MerchantMembership": {"type": "object", "properties": {
        "merchant_id": {"type": "integer"},
        "level": {"type": "integer", "description": "0: no level rule reached"},
        "level_name": {"type": "string"}, "discount_percent": {"type": "integer"},
        "points_multiplier_pct": {"type": "integer", "description": "100 = 1x"},
        "total_spent_fen": {"type": "integer"}, "visits": {"type": "integer"},
        "points_earned": {"type": "integer"},
        "joined_at": {"type": "string", "format": "date-time", "nullable": True},
        "last_visit_at": {"type": "string", "format": "date-time", "nullable": True}}},
}


def _openapi() -> dict:
    from server.openapi import PAGING, obj, op, ref

    tags = ["membership"]
    return {
        "/api/v1/me/membership": {"get": op(
            "The consumer's platform level and memberships at merchants", tags=tags,
            ok=obj({"platform_level": ref("PlatformLevel"), "points_balance": {"type": "integer"},
                    "memberships": {"type": "array", "items": {"allOf": [
                        ref("MerchantMembership"), obj({
                            "merchant_name": {"type": "string"},
                            "member_day": {"allOf": [ref("MemberDay"), obj({
                                "eligible": {"type": "boolean",
                                             "description": "the member's level gets it"}})],
                                "nullable": True,
                                "description": "the merchant's member day: the next one; "
                                               "null: none ahead"}})]}}},
                   ["platform_level", "memberships"]))},
        "/api/v1/me/points": {"get": op(
            "Points balance and ledger (newest first)", tags=tags, params=PAGING,
            ok=obj({"balance": {"type": "integer"}, "lifetime_earned": {"type": "integer"},
                    "items": {"type": "array", "items": ref("PointsEntry")},
                    "next_cursor": {"type": "string", "nullable": True}},
                   ["balance", "items"]))},
        "/api/v1/me/member-code": {"get": op(
            "A dynamic member code to draw as a QR code (signed, single use, <= 60 s)",
            tags=tags, ok=obj({"payload": {"type": "string"},
                               "expires_at": {"type": "string", "format": "date-time"},
                               "ttl_s": {"type": "integer"}}, ["payload", "expires_at"]))},
    }


OPENAPI = _openapi()
