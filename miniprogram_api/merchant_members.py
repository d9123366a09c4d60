"""Merchant staff see their members and set the level rules (spend thresholds, discount,
points multiplier)."""
from __future__ import annotations

from alliance.members import queries as member_queries
from alliance.members.services import set_level_rules
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated


class LevelRulesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(member_queries.level_rules, membership.merchant_id))

    @authenticated()
    async def put(self):
        membership = await self.membership("merchant:marketing")
        levels = self.json_body().get("levels")

        def replace():
            set_level_rules(membership.merchant_id, levels)
            return member_queries.level_rules(membership.merchant_id)

        self.write_json(await self.run_sync(replace))


class MembersHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(member_queries.merchant_members,
                                            membership.merchant_id, self.query("cursor"), limit))


def routes() -> list:
    return [(r"/api/v1/merchant/level-rules", LevelRulesHandler),
            (r"/api/v1/merchant/members", MembersHandler)]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, ref

    tags = ["merchant members"]
    level = obj({"level": INT, "name": STR, "min_spent_fen": INT,
                 "discount_percent": {"type": "integer", "minimum": 0, "maximum": 50},
                 "points_multiplier_pct": {"type": "integer", "minimum": 100, "maximum": 1000}})
    rules = obj({"base_level_name": STR, "levels": {"type": "array", "items": level}})
    member = {"allOf": [ref("MerchantMembership"), obj({"user_id": INT, "nickname": STR})]}
    return {
        "/api/v1/merchant/level-rules": {
            "get": op("The merchant's member level rules, lowest first", tags=tags, ok=rules,
                      errors=(403,), params=MERCHANT_CHOICE),
            "put": op("Replace the level rules (owner or manager); members are re-levelled",
                      tags=tags, ok=rules, errors=(403,), params=MERCHANT_CHOICE,
                      body=obj({"levels": {"type": "array", "maxItems": 8, "items": obj(
                          {"name": STR, "min_spent_fen": INT, "discount_percent": INT,
                           "points_multiplier_pct": INT}, ["name", "min_spent_fen"])}},
                          ["levels"]),
                      description="Thresholds must rise level by level. Error: "
                                  "LEVEL_RULES_INVALID.")},
        "/api/v1/merchant/members": {"get": op(
            "The merchant's members, newest first", tags=tags, ok=list_of(member),
            errors=(400, 403), params=[*PAGING, *MERCHANT_CHOICE])},
    }


OPENAPI = _openapi()
