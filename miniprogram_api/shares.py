"""Share cards of campaigns, group buys, items and merchants (``alliance.shares``)."""
from __future__ import annotations

from alliance import shares
from alliance.referrals.qrcodes import FORMATS
from server import validation as v
from server.base import BaseHandler, authenticated

KIND_PATTERN = "(" + "|".join(shares.KINDS) + ")"


class ShareCardHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self, kind: str, target_id: str):
        self.write_json(await self.run_sync(shares.share_card, self.principal.id, kind,
                                            int(target_id), self.ctx.settings.public_base_url))


class ShareCodeHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self, kind: str, target_id: str):
        fmt = v.one_of(self.query("format", "png"), "format", tuple(FORMATS))
        result = await self.run_sync(shares.share_code_image, self.ctx.qr_codes,
                                     self.principal.id, kind, int(target_id), fmt,
                                     self.ctx.settings.public_base_url)
        self.set_header("Content-Type", result.content_type)
        self.set_header("Cache-Control", "private, max-age=3600")
        self.set_header("X-Share-Scene", result.scene)
        self.finish(result.content)


def routes() -> list:
    return [
        (rf"/api/v1/shares/{KIND_PATTERN}/([0-9]{{1,10}})", ShareCardHandler),
        (rf"/api/v1/shares/{KIND_PATTERN}/([0-9]{{1,10}})/qrcode", ShareCodeHandler),
    ]


SCHEMAS = {
    "ShareCard": {"type": "object", "properties": {
        "kind": {"type": "string", "enum": list(shares.KINDS)},
        "id": {"type": "integer"},
        "title": {"type": "string", "description": "what WeChat shows on the card"},
        "image_url": {"type": "string", "nullable": True},
        "page": {"type": "string", "description": "the mini-program page that shows it"},
        "path": {"type": "string", "description":
                 "for onShareAppMessage: the page with `id` and the sharer's `scene`"},
        "scene": {"type": "string", "description":
                  "`r.<referral code>.<c|g|i|m><id>`: report it to /api/v1/me/attribution"},
        "link": {"type": "string", "description": "`<PUBLIC_BASE_URL>/r/<code>?to=<c|g|i|m><id>`"}}},
}


def _openapi() -> dict:
    from server.openapi import op, path_param, query_param, ref

    tags = ["referrals"]
    params = [path_param("kind", {"type": "string", "enum": list(shares.KINDS)}),
              path_param("id")]
    checks = ("Only what consumers can see now is shared: 404 CAMPAIGN_NOT_FOUND, "
              "GROUP_NOT_FOUND, ITEM_NOT_FOUND or MERCHANT_NOT_FOUND otherwise; 409 "
              "SHARE_TARGET_CLOSED for a campaign that is over or a group no longer open.")
    code = op("The share card's code image", tags=tags, params=[
                  *params, query_param("format", {"type": "string", "enum": list(FORMATS),
                                                  "default": "png"})],
              errors=(404, 409, 429, 502, 503),
              description="png: a mini-program code (getwxacodeunlimit) of the card's page "
                          "with its scene; svg: a QR code of its link. Made once per scene. "
                          + checks)
    code["responses"]["200"] = {"description": "the image", "content": {
        "image/png": {"schema": {"type": "string", "format": "binary"}},
        "image/svg+xml": {"schema": {"type": "string"}}}}
    return {
        "/api/v1/shares/{kind}/{id}": {"get": op(
            "What the consumer shares of a campaign, group buy, item or merchant", tags=tags,
            params=params, ok=ref("ShareCard"), errors=(404, 409),
            description="A friend who opens it is attributed to the sharer (first touch "
                        "within REFERRAL_WINDOW_DAYS) and to what was shared. " + checks)},
        "/api/v1/shares/{kind}/{id}/qrcode": {"get": code},
    }


OPENAPI = _openapi()
