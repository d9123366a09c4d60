"""The base of every merchant-staff endpoint (/api/v1/merchant/...): which merchant, which role.

A user may work at several merchants: the request names one with the ``merchant_id`` query
argument or the ``X-Merchant-Id`` header; without either, the user's only merchant is meant
(several: 400 MERCHANT_ID_REQUIRED, listing them).
"""
from __future__ import annotations

from alliance.merchants.models import StaffMembership
from alliance.merchants.applications import update_profile
from alliance.merchants.staff import (active_memberships, membership_view, profile_view,
                                      require_merchant_permission)
from server import validation as v
from server.base import BaseHandler, authenticated


class StaffHandler(BaseHandler):
    """Handlers acting for a merchant: ``await self.membership(permission)`` authorizes."""

    def chosen_merchant_id(self) -> int | None:
        raw = (self.get_query_argument("merchant_id", None)
               or self.request.headers.get("X-Merchant-Id"))
        if raw in (None, ""):
            return None
        return v.query_int(raw, "merchant_id", default=0, minimum=1, maximum=2**31 - 1)

    async def membership(self, permission: str) -> StaffMembership:
        """The caller's membership at the chosen merchant, if it grants ``permission``."""
        return await self.run_sync(require_merchant_permission, self.principal, permission,
                                   self.chosen_merchant_id())


class MembershipsHandler(BaseHandler):
    @authenticated()
    async def get(self):
        rows = await self.run_sync(active_memberships, self.principal.id)
        self.write_page({"items": [membership_view(m) for m in rows]})


class MerchantProfileHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        self.write_json(profile_view(membership))

    @authenticated()
    async def patch(self):
        changes = self.json_body()
        membership = await self.membership("merchant:catalog")
        membership.merchant = await self.run_sync(update_profile, membership.merchant_id, changes)
        self.write_json(profile_view(membership))


def routes() -> list:
    return [(r"/api/v1/merchant/memberships", MembershipsHandler),
            (r"/api/v1/merchant/profile", MerchantProfileHandler)]


SCHEMAS = {
    "StaffMembership": {"type": "object", "properties": {
        "merchant_id": {"type": "integer"}, "merchant_name": {"type": "string"},
        "merchant_status": {"type": "string",
                            "enum": ["pending", "approved", "rejected", "suspended"]},
        "role": {"type": "string",
                 "enum": ["merchant_owner", "merchant_manager", "merchant_clerk"]}}},
}

MERCHANT_CHOICE = [
    {"name": "merchant_id", "in": "query", "required": False, "schema": {"type": "integer"},
     "description": "which merchant to act for (or header X-Merchant-Id); default: the "
                    "caller's only merchant"},
]


def _openapi() -> dict:
    from server.openapi import PAGING, STR, list_of, obj, op, ref

    tags = ["merchant staff"]
    profile = {"allOf": [ref("StaffMembership"), obj({
        "industry": STR, "intro": STR, "contact_phone": STR, "status_reason": STR})]}
    return {
        "/api/v1/merchant/memberships": {"get": op(
            "The merchants the caller works at, with their role", tags=tags,
            ok=list_of(ref("StaffMembership")), params=PAGING, errors=(400,))},
        "/api/v1/merchant/profile": {
            "get": op("The chosen merchant and the caller's role there", tags=tags,
                      ok=profile, params=MERCHANT_CHOICE, errors=(400, 403)),
            "patch": op("Change the introduction or contact phone", tags=tags, ok=profile,
                        body=obj({"intro": STR, "contact_phone": STR}),
                        params=MERCHANT_CHOICE, errors=(400, 403))},
    }


OPENAPI = _openapi()
