"""Operators manage platform coupons (issued and funded by the platform, valid alliance-wide,
handed out in the coupon center or for points)."""
from __future__ import annotations

from alliance.coupons import queries as coupon_queries
from alliance.coupons import templates
from alliance.coupons.models import TEMPLATE_STATUSES
from alliance.coupons.views import staff_template_view
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

PERMISSION = "admin:campaigns"


class PlatformTemplatesHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        status = v.optional_choice(self.query("status"), "status", TEMPLATE_STATUSES)
        limit = v.page_limit(self.query("limit"))
        self.write_json(await self.run_sync(coupon_queries.issuer_templates, None, status,
                                            self.query("cursor"), limit))

    @authenticated(PERMISSION, kind="operator")
    @idempotent
    async def post(self):
        body, operator = self.json_body(), self.principal.id
        template = await self.run_sync(
            lambda: staff_template_view(templates.create_platform_template(body, operator)))
        self.write_json(template, 201)


class PlatformTemplateHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def patch(self, template_id: str):
        changes, operator = self.json_body(), self.principal.id

        def update():
            template = templates.update_platform_template(int(template_id), operator, changes)
            return staff_template_view(
                template, coupon_queries.used_counts([template.id]).get(template.id, 0))

        self.write_json(await self.run_sync(update))


def routes() -> list:
    return [(r"/api/admin/v1/coupon-templates", PlatformTemplatesHandler),
            (r"/api/admin/v1/coupon-templates/([0-9]{1,10})", PlatformTemplateHandler)]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, path_param, query_param, ref

    tags = ["admin coupons"]
    return {
        "/api/admin/v1/coupon-templates": {
            "get": op("Platform coupon templates, newest first", tags=tags,
                      ok=list_of(ref("StaffCouponTemplate")), errors=(400, 403),
                      params=[query_param("status", {"type": "string",
                                                     "enum": list(TEMPLATE_STATUSES)}), *PAGING]),
            "post": op("Create a platform coupon template (audited)", tags=tags, status=201,
                       body=ref("CouponTemplateInput"), ok=ref("StaffCouponTemplate"),
                       errors=(403,), idempotent=True,
                       description="kind fixed or percent; scope alliance; channels platform "
                                   "or points.")},
        "/api/admin/v1/coupon-templates/{id}": {"patch": op(
            "Change a platform coupon template (audited)", tags=tags,
            body=ref("CouponTemplateChanges"), ok=ref("StaffCouponTemplate"),
            errors=(403, 404, 409), params=[path_param("id", INT)])},
    }


OPENAPI = _openapi()
