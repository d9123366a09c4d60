"""The owner manages the staff: invitations (code and QR), roles, removal; anyone accepts an
invitation they were given."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg

from alliance.merchants import invites
from alliance.merchants.staff import membership_view
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent, rate_limited


class StaffListHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        rows = await self.run_sync(invites.staff_list, membership.merchant_id)
        self.write_page({"items": rows})


class StaffMemberHandler(StaffHandler):
    @authenticated()
    async def patch(self, user_id: str):
        role = v.string(self.json_body(), "role", max_length=32)
        membership = await self.membership("merchant:staff")
        changed = await self.run_sync(invites.change_role, membership.merchant_id,
                                      int(user_id), role)
        self.write_json({"user_id": changed.user_id, "role": changed.role})

    @authenticated()
    async def delete(self, user_id: str):
        membership = await self.membership("merchant:staff")
        await self.run_sync(invites.remove_staff, membership.merchant_id, int(user_id))
        self.set_status(204)
        self.finish()


class InvitesHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:staff")
        rows = await self.run_sync(invites.open_invites, membership.merchant_id)
        self.write_page({"items": [invites.invite_view(i) for i in rows]})

    @authenticated()
    @idempotent
    async def post(self):
        role = v.string(self.json_body(), "role", max_length=32)
        membership = await self.membership("merchant:staff")
        invite = await self.run_sync(invites.create_invite, membership.merchant_id,
                                     self.principal.id, role)
        self.write_json(invites.invite_view(invite), 201)


class InviteHandler(StaffHandler):
    @authenticated()
    async def delete(self, invite_id: str):
        membership = await self.membership("merchant:staff")
        await self.run_sync(invites.revoke_invite, membership.merchant_id, int(invite_id))
        self.set_status(204)
        self.finish()


class InviteQrHandler(StaffHandler):
    @authenticated()
    async def get(self, invite_id: str):
        fmt = v.one_of(self.query("format", "png"), "format", ("png", "svg"))
        membership = await self.membership("merchant:staff")
        invite = await self.run_sync(invites.get_invite, membership.merchant_id, int(invite_id))
        text = invites.invite_view(invite)["qr_text"]
        buffer = io.BytesIO()
        if fmt == "svg":
            qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
            self.set_header("Content-Type", "image/svg+xml")
        else:
            qrcode.make(text, box_size=8, border=2).save(buffer)
            self.set_header("Content-Type", "image/png")
        self.finish(buffer.getvalue())


class AcceptInviteHandler(BaseHandler):
    @authenticated("self:write")
    @rate_limited("invite-accept", lambda h: 20, key=lambda h: h.principal.key)
    @idempotent
    async def post(self):
        code = v.string(self.json_body(), "code", max_length=64)
        membership = await self.run_sync(invites.accept_invite, self.principal.id, code)
        self.write_json(membership_view(membership), 201)


def routes() -> list:
    return [
        (r"/api/v1/merchant/staff", StaffListHandler),
        (r"/api/v1/merchant/staff/([0-9]{1,10})", StaffMemberHandler),
        (r"/api/v1/merchant/staff-invites", InvitesHandler),
        (r"/api/v1/merchant/staff-invites/([0-9]{1,10})", InviteHandler),
        (r"/api/v1/merchant/staff-invites/([0-9]{1,10})/qrcode", InviteQrHandler),
        (r"/api/v1/staff-invites/accept", AcceptInviteHandler),
    ]


def _openapi() -> dict:
    from server.openapi import (BOOL, INT, PAGING, STR, TIME, list_of, obj, op, path_param,
                                query_param, ref)

    tags = ["merchant staff"]
    roles = {"type": "string", "enum": list(invites.INVITABLE_ROLES)}
    invite = obj({"id": INT, "role": roles, "code": STR,
                  "qr_text": {"type": "string", "description": "what the QR code holds"},
                  "expires_at": TIME, "accepted": BOOL, "revoked": BOOL})
    staff = obj({"user_id": INT, "nickname": STR, "role": STR, "since": TIME})
    user = [path_param("user_id", INT), *MERCHANT_CHOICE]
    invite_id = [path_param("id", INT), *MERCHANT_CHOICE]
    errors = (400, 403, 404)
    return {
        "/api/v1/merchant/staff": {"get": op("The merchant's staff", tags=tags,
                                             ok=list_of(staff),
                                             params=[*MERCHANT_CHOICE, *PAGING],
                                             errors=(400, 403))},
        "/api/v1/merchant/staff/{user_id}": {
            "patch": op("Change a manager's or clerk's role (owner)", tags=tags,
                        body=obj({"role": roles}, ["role"]), params=user, errors=errors,
                        ok=obj({"user_id": INT, "role": STR})),
            "delete": op("Remove a manager or clerk (owner)", tags=tags, status=204,
                         params=user, errors=errors)},
        "/api/v1/merchant/staff-invites": {
            "get": op("Invitations not yet accepted (owner)", tags=tags, ok=list_of(invite),
                      params=[*MERCHANT_CHOICE, *PAGING], errors=(400, 403)),
            "post": op("Invite a manager or clerk: a single-use code valid 7 days (owner)",
                       tags=tags, status=201, body=obj({"role": roles}, ["role"]), ok=invite,
                       params=MERCHANT_CHOICE, errors=(400, 403), idempotent=True)},
        "/api/v1/merchant/staff-invites/{id}": {"delete": op(
            "Withdraw an invitation (owner)", tags=tags, status=204, params=invite_id,
            errors=(400, 403, 404, 409))},
        "/api/v1/merchant/staff-invites/{id}/qrcode": {"get": op(
            "The invitation as a QR code image (png or svg)", tags=tags, errors=errors,
            params=[*invite_id, query_param("format", {"type": "string",
                                                       "enum": ["png", "svg"]})])},
        "/api/v1/staff-invites/accept": {"post": op(
            "Join a merchant's staff with an invitation code (or the QR text)", tags=tags,
            status=201, body=obj({"code": STR}, ["code"]), ok=ref("StaffMembership"),
            errors=(404, 409, 410, 429), idempotent=True,
            description="Errors: INVITE_INVALID, INVITE_USED, INVITE_EXPIRED, ALREADY_STAFF.")},
    }


OPENAPI = _openapi()
