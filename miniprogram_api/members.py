"""The consumer's membership: points balance and ledger, the dynamic member code."""
from __future__ import annotations

from alliance.clock import to_local_iso
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


def routes() -> list:
    return [
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
}


def _openapi() -> dict:
    from server.openapi import PAGING, obj, op, ref

    tags = ["membership"]
    return {
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
