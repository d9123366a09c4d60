"""Merchant pushes to their members, and consumers' push preferences."""
from __future__ import annotations

from alliance.errors import ValidationFailed
from alliance.pushes import queries as push_queries
from alliance.pushes import services as pushes
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

PAGE_PATTERN = r"pages/[A-Za-z0-9_/\-]+(\?[A-Za-z0-9_=&%\-.]*)?"


class MerchantPushesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:marketing")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(
            push_queries.push_history, membership.merchant_id, self.query("cursor"), limit,
            self.ctx.settings.merchant_push_daily_limit))

    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:marketing")
        body = self.json_body()
        title = v.string(body, "title", max_length=32)
        content = v.string(body, "content", max_length=200)
        page = v.string(body, "page", required=False, max_length=128, pattern=PAGE_PATTERN)
        segment = pushes.parse_segment(body.get("segment"))

        def send():
            push = pushes.send_push(self.ctx.extras["bulk_notifier"], membership.merchant_id,
                                    self.principal.id, title=title, content=content,
                                    segment=segment, page=page,
                                    daily_limit=self.ctx.settings.merchant_push_daily_limit)
            return push_queries.push_view(push)

        self.write_json(await self.run_sync(send), 201)


class PushPreferencesHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        self.write_page(await self.run_sync(push_queries.push_preferences, self.principal.id))

    @authenticated("self:write")
    async def put(self):
        body = self.json_body()
        merchant_id = v.integer(body, "merchant_id", required=False, minimum=1,
                                maximum=2**31 - 1)
        platform = body.get("platform", False)
        if not isinstance(platform, bool) or (platform and merchant_id is not None):
            raise ValidationFailed("参数 platform 必须是 true 或 false，且不能与 merchant_id 同时给出",
                                   details={"field": "platform", "issue": "must be a boolean "
                                            "without merchant_id"})
        opt_out = body.get("opt_out")
        if not isinstance(opt_out, bool):
            raise ValidationFailed("参数 opt_out 必须是 true 或 false",
                                   details={"field": "opt_out", "issue": "must be a boolean"})
        user_id = self.principal.id

        def change():
            pushes.set_opt_out(user_id, merchant_id, opt_out, platform)
            return push_queries.push_preferences(user_id)

        self.write_json(await self.run_sync(change))


def routes() -> list:
    return [(r"/api/v1/merchant/pushes", MerchantPushesHandler),
            (r"/api/v1/me/push-preferences", PushPreferencesHandler)]


SCHEMAS = {
    "PushSegment": {"type": "object", "properties": {
        "levels": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 99},
                   "minItems": 1, "maxItems": 20,
                   "description": "member levels at the merchant (0: no level reached); "
                                  "absent: every level"},
        "last_visit_within_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                                   "description": "visited within the last N days"},
        "last_visit_before_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                                   "description": "not visited within the last N days "
                                                  "(never visited included)"}}},
    "MerchantPush": {"type": "object", "properties": {
        "id": {"type": "integer"}, "title": {"type": "string"}, "content": {"type": "string"},
        "page": {"type": "string"}, "segment": {"$ref": "#/components/schemas/PushSegment"},
        "recipients": {"type": "integer", "description": "members the push was sent to"},
        "created_by": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"}}},
}


def _openapi() -> dict:
    from server.openapi import BOOL, INT, PAGING, STR, TIME, list_of, obj, op, ref

    preferences = obj({"opt_out_all": BOOL, "opt_out_all_since": {**TIME, "nullable": True},
                       "opt_out_platform": {**BOOL, "description": "refuses the platform's "
                                            "campaign promotions (opt_out_all refuses them "
                                            "too)"},
                       "items": {"type": "array", "items": obj({
                           "merchant_id": INT, "merchant_name": STR, "opt_out": BOOL,
                           "since": TIME})},
                       "next_cursor": {"type": "string", "nullable": True}})
    history = {"allOf": [list_of(ref("MerchantPush")), obj({"today": obj({
        "day": STR, "used": INT, "daily_limit": INT, "remaining": INT})})]}
    return {
        "/api/v1/merchant/pushes": {
            "get": op("The merchant's pushes, newest first, and today's use of the daily "
                      "limit (owner or manager)", tags=["merchant pushes"], ok=history,
                      errors=(400, 403), params=[*PAGING, *MERCHANT_CHOICE]),
            "post": op("Push a message to the merchant's members in a segment (owner or "
                       "manager)", tags=["merchant pushes"], status=201,
                       ok=ref("MerchantPush"), errors=(403, 429), params=MERCHANT_CHOICE,
                       idempotent=True,
                       body=obj({"title": {"type": "string", "maxLength": 32},
                                 "content": {"type": "string", "maxLength": 200},
                                 "segment": ref("PushSegment"),
                                 "page": {"type": "string", "maxLength": 128,
                                          "description": "mini-program page the message "
                                                         "opens; default the merchant's page"}},
                                ["title", "content"]),
                       description="Each member in the segment who did not opt out gets a "
                                   "`merchant.push` notification (mini-program subscribe "
                                   "message or official-account template message). At most "
                                   "MERCHANT_PUSH_DAILY_LIMIT pushes per merchant per "
                                   "Asia/Shanghai calendar day: beyond it 429 RATE_LIMITED "
                                   "with Retry-After (seconds until the day ends).")},
        "/api/v1/me/push-preferences": {
            "get": op("The consumer's push opt-outs (all merchants, and merchants refused)",
                      tags=["account"], ok=preferences, params=PAGING, errors=(400,)),
            "put": op("Opt out of (or back into) one merchant's pushes, the platform's "
                      "promotions (platform: true), or every push when neither is given",
                      tags=["account"], ok=preferences, errors=(404,),
                      body=obj({"merchant_id": INT, "platform": BOOL, "opt_out": BOOL},
                               ["opt_out"]),
                      description="Error: MERCHANT_NOT_FOUND.")},
    }


OPENAPI = _openapi()
