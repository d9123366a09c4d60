"""Referrals for consumers: their referral QR code, the scene they arrived with, invitees."""
from __future__ import annotations

from alliance.referrals import qrcodes, queries, services
from alliance.shares import KINDS, PAGES
from alliance.clock import to_local_iso
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent


def attribution_view(attribution) -> dict | None:
    if attribution is None or attribution.source_kind is None:
        return None
    return {"source_kind": attribution.source_kind, "status": attribution.status,
            "referrer_id": attribution.referrer_id, "merchant_id": attribution.merchant_id,
            "channel": attribution.channel, "bound_at": to_local_iso(attribution.bound_at),
            "expires_at": to_local_iso(attribution.expires_at),
            "shared": None if attribution.share_kind is None else {
                "kind": attribution.share_kind, "id": attribution.share_id}}


class ReferralQrcodeHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        fmt = v.one_of(self.query("format", "png"), "format", tuple(qrcodes.FORMATS))
        result = await self.run_sync(qrcodes.referral_qrcode, self.ctx.qr_codes,
                                     self.principal.id, fmt, self.ctx.settings.public_base_url)
        self.set_header("Content-Type", result.content_type)
        self.set_header("Cache-Control", "private, max-age=86400")
        self.set_header("X-Referral-Scene", result.scene)
        self.finish(result.content)


class AttributionHandler(BaseHandler):
    @authenticated("self:write")
    @idempotent
    async def post(self):
        scene = v.string(self.json_body(), "scene", max_length=512)
        outcome = await self.run_sync(services.record_touch, self.principal.id, scene,
                                      "miniprogram", self.ctx.settings.referral_window_days)
        shared = outcome.shared
        self.write_json({"attributed": outcome.attributed, "reason": outcome.reason,
                         "attribution": attribution_view(outcome.attribution),
                         "shared": None if shared is None else {
                             "kind": shared[0], "id": shared[1], "page": PAGES[shared[0]]}})


class InviteesHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        limit = v.query_int(self.query("limit"), "limit", default=20, minimum=1, maximum=100)
        self.write_json(await self.run_sync(queries.invitees, self.principal.id,
                                            self.query("cursor"), limit))


class ReferralLinkHandler(BaseHandler):
    """What a referral link shows outside WeChat (inside, WeChat opens the mini-program)."""

    async def get(self, code: str):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish("<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                    "<title>异业联盟</title><p>请使用微信扫一扫打开小程序，领取好友的邀请福利。</p>"
                    "</html>")


def routes() -> list:
    return [
        (r"/api/v1/me/referral-qrcode", ReferralQrcodeHandler),
        (r"/api/v1/me/attribution", AttributionHandler),
        (r"/api/v1/me/invitees", InviteesHandler),
        (r"/r/([23456789A-Z]{8})", ReferralLinkHandler),
    ]


SCHEMAS = {
    "Attribution": {"type": "object", "nullable": True, "properties": {
        "source_kind": {"type": "string", "enum": ["user", "merchant"]},
        "status": {"type": "string", "enum": ["bound", "converted", "lapsed"]},
        "referrer_id": {"type": "integer", "nullable": True},
        "merchant_id": {"type": "integer", "nullable": True},
        "channel": {"type": "string", "enum": ["miniprogram", "oa"]},
        "bound_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "shared": {"type": "object", "nullable": True,
                   "description": "what the share card that brought the consumer showed",
                   "properties": {"kind": {"type": "string", "enum": list(KINDS)},
                                  "id": {"type": "integer"}}}}},
    "Invitee": {"type": "object", "properties": {
        "invitee": {"type": "object", "properties": {
            "id": {"type": "integer"}, "nickname": {"type": "string"},
            "avatar_url": {"type": "string"}}},
        "status": {"type": "string", "enum": ["bound", "expired", "converted", "lapsed"]},
        "channel": {"type": "string"},
        "bound_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "converted_at": {"type": "string", "format": "date-time", "nullable": True},
        "shared": {"type": "object", "nullable": True,
                   "description": "the share card that brought them, if one did",
                   "properties": {"kind": {"type": "string", "enum": list(KINDS)},
                                  "id": {"type": "integer"}}},
        "reward": {"type": "object", "nullable": True, "properties": {
            "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["points"]},
            "points": {"type": "integer", "description": "credited to my points at once"},
            "created_at": {"type": "string", "format": "date-time"}}}}},
}


def _openapi() -> dict:
    from server.openapi import BOOL, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["referrals"]
    qrcode = op("The consumer's own referral code image", tags=tags, errors=(429, 502, 503),
                params=[query_param("format", {"type": "string", "enum": ["png", "svg"],
                                               "default": "png"})],
                description="png: a mini-program code (WeChat's getwxacodeunlimit) whose "
                            "scene is `r.<code>`; svg: a QR code of the referral link "
                            "`<PUBLIC_BASE_URL>/r/<code>`. Made once and cached.")
    qrcode["responses"]["200"] = {"description": "the image", "content": {
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/svg+xml": {"schema": {"type": "string"}}}}
    invitees = list_of(ref("Invitee"))
    invitees["properties"]["summary"] = obj({"invitees": {"type": "integer"},
                                             "rewards": {"type": "integer"},
                                             "reward_points": {"type": "integer"}})
    link = op("A referral link opened outside WeChat", tags=tags, auth=False,
              params=[path_param("code")])
    link["responses"]["200"] = {"description": "a page asking to scan in WeChat",
                                "content": {"text/html": {"schema": STR}}}
    return {
        "/api/v1/me/referral-qrcode": {"get": qrcode},
        "/api/v1/me/attribution": {"post": op(
            "Report the scene the mini-program was opened with", tags=tags, idempotent=True,
            body=obj({"scene": {"type": "string", "maxLength": 512}}, ["scene"]),
            ok=obj({"attributed": BOOL,
                    "reason": {"type": "string", "nullable": True,
                               "enum": ["not_a_referral", "unknown_code", "self_referral",
                                        "already_attributed", "final", None]},
                    "attribution": ref("Attribution"),
                    "shared": {"type": "object", "nullable": True, "description":
                               "what a share scene names (whatever the attribution): the "
                               "page to open with `id`", "properties": {
                                   "kind": {"type": "string", "enum": list(KINDS)},
                                   "id": {"type": "integer"}, "page": {"type": "string"}}}},
                   ["attributed"]),
            description="Any scene may be reported (`r.<code>`, `qrscene_r.<code>`, the "
                        "referral link, a share card's scene `r.<code>.<c|g|i|m><id>` or "
                        "link, URL-encoded or not); only referral scenes attribute. "
                        "First touch within REFERRAL_WINDOW_DAYS (7) wins; no self-referral.")},
        "/api/v1/me/invitees": {"get": op("The consumers I referred, and my rewards", tags=tags,
                                          params=PAGING, ok=invitees)},
        "/r/{code}": {"get": link},
    }


OPENAPI = _openapi()
