"""Merchant staff see their members and set the level rules (spend thresholds, discount,
points multiplier) and the member day (会员日)."""
from __future__ import annotations

from alliance.members import member_days
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


class MemberDayHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(member_days.member_day, membership.merchant_id))

    @authenticated()
    async def put(self):
        membership = await self.membership("merchant:marketing")
        body, actor = self.json_body(), self.principal.id

        def replace():
            member_days.set_member_day(membership.merchant_id, body, actor)
            return member_days.member_day(membership.merchant_id)

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
            (r"/api/v1/merchant/member-day", MemberDayHandler),
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
        "/api/v1/merchant/member-day": {
            "get": op("The merchant's member day (会员日) rule", tags=tags,
                      ok=ref("MemberDayRule"), errors=(403,), params=MERCHANT_CHOICE,
                      description="No rule yet: configured false, enabled false."),
            "put": op("Set the member day rule (owner or manager, merchant:marketing)",
                      tags=tags, ok=ref("MemberDayRule"), errors=(400, 403),
                      params=MERCHANT_CHOICE, body=MEMBER_DAY_BODY,
                      description="Replaces the rule; orders placed after it see it. Members "
                                  "only (a membership at the merchant, from the first paid "
                                  "purchase), at min_level or above. Multipliers multiply "
                                  "with the level's; the discount applies after the level "
                                  "discount. Error: MEMBER_DAY_INVALID (details.field).")},
        "/api/v1/merchant/members": {"get": op(
            "The merchant's members, newest first", tags=tags, ok=list_of(member),
            errors=(400, 403), params=[*PAGING, *MERCHANT_CHOICE])},
    }


def _schemas() -> dict:
    from server.openapi import BOOL, INT, STR, obj

    date = {"type": "string", "format": "date", "nullable": True}
    days = {"type": "array", "items": INT}
    offer = {"weekdays": {**days, "description": "ISO weekdays, 1 Monday ... 7 Sunday"},
             "month_days": {**days, "description": "days of the month, 1-31"},
             "min_level": {**INT, "description": "the lowest member level it is for; 0: "
                                                 "every member"},
             "points_multiplier_pct": {**INT, "description": "on top of the level's: "
                                                             "200 = double"},
             "discount_percent": {**INT, "description": "off after the level discount"},
             "summary": {**STR, "description": "what it gives, in words: 积分2倍，再享9.5折"},
             "today": {**BOOL, "description": "today (Asia/Shanghai) is a member day"},
             "next_date": {**date, "description": "the next member day, today included; "
                                                  "null: none ahead"}}
    return {
        "MemberDay": obj(offer),
        "MemberDayRule": obj({"configured": BOOL, "enabled": BOOL, **offer,
                              "starts_on": date, "ends_on": date,
                              "updated_at": {"type": "string", "format": "date-time",
                                             "nullable": True}}),
    }


SCHEMAS = _schemas()


def _body() -> dict:
    from server.openapi import BOOL, obj

    def days(low: int, high: int) -> dict:
        return {"type": "array", "maxItems": high,
                "items": {"type": "integer", "minimum": low, "maximum": high}}

    return obj({"enabled": BOOL, "weekdays": days(1, 7), "month_days": days(1, 31),
                "min_level": {"type": "integer", "minimum": 0, "maximum": 8},
                "points_multiplier_pct": {"type": "integer", "minimum": 100, "maximum": 500},
                "discount_percent": {"type": "integer", "minimum": 0, "maximum": 30},
                "starts_on": {"type": "string", "format": "date", "nullable": True},
                "ends_on": {"type": "string", "format": "date", "nullable": True}})


MEMBER_DAY_BODY = _body()
OPENAPI = _openapi()
