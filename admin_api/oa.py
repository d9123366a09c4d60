"""The console's official-account tools: automatic replies and partners' counter posters."""
from __future__ import annotations

from alliance.errors import ValidationFailed
from alliance.officialaccount import autoreplies
from alliance.referrals import qrcodes
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

def _fields(body: dict, partial: bool) -> dict:
    changes: dict = {}
    if not partial or "match" in body:
        changes["match"] = v.one_of(body.get("match"), "match", autoreplies.MATCHES)
    if not partial or "keyword" in body:
        changes["keyword"] = v.string(body, "keyword", required=False, max_length=64,
                                      default="")
    if not partial or "reply_text" in body:
        changes["reply_text"] = v.string(body, "reply_text", max_length=autoreplies.MAX_REPLY)
    if "enabled" in body:
        if not isinstance(body["enabled"], bool):
            raise ValidationFailed("参数 enabled 必须是布尔值", details={"field": "enabled"})
        changes["enabled"] = body["enabled"]
    if "priority" in body:
        changes["priority"] = v.integer(body, "priority", minimum=-1000, maximum=1000)
    return changes


class AutoRepliesHandler(BaseHandler):
    @authenticated("admin:oa", kind="operator")
    async def get(self):
        limit = v.query_int(self.query("limit"), "limit", default=50, minimum=1, maximum=100)
        self.write_json(await self.run_sync(autoreplies.list_auto_replies,
                                            self.query("cursor"), limit))

    @authenticated("admin:oa", kind="operator")
    @idempotent
    async def post(self):
        fields = _fields(self.json_body(), partial=False)
        rule = await self.run_sync(autoreplies.create_auto_reply, self.principal.id, **fields)
        self.write_json(autoreplies.auto_reply_view(rule), 201)


class AutoReplyHandler(BaseHandler):
    @authenticated("admin:oa", kind="operator")
    async def get(self, rule_id: str):
        rule = await self.run_sync(autoreplies.get_auto_reply, int(rule_id))
        self.write_json(autoreplies.auto_reply_view(rule))

    @authenticated("admin:oa", kind="operator")
    async def patch(self, rule_id: str):
        changes = _fields(self.json_body(), partial=True)
        rule = await self.run_sync(autoreplies.update_auto_reply, self.principal.id,
                                   int(rule_id), changes)
        self.write_json(autoreplies.auto_reply_view(rule))

    @authenticated("admin:oa", kind="operator")
    async def delete(self, rule_id: str):
        await self.run_sync(autoreplies.delete_auto_reply, self.principal.id, int(rule_id))
        self.set_status(204)
        self.finish()


class CounterPosterHandler(BaseHandler):
    @authenticated("admin:merchants", kind="operator")
    async def get(self):
        if self.query("merchant_id") is None:
            raise ValidationFailed("缺少参数 merchant_id", details={"field": "merchant_id"})
        merchant_id = v.query_int(self.query("merchant_id"), "merchant_id", default=0,
                                  minimum=1, maximum=2 ** 62)
        shop_name = v.string({"shop_name": self.query("shop_name")}, "shop_name", max_length=40)
        result = await self.run_sync(qrcodes.counter_poster, self.ctx.qr_codes, merchant_id,
                                     shop_name, self.ctx.settings.poster_font_file)
        self.set_header("Content-Type", result.content_type)
        self.set_header("Content-Disposition", f'inline; filename="poster-{merchant_id}.png"')
        self.set_header("X-Referral-Scene", result.scene)
        self.finish(result.content)


def routes() -> list:
    return [
        (r"/api/admin/v1/oa/auto-replies", AutoRepliesHandler),
        (r"/api/admin/v1/oa/auto-replies/([0-9]{1,18})", AutoReplyHandler),
        (r"/api/admin/v1/referrals/counter-poster", CounterPosterHandler),
    ]


SCHEMAS = {
    "AutoReply": {"type": "object", "properties": {
        "id": {"type": "integer"},
        "match": {"type": "string", "enum": list(autoreplies.MATCHES)},
        "keyword": {"type": "string"}, "reply_text": {"type": "string"},
        "enabled": {"type": "boolean"}, "priority": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"}}},
}


def _openapi() -> dict:
    from server.openapi import (BOOL, INT, PAGING, STR, list_of, obj, op, path_param,
                                query_param, ref)

    tags = ["admin official account"]
    fields = {"match": {"type": "string", "enum": list(autoreplies.MATCHES)},
              "keyword": {"type": "string", "maxLength": 64,
                          "description": "the text (exact, contains), the menu key (click); "
                                         "empty for subscribe"},
              "reply_text": {"type": "string", "maxLength": autoreplies.MAX_REPLY},
              "enabled": BOOL, "priority": INT}
    rule_id = [path_param("id", INT)]
    poster = op("A partner's counter poster (PNG)", tags=tags, errors=(403, 429, 502, 503),
                params=[query_param("merchant_id", INT), query_param("shop_name", STR)],
                description="The official account's permanent parametric QR code (scene "
                            "`r.<merchant code>`) under the shop's name. A consumer who "
                            "scans it and follows is attributed to that merchant.")
    poster["responses"]["200"] = {"description": "the poster", "content": {
        "image/png": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "/api/admin/v1/oa/auto-replies": {
            "get": op("Automatic replies", tags=tags, params=PAGING, errors=(403,),
                      ok=list_of(ref("AutoReply"))),
            "post": op("Add an automatic reply", tags=tags, status=201, idempotent=True,
                       errors=(403, 409), body=obj(fields, ["match", "reply_text"]),
                       ok=ref("AutoReply"),
                       description="Errors: AUTO_REPLY_EXISTS (one per match and keyword)."),
        },
        "/api/admin/v1/oa/auto-replies/{id}": {
            "get": op("One automatic reply", tags=tags, params=rule_id, errors=(403, 404),
                      ok=ref("AutoReply")),
            "patch": op("Change an automatic reply", tags=tags, params=rule_id,
                        errors=(403, 404, 409), body=obj(fields), ok=ref("AutoReply")),
            "delete": op("Remove an automatic reply", tags=tags, params=rule_id,
                         errors=(403, 404), status=204),
        },
        "/api/admin/v1/referrals/counter-poster": {"get": poster},
    }


OPENAPI = _openapi()
