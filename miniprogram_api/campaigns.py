"""Campaigns in the mini-program: consumers see the running and upcoming ones; merchants'
staff run their own (``merchant:marketing``; ``merchant:read`` to look) and join the
platform's."""
from __future__ import annotations

from alliance.campaigns import group_queries, queries, services
from alliance.campaigns.models import CampaignParticipant
from alliance.campaigns.queries import participant_view, staff_campaign_view
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent


class CampaignsHandler(BaseHandler):
    async def get(self):
        self.write_json(await self.run_sync(queries.open_campaigns, self.query("kind"),
                                            self.query("cursor"), v.page_limit(self.query("limit"))))


class CampaignHandler(BaseHandler):
    async def get(self, campaign_id: str):
        self.write_json(await self.run_sync(queries.public_campaign, int(campaign_id)))


class MerchantCampaignsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.merchant_campaigns, membership.merchant_id,
                                            self.query("status"), self.query("cursor"), limit))

    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:marketing")
        body, actor = self.json_body(), self.principal.id

        def create():
            return queries.merchant_campaign(
                services.create_merchant_campaign(body, membership.merchant_id, actor).id,
                membership.merchant_id)

        self.write_json(await self.run_sync(create), 201)


class MerchantCampaignHandler(StaffHandler):
    @authenticated()
    async def get(self, campaign_id: str):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(queries.merchant_campaign, int(campaign_id),
                                            membership.merchant_id))

    @authenticated()
    async def patch(self, campaign_id: str):
        membership = await self.membership("merchant:marketing")
        changes = self.json_body()

        def update():
            services.update_merchant_campaign(int(campaign_id), membership.merchant_id, changes)
            return queries.merchant_campaign(int(campaign_id), membership.merchant_id)

        self.write_json(await self.run_sync(update))


class MerchantCampaignEndHandler(StaffHandler):
    @authenticated()
    async def post(self, campaign_id: str):
        membership = await self.membership("merchant:marketing")
        campaign = await self.run_sync(services.end_campaign, int(campaign_id),
                                       merchant_id=membership.merchant_id)
        self.write_json(staff_campaign_view(campaign))


class MerchantCampaignJoinHandler(StaffHandler):
    @authenticated()
    @idempotent
    async def post(self, campaign_id: str):
        membership = await self.membership("merchant:marketing")
        body = self.json_body()
        participant: CampaignParticipant = await self.run_sync(
            services.join_campaign, int(campaign_id), membership.merchant_id, body)
        self.write_json(participant_view(participant), 201)


class MerchantCampaignEffectHandler(StaffHandler):
    @authenticated()
    async def get(self, campaign_id: str):
        membership = await self.membership("merchant:finance")

        def read():
            queries.merchant_campaign(int(campaign_id), membership.merchant_id)
            return queries.effect(int(campaign_id), membership.merchant_id)

        self.write_json(await self.run_sync(read))


class MerchantCampaignGroupsHandler(StaffHandler):
    @authenticated()
    async def get(self, campaign_id: str):
        membership = await self.membership("merchant:read")
        status, cursor = self.query("status"), self.query("cursor")
        limit = v.page_limit(self.query("limit"))

        def read():
            queries.merchant_campaign(int(campaign_id), membership.merchant_id)
            return group_queries.campaign_groups(int(campaign_id), membership.merchant_id,
                                                 status, cursor, limit)

        self.write_json(await self.run_sync(read))


class JoinableCampaignsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(queries.joinable_campaigns, membership.merchant_id,
                                            self.query("cursor"), limit))


def routes() -> list:
    campaign = r"/api/v1/merchant/campaigns/([0-9]{1,10})"
    return [(r"/api/v1/campaigns", CampaignsHandler),
            (r"/api/v1/campaigns/([0-9]{1,10})", CampaignHandler),
            (r"/api/v1/merchant/campaigns", MerchantCampaignsHandler),
            (r"/api/v1/merchant/platform-campaigns", JoinableCampaignsHandler),
            (campaign, MerchantCampaignHandler),
            (campaign + "/end", MerchantCampaignEndHandler),
            (campaign + "/join", MerchantCampaignJoinHandler),
            (campaign + "/effect", MerchantCampaignEffectHandler),
            (campaign + "/groups", MerchantCampaignGroupsHandler)]


def _schemas() -> dict:
    from server.openapi import BOOL, FEN, INT, STR, TIME, obj

    nullable_int = {**INT, "nullable": True}
    tier = obj({"threshold_fen": FEN, "discount_fen": FEN}, ["threshold_fen", "discount_fen"])
    item = obj({"item_id": INT, "merchant_id": INT, "name": STR, "price_fen": FEN,
                "campaign_price_fen": FEN, "stock_total": nullable_int,
                "remaining_stock": INT, "sold": INT})
    item_input = obj({"item_id": INT, "campaign_price_fen": {
        **FEN, "description": "the flash or group price: at least 1 fen, below the item's "
                              "price"},
        "stock": {**INT, "description": "a campaign stock of its own (omitted: none)"}},
        ["item_id", "campaign_price_fen"])
    participation = obj({"merchant_id": INT, "merchant_name": {**STR, "nullable": True},
                         "status": {"type": "string", "enum": ["pending", "approved", "rejected"]},
                         "reason": STR, "created_at": TIME,
                         "reviewed_at": {**TIME, "nullable": True}})
    campaign = {
        "id": INT, "kind": {"type": "string", "enum": ["flash_sale", "full_reduction",
                                                        "group_buy"]},
        "name": STR, "description": STR,
        "funded_by": {"type": "string", "enum": ["platform", "merchant"]},
        "merchant_id": nullable_int, "starts_at": TIME, "ends_at": TIME,
        "state": {"type": "string", "enum": ["upcoming", "running", "ended", "pending",
                                              "rejected"]},
        "per_user_limit": nullable_int, "tiers": {"type": "array", "items": tier},
        "group_size": {**nullable_int, "description": "group buy: the people a group needs"},
        "group_hours": {**nullable_int, "description": "group buy: the hours a group has "
                                                       "to fill (cut at the campaign's end)"}}
    budget = {
        "budget_fen": {**FEN, "nullable": True, "description":
                       "platform campaigns (operators only): the most its discounts give; "
                       "null: no limit"},
        "budget_used_fen": {**FEN, "nullable": True, "description":
                            "the discounts orders took from the budget (unpaid orders until "
                            "cancelled or closed, which give theirs back; refunds do not)"},
        "budget_left_fen": {**FEN, "nullable": True, "description":
                            "what is left of the budget (null: no budget); a campaign whose "
                            "budget cannot cover an order's discount is left out of its "
                            "quote and price"}}
    staff = {**campaign, "status": {"type": "string",
                                    "enum": ["pending", "approved", "rejected", "ended"]},
             "reason": STR, **budget,
             "join_requires_approval": BOOL, "reviewed_at": {**TIME, "nullable": True},
             "created_at": TIME, "updated_at": TIME,
             "participation": {**participation, "nullable": True},
             "participants": {"type": "array", "items": participation},
             "merchant_name": {**STR, "nullable": True},
             "items": {"type": "array", "items": item}}
    return {
        "Campaign": obj({**campaign, "items": {"type": "array", "items": item},
                         "merchants": {"type": "array", "items": obj({"merchant_id": INT,
                                                                       "name": STR})}},
                        ["id", "kind", "name", "starts_at", "ends_at"]),
        "StaffCampaign": obj(staff, ["id", "kind", "name", "status"]),
        "CampaignParticipation": participation,
        "CampaignInput": obj({
            "kind": campaign["kind"], "name": STR, "description": STR, "starts_at": TIME,
            "ends_at": TIME,
            "per_user_limit": {**INT, "description": "flash sale, group buy: units per user "
                                                     "and item, 1-99"},
            "group_size": {**INT, "description": "group buy (required): 2-50 people"},
            "group_hours": {**INT, "description": "group buy (required): 1-72 hours for a "
                                                  "group to fill, cut at the campaign's "
                                                  "end"},
            "tiers": {"type": "array", "items": tier,
                      "description": "full reduction: 1-5 tiers, each saving less than its "
                                     "threshold, higher thresholds saving more"},
            "items": {"type": "array", "items": item_input,
                      "description": "a merchant's flash sale or group buy: 1-50 of its "
                                     "items"},
            "budget_fen": {**FEN, "description": "platform campaigns: the most its "
                                                 "discounts may give away (enforced; "
                                                 "omitted: no limit)"},
            "join_requires_approval": {**BOOL, "description": "platform campaigns (default "
                                                              "true)"}},
            ["kind", "name", "starts_at", "ends_at"]),
        "CampaignChanges": obj({"name": STR, "description": STR, "starts_at": TIME,
                                "ends_at": TIME, "per_user_limit": INT,
                                "tiers": {"type": "array", "items": tier},
                                "items": {"type": "array", "items": item_input},
                                "budget_fen": FEN, "join_requires_approval": BOOL,
                                "group_size": INT, "group_hours": INT}),
        "CampaignJoin": obj({"items": {"type": "array", "items": item_input,
                                       "description": "flash sale, group buy: 1-50 of the "
                                                      "merchant's items"}}),
        "CampaignEffect": obj({"campaign_id": INT, "participants": {
            **INT, "description": "distinct buyers of paid orders"}, "orders": INT,
            "units": INT, "sales_fen": FEN, "discount_fen": FEN, **budget,
            "groups": {"$ref": "#/components/schemas/GroupEffect"},
            "shares": obj({"new_consumers": {**INT, "description": "consumers first brought "
                                             "by a share card of it or of its groups"},
                           "converted": {**INT, "description": "of them, those whose first "
                                         "paid order came inside the referral window"}})}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, path_param, query_param, ref

    tags, staff = ["campaigns"], ["merchant campaigns"]
    kind = query_param("kind", {"type": "string", "enum": ["flash_sale", "full_reduction",
                                                           "group_buy"]})
    status = query_param("status", {"type": "string",
                                    "enum": ["pending", "approved", "rejected", "ended"]})
    one = [path_param("id", INT), *MERCHANT_CHOICE]
    return {
        "/api/v1/campaigns": {"get": op(
            "Platform and merchant campaigns running or upcoming, newest first", tags=tags,
            auth=False, ok=list_of(ref("Campaign")), errors=(400,), params=[kind, *PAGING])},
        "/api/v1/campaigns/{id}": {"get": op(
            "A campaign: its items with campaign price and what is left, or its tiers; the "
            "merchants it runs at", tags=tags, auth=False, ok=ref("Campaign"), errors=(404,),
            params=[path_param("id", INT)])},
        "/api/v1/merchant/campaigns": {
            "get": op("The merchant's own campaigns, newest first (merchant:read)", tags=staff,
                      ok=list_of(ref("StaffCampaign")), errors=(400, 403),
                      params=[status, *MERCHANT_CHOICE, *PAGING]),
            "post": op("Create a campaign of the merchant (merchant:marketing); pending until "
                       "operators approve it", tags=staff, status=201,
                       body=ref("CampaignInput"), ok=ref("StaffCampaign"), errors=(403,),
                       params=MERCHANT_CHOICE, idempotent=True,
                       description="Invalid fields answer 400 VALIDATION_FAILED with "
                                   "details.field.")},
        "/api/v1/merchant/platform-campaigns": {"get": op(
            "Platform campaigns that have not ended, with the merchant's join", tags=staff,
            ok=list_of(ref("StaffCampaign")), errors=(400, 403),
            params=[*MERCHANT_CHOICE, *PAGING])},
        "/api/v1/merchant/campaigns/{id}": {
            "get": op("The merchant's campaign, or a platform one with its join", tags=staff,
                      ok=ref("StaffCampaign"), errors=(403, 404), params=one),
            "patch": op("Change the merchant's campaign before it starts; it goes back to "
                        "pending", tags=staff, body=ref("CampaignChanges"),
                        ok=ref("StaffCampaign"), errors=(403, 404, 409), params=one)},
        "/api/v1/merchant/campaigns/{id}/end": {"post": op(
            "End the merchant's campaign now", tags=staff, ok=ref("StaffCampaign"),
            errors=(403, 404, 409), params=one)},
        "/api/v1/merchant/campaigns/{id}/join": {"post": op(
            "Join a platform campaign (a flash sale with items and campaign prices); pending "
            "until operators approve it when the campaign audits joins", tags=staff,
            status=201, body=ref("CampaignJoin"), ok=ref("CampaignParticipation"),
            errors=(403, 404, 409), params=one, idempotent=True)},
        "/api/v1/merchant/campaigns/{id}/effect": {"get": op(
            "The campaign's effect at the merchant, from paid orders (merchant:finance); a "
            "group buy's groups started, open, succeeded and failed, and its refunds",
            tags=staff, ok=ref("CampaignEffect"), errors=(403, 404), params=one)},
        "/api/v1/merchant/campaigns/{id}/groups": {"get": op(
            "A group buy's groups at the merchant, newest first (merchant:read)", tags=staff,
            ok=list_of(ref("Group")), errors=(400, 403, 404),
            params=[*one, query_param("status", {"type": "string", "enum": [
                "open", "succeeded", "failed"]}), *PAGING])},
    }


OPENAPI = _openapi()
