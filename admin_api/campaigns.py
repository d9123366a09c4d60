"""Operators run platform campaigns (funded by the platform), audit merchants' campaigns
and their joins of platform campaigns, and read each campaign's effect
(``admin:campaigns``)."""
from __future__ import annotations

from alliance.campaigns import group_queries, queries, review, services
from alliance.campaigns.models import KINDS
from alliance.campaigns.queries import participant_view
from alliance.pushes import platform as platform_pushes
from alliance.merchants.industries import INDUSTRIES
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

PERMISSION = "admin:campaigns"


class CampaignsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.admin_campaigns, self.query("owner"),
                                            self.query("status"), self.query("cursor"), limit))

    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self):
        body, operator = self.json_body(), self.principal.id

        def create():
            return queries.admin_campaign(services.create_platform_campaign(body, operator).id)

        self.write_json(await self.run_sync(create), 201)


class CampaignHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, campaign_id: str):
        self.write_json(await self.run_sync(queries.admin_campaign, int(campaign_id)))

    @authenticated(PERMISSION, kind="operator")
    async def patch(self, campaign_id: str):
        changes, operator = self.json_body(), self.principal.id

        def update():
            services.update_platform_campaign(int(campaign_id), operator, changes)
            return queries.admin_campaign(int(campaign_id))

        self.write_json(await self.run_sync(update))


class CampaignEndHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def post(self, campaign_id: str):
        operator = self.principal.id

        def end():
            services.end_campaign(int(campaign_id), operator_id=operator)
            return queries.admin_campaign(int(campaign_id))

        self.write_json(await self.run_sync(end))


class CampaignReviewHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def post(self, campaign_id: str):
        body, operator, notifier = self.json_body(), self.principal.id, self.ctx.notifier

        def decide():
            review.review_campaign(notifier, int(campaign_id), operator, body)
            return queries.admin_campaign(int(campaign_id))

        self.write_json(await self.run_sync(decide))


class ParticipantReviewHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def post(self, campaign_id: str, merchant_id: str):
        body, operator = self.json_body(), self.principal.id
        participant = await self.run_sync(review.review_participant, self.ctx.notifier,
                                          int(campaign_id), int(merchant_id), operator, body)
        self.write_json(participant_view(participant))


class CampaignEffectHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, campaign_id: str):
        def read():
            queries.admin_campaign(int(campaign_id))
            return queries.effect(int(campaign_id))

        self.write_json(await self.run_sync(read))


class CampaignGroupsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, campaign_id: str):
        status, cursor = self.query("status"), self.query("cursor")
        limit = v.page_limit(self.query("limit"))

        def read():
            queries.admin_campaign(int(campaign_id))
            return group_queries.campaign_groups(int(campaign_id), None, status, cursor, limit)

        self.write_json(await self.run_sync(read))


class PromotionsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self, campaign_id: str):
        cursor, limit = self.query("cursor"), v.page_limit(self.query("limit"))

        def read():
            queries.admin_campaign(int(campaign_id))
            return platform_pushes.promotions(int(campaign_id), cursor, limit)

        self.write_json(await self.run_sync(read))

    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self, campaign_id: str):
        body, operator = self.json_body(), self.principal.id
        title = v.string(body, "title", max_length=32)
        content = v.string(body, "content", max_length=200)
        audience = platform_pushes.parse_audience(body.get("segment"))
        notifier = self.ctx.extras["bulk_notifier"]
        limit = self.ctx.settings.platform_push_daily_limit

        def start():
            return platform_pushes.push_view(platform_pushes.start_promotion(
                notifier, operator, int(campaign_id), title=title, content=content,
                audience=audience, daily_limit=limit))

        self.write_json(await self.run_sync(start), 201)


class JoinsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        status, cursor = self.query("status"), self.query("cursor")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.admin_joins, status, cursor, limit))


def routes() -> list:
    campaign = r"/api/admin/v1/campaigns/([0-9]{1,10})"
    return [(r"/api/admin/v1/campaigns", CampaignsHandler),
            (r"/api/admin/v1/campaign-joins", JoinsHandler),
            (campaign, CampaignHandler),
            (campaign + "/end", CampaignEndHandler),
            (campaign + "/review", CampaignReviewHandler),
            (campaign + r"/participants/([0-9]{1,10})/review", ParticipantReviewHandler),
            (campaign + "/effect", CampaignEffectHandler),
            (campaign + "/groups", CampaignGroupsHandler),
            (campaign + "/promotions", PromotionsHandler)]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["admin campaigns"]
    one = [path_param("id", INT)]
    decision = obj({"decision": {"type": "string", "enum": ["approve", "reject"]},
                    "reason": {**STR, "description": "required to reject (at most 200)"}},
                   ["decision"])
    return {
        "/api/admin/v1/campaigns": {
            "get": op("Every campaign, newest first", tags=tags,
                      ok=list_of(ref("StaffCampaign")), errors=(400, 403),
                      params=[query_param("owner", {"type": "string",
                                                    "enum": ["platform", "merchant"]}),
                              query_param("status", {"type": "string", "enum": [
                                  "pending", "approved", "rejected", "ended"]}), *PAGING]),
            "post": op("Create a platform campaign (funded by the platform; audited)",
                       tags=tags, status=201, body=ref("CampaignInput"),
                       ok=ref("StaffCampaign"), errors=(403,), idempotent=True,
                       description="Merchants join it with their items; invalid fields "
                                   "answer 400 VALIDATION_FAILED with details.field. With "
                                   "a budget_fen, each order takes its discount from it: "
                                   "once it cannot cover an order's discount, the quote "
                                   "and the order leave the campaign out (409 "
                                   "CAMPAIGN_BUDGET_EXHAUSTED when the rest went between "
                                   "the two).")},
        "/api/admin/v1/campaigns/{id}": {
            "get": op("A campaign with its participants, items and budget (used, left)",
                      tags=tags,
                      ok=ref("StaffCampaign"), errors=(403, 404), params=one),
            "patch": op("Change a platform campaign (terms only before it starts; audited)",
                        tags=tags, body=ref("CampaignChanges"), ok=ref("StaffCampaign"),
                        errors=(403, 404, 409), params=one)},
        "/api/admin/v1/campaigns/{id}/end": {"post": op(
            "End any campaign now (audited)", tags=tags, ok=ref("StaffCampaign"),
            errors=(403, 404, 409), params=one)},
        "/api/admin/v1/campaigns/{id}/review": {"post": op(
            "Approve or reject a merchant's pending campaign (audited)", tags=tags,
            body=decision, ok=ref("StaffCampaign"), errors=(403, 404, 409), params=one)},
        "/api/admin/v1/campaigns/{id}/participants/{merchant_id}/review": {"post": op(
            "Approve or reject a merchant's pending join of a platform campaign (audited)",
            tags=tags, body=decision, ok=ref("CampaignParticipation"),
            errors=(403, 404, 409), params=[*one, path_param("merchant_id", INT)])},
        "/api/admin/v1/campaigns/{id}/effect": {"get": op(
            "A campaign's effect from paid orders: participants (distinct paying buyers), "
            "orders, units, sales and discount given; and its budget, what orders took "
            "from it and what is left; a group buy's groups (started, open, succeeded, "
            "failed) and the refunds of its failed groups", tags=tags,
            ok=ref("CampaignEffect"), errors=(403, 404), params=one)},
        "/api/admin/v1/campaign-joins": {"get": op(
            "Merchants' joins of platform campaigns, newest first; status=pending is the "
            "review queue", tags=tags,
            ok=list_of({"allOf": [ref("CampaignParticipation"), obj({
                "campaign_id": INT, "campaign_name": STR,
                "campaign_kind": {"type": "string", "enum": list(KINDS)}})]}),
            errors=(400, 403), params=[query_param("status", {
                "type": "string", "enum": ["pending", "approved", "rejected"]}), *PAGING])},
        "/api/admin/v1/campaigns/{id}/promotions": {
            "get": op("The campaign's promotions pushed to consumers, newest first, with "
                      "how many each has queued", tags=tags, ok=list_of(ref("Promotion")),
                      errors=(400, 403, 404), params=[*one, *PAGING]),
            "post": op("Promote an approved campaign that is not over to consumers "
                       "(campaign.promoted; audited)", tags=tags, status=201,
                       ok=ref("Promotion"), errors=(403, 404, 409, 429), params=one,
                       idempotent=True,
                       body=obj({"title": {"type": "string", "maxLength": 32},
                                 "content": {"type": "string", "maxLength": 200},
                                 "segment": ref("PromotionSegment")}, ["title", "content"]),
                       description="Every active consumer in the segment who refused "
                                   "neither the platform's promotions nor every push gets "
                                   "it (subscribe or official-account template message, "
                                   "opening the campaign's page), queued in batches of 500 "
                                   "by the pushes.platform_batches job after the first. At "
                                   "most PLATFORM_PUSH_DAILY_LIMIT per Asia/Shanghai day: "
                                   "beyond it 429 RATE_LIMITED with Retry-After. 409 "
                                   "CAMPAIGN_NOT_PROMOTABLE for a campaign not approved or "
                                   "over.")},
        "/api/admin/v1/campaigns/{id}/groups": {"get": op(
            "A group buy's groups, newest first", tags=tags, ok=list_of(ref("Group")),
            errors=(400, 403, 404), params=[*one, query_param("status", {
                "type": "string", "enum": ["open", "succeeded", "failed"]}), *PAGING])},
    }


OPENAPI = _openapi()

SCHEMAS = {
    "PromotionSegment": {"type": "object", "description": "absent: every active consumer",
                         "properties": {
        "industries": {"type": "array", "items": {"type": "string", "enum": list(INDUSTRIES)},
                       "description": "members of merchants of these industries"},
        "active_within_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                               "description": "visited a merchant within the last N days"},
        "registered_within_days": {"type": "integer", "minimum": 1, "maximum": 3650}}},
    "Promotion": {"type": "object", "properties": {
        "id": {"type": "integer"}, "campaign_id": {"type": "integer"},
        "title": {"type": "string"}, "content": {"type": "string"},
        "segment": {"$ref": "#/components/schemas/PromotionSegment"},
        "status": {"type": "string", "enum": ["sending", "done"]},
        "recipients": {"type": "integer", "description": "messages queued so far"},
        "local_day": {"type": "string"}, "created_by": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "finished_at": {"type": "string", "format": "date-time", "nullable": True}}},
}
