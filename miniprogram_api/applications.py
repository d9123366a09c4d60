"""Joining the alliance: a user applies for a merchant; its owner reads and resubmits it."""
from __future__ import annotations

from alliance.merchants import applications as apps
from alliance.merchants.queries import get_merchant
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent


def parse_application(body: dict) -> apps.Application:
    text = lambda field, n: v.string(body, field, max_length=n)  # noqa: E731
    return apps.Application(
        name=text("name", 64), company_name=text("company_name", 128),
        credit_code=text("credit_code", 32), industry=text("industry", 32),
        legal_rep_name=text("legal_rep_name", 64),
        legal_rep_id_number=text("legal_rep_id_number", 32),
        licence_upload=text("licence_upload", 32), id_front_upload=text("id_front_upload", 32),
        id_back_upload=text("id_back_upload", 32), contact_phone=text("contact_phone", 20),
        intro=v.string(body, "intro", required=False, max_length=2000, default=""))


class ApplicationsHandler(BaseHandler):
    @authenticated("self:write")
    @idempotent
    async def post(self):
        form = parse_application(self.json_body())
        ctx = self.ctx

        def submit():
            merchant = apps.submit_application(ctx.protector, self.principal.id, form)
            return apps.application_view(merchant, ctx.settings.secret_key)

        self.write_json(await self.run_sync(submit), 201)


class OwnApplicationHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:account")
        secret = self.ctx.settings.secret_key
        self.write_json(await self.run_sync(
            lambda: apps.application_view(get_merchant(membership.merchant_id), secret)))

    @authenticated()
    async def put(self):
        membership = await self.membership("merchant:account")  # who, before what they sent
        form = parse_application(self.json_body())
        ctx = self.ctx

        def resubmit():
            merchant = apps.resubmit_application(ctx.protector, membership.merchant_id,
                                                 self.principal.id, form)
            return apps.application_view(merchant, ctx.settings.secret_key)

        self.write_json(await self.run_sync(resubmit))


def routes() -> list:
    return [(r"/api/v1/merchant-applications", ApplicationsHandler),
            (r"/api/v1/merchant/application", OwnApplicationHandler)]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    return {
        "ApplicationForm": obj({
            "name": {"type": "string", "maxLength": 64, "description": "shown to consumers"},
            "company_name": STR, "credit_code": {"type": "string", "description":
                                                 "unified social credit code (GB 32100)"},
            "industry": STR, "legal_rep_name": STR,
            "legal_rep_id_number": {"type": "string", "description": "GB 11643, 18 characters"},
            "licence_upload": {"type": "string", "description": "upload id (purpose licence)"},
            "id_front_upload": {"type": "string", "description": "upload id (purpose id_card)"},
            "id_back_upload": {"type": "string", "description": "upload id (purpose id_card)"},
            "contact_phone": STR, "intro": STR},
            ["name", "company_name", "credit_code", "industry", "legal_rep_name",
             "legal_rep_id_number", "licence_upload", "id_front_upload", "id_back_upload",
             "contact_phone"]),
        "Application": obj({
            "merchant_id": INT, "name": STR, "company_name": STR, "credit_code": STR,
            "industry": STR, "industry_name": STR, "intro": STR, "legal_rep_name": STR,
            "legal_rep_id_number": {"type": "string", "description": "masked: 11**************2X"},
            "contact_phone": STR, "owner": obj({"id": INT, "nickname": STR}),
            "images": {"type": "object", "additionalProperties": STR,
                       "description": "signed links, valid 5 minutes"},
            "status": {"type": "string", "enum": ["pending", "approved", "rejected", "suspended"]},
            "status_reason": STR, "submitted_at": TIME,
            "reviewed_at": {**TIME, "nullable": True},
            "history": {"type": "array", "items": obj({
                "from_status": {"type": "string", "nullable": True}, "to_status": STR,
                "actor_kind": STR, "actor_id": {"type": "integer", "nullable": True},
                "reason": STR, "at": TIME})}}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import op, ref

    tags = ["merchant onboarding"]
    errors = (400, 403, 409)
    return {
        "/api/v1/merchant-applications": {"post": op(
            "Apply to join the alliance (the caller becomes the owner)", tags=tags, status=201,
            body=ref("ApplicationForm"), ok=ref("Application"), errors=(409,), idempotent=True,
            description="Errors: INVALID_CREDIT_CODE, INVALID_ID_NUMBER (details.issue says "
                        "format, check digit or birth date), CREDIT_CODE_TAKEN, "
                        "VALIDATION_FAILED for an upload that is not the caller's.")},
        "/api/v1/merchant/application": {
            "get": op("The merchant's application and audit history (owner)", tags=tags,
                      ok=ref("Application"), params=MERCHANT_CHOICE, errors=errors),
            "put": op("Correct and resubmit a pending or rejected application (owner)",
                      tags=tags, body=ref("ApplicationForm"), ok=ref("Application"),
                      params=MERCHANT_CHOICE, errors=errors)},
    }


OPENAPI = _openapi()
