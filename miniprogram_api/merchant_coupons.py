"""Merchant staff manage their coupon templates and the partners that distribute them."""
from __future__ import annotations

from alliance.coupons import queries as coupon_queries
from alliance.coupons import templates
from alliance.coupons.models import TEMPLATE_STATUSES
from alliance.coupons.views import distribution_view, staff_template_view
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated, idempotent


class TemplatesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        status = v.optional_choice(self.query("status"), "status", TEMPLATE_STATUSES)
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(coupon_queries.issuer_templates,
                                            membership.merchant_id, status,
                                            self.query("cursor"), limit))

    @authenticated()
    @idempotent
    async def post(self):
        membership = await self.membership("merchant:marketing")
        body, actor = self.json_body(), self.principal.id

        def create():
            return staff_template_view(templates.create_template(
                body, merchant_id=membership.merchant_id, actor_kind="user", actor_id=actor))

        self.write_json(await self.run_sync(create), 201)


class TemplateHandler(StaffHandler):
    @authenticated()
    async def get(self, template_id: str):
        membership = await self.membership("merchant:read")

        def read():
            template = templates.get_template(int(template_id), membership.merchant_id)
            used = coupon_queries.used_counts([template.id]).get(template.id, 0)
            return staff_template_view(template, used)

        self.write_json(await self.run_sync(read))

    @authenticated()
    async def patch(self, template_id: str):
        membership = await self.membership("merchant:marketing")
        changes = self.json_body()

        def update():
            template = templates.update_template(int(template_id), membership.merchant_id, changes)
            used = coupon_queries.used_counts([template.id]).get(template.id, 0)
            return staff_template_view(template, used)

        self.write_json(await self.run_sync(update))


class TemplateDistributionsHandler(StaffHandler):
    @authenticated()
    async def get(self, template_id: str):
        membership = await self.membership("merchant:read")

        def read():
            templates.get_template(int(template_id), membership.merchant_id)
            return {"items": coupon_queries.distributions_of(membership.merchant_id,
                                                             int(template_id))}

        self.write_page(await self.run_sync(read))

    @authenticated()
    @idempotent
    async def post(self, template_id: str):
        membership = await self.membership("merchant:marketing")
        body = self.json_body()
        partner = v.integer(body, "merchant_id", minimum=1, maximum=2**31 - 1)
        commission = v.integer(body, "commission_fen", required=False, minimum=0,
                               maximum=templates.MAX_FEN, default=0)
        actor = self.principal.id

        def add():
            return distribution_view(templates.add_distribution(
                int(template_id), membership.merchant_id, partner, commission, actor_id=actor))

        self.write_json(await self.run_sync(add), 201)


class DistributionsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        items = await self.run_sync(coupon_queries.distributions_of, membership.merchant_id)
        self.write_page({"items": items})


class DistributionHandler(StaffHandler):
    @authenticated()
    async def delete(self, distribution_id: str):
        membership = await self.membership("merchant:marketing")
        self.write_json(await self.run_sync(
            lambda: distribution_view(templates.end_distribution(int(distribution_id),
                                                                 membership.merchant_id))))


def routes() -> list:
    return [
        (r"/api/v1/merchant/coupon-templates", TemplatesHandler),
        (r"/api/v1/merchant/coupon-templates/([0-9]{1,10})", TemplateHandler),
        (r"/api/v1/merchant/coupon-templates/([0-9]{1,10})/distributions",
         TemplateDistributionsHandler),
        (r"/api/v1/merchant/coupon-distributions", DistributionsHandler),
        (r"/api/v1/merchant/coupon-distributions/([0-9]{1,10})", DistributionHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj, ref

    status = {"type": "string", "enum": list(TEMPLATE_STATUSES)}
    return {
        "StaffCouponTemplate": {"allOf": [ref("CouponTemplate"), obj({
            "status": status, "total_stock": INT, "issued": INT,
            "used": {"type": "integer", "description": "coupons used at checkout or redeemed"},
            "created_at": TIME, "updated_at": TIME})]},
        "CouponTemplateInput": obj({
            "name": STR, "description": STR,
            "kind": {"type": "string", "enum": ["fixed", "percent", "service"]},
            "threshold_fen": FEN, "discount_fen": FEN,
            "percent_off": {"type": "integer", "minimum": 1, "maximum": 90},
            "max_discount_fen": FEN, "item_id": INT,
            "scope": {"type": "string", "enum": ["merchant", "items", "alliance"]},
            "scope_item_ids": {"type": "array", "items": INT},
            "valid_from": TIME, "valid_until": TIME,
            "valid_days": {"type": "integer", "minimum": 1, "maximum": 366},
            "claim_starts_at": TIME, "claim_ends_at": TIME,
            "total_stock": INT, "per_user_limit": {"type": "integer", "minimum": 1, "maximum": 20},
            "channels": {"type": "array", "items": {"type": "string",
                                                    "enum": ["own", "partner", "platform",
                                                             "points"]}},
            "points_cost": INT},
            ["name", "kind", "total_stock"],
            description="validity: valid_from + valid_until, or valid_days; merchants choose "
                        "channels among own, partner, points (points alone); operators among "
                        "platform, points"),
        "CouponTemplateChanges": obj({
            "name": STR, "description": STR, "total_stock": INT, "per_user_limit": INT,
            "claim_ends_at": {**TIME, "nullable": True}, "status": status},
            description="what may change after creation"),
        "CouponDistribution": obj({
            "id": INT, "template_id": INT, "template_name": STR, "issuer_merchant_id": INT,
            "distributor_merchant_id": INT, "distributor_name": STR,
            "commission_fen": {**FEN, "description": "owed by the issuer per redeemed coupon "
                                                     "claimed through this partner"},
            "cooperation_id": {"type": "integer", "nullable": True},
            "status": {"type": "string", "enum": ["active", "ended"]},
            "claim_scene": STR, "created_at": TIME,
            "ended_at": {**TIME, "nullable": True}}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, obj, op, path_param, query_param, ref

    tags = ["merchant coupons"]
    one = [path_param("id", INT), *MERCHANT_CHOICE]
    return {
        "/api/v1/merchant/coupon-templates": {
            "get": op("The merchant's coupon templates, newest first", tags=tags,
                      ok=list_of(ref("StaffCouponTemplate")), errors=(400, 403),
                      params=[query_param("status", {"type": "string",
                                                     "enum": list(TEMPLATE_STATUSES)}),
                              *PAGING, *MERCHANT_CHOICE]),
            "post": op("Create a coupon template (owner or manager)", tags=tags, status=201,
                       body=ref("CouponTemplateInput"), ok=ref("StaffCouponTemplate"),
                       errors=(403,), idempotent=True, params=MERCHANT_CHOICE)},
        "/api/v1/merchant/coupon-templates/{id}": {
            "get": op("One of the merchant's coupon templates", tags=tags,
                      ok=ref("StaffCouponTemplate"), errors=(403, 404), params=one),
            "patch": op("Change a template's name, stock, limit, claim deadline or status",
                        tags=tags, body=ref("CouponTemplateChanges"),
                        ok=ref("StaffCouponTemplate"), errors=(403, 404, 409), params=one)},
        "/api/v1/merchant/coupon-templates/{id}/distributions": {
            "get": op("The partners distributing a template", tags=tags,
                      ok=list_of(ref("CouponDistribution")), errors=(400, 403, 404),
                      params=[*one, *PAGING]),
            "post": op("Let a partner merchant distribute the template at its counter "
                       "(a cross-merchant coupon)", tags=tags, status=201,
                       body=obj({"merchant_id": INT, "commission_fen": INT}, ["merchant_id"]),
                       ok=ref("CouponDistribution"), errors=(403, 404, 409), idempotent=True,
                       params=one)},
        "/api/v1/merchant/coupon-distributions": {"get": op(
            "Distributions the merchant takes part in (as issuer or distributor)", tags=tags,
            ok=list_of(ref("CouponDistribution")), errors=(400, 403),
            params=[*MERCHANT_CHOICE, *PAGING])},
        "/api/v1/merchant/coupon-distributions/{id}": {"delete": op(
            "End a distribution (issuer or distributor)", tags=tags,
            ok=ref("CouponDistribution"), errors=(403, 404), params=one)},
    }


OPENAPI = _openapi()
