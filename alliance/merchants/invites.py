"""Growing and shrinking a merchant's staff: the owner invites managers and clerks with a
single-use code (shown as a QR code), changes their role or removes them."""
from __future__ import annotations

import datetime as dt

from peewee import IntegrityError

from alliance.accounts.models import User
from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, Conflict, NotFound, ValidationFailed
from alliance.merchants.models import Merchant, StaffInvite, StaffMembership
from alliance.randomcodes import random_code

INVITABLE_ROLES = ("merchant_manager", "merchant_clerk")
INVITE_TTL = dt.timedelta(days=7)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
QR_PREFIX = "alliance-staff-invite:"


class InviteInvalid(NotFound):
    code = "INVITE_INVALID"
    message = "邀请码无效或已撤销"


class InviteExpired(AllianceError):
    code = "INVITE_EXPIRED"
    http_status = 410
    message = "邀请码已过期，请让店主重新邀请"


class InviteUsed(Conflict):
    code = "INVITE_USED"
    message = "邀请码已被使用"


class AlreadyStaff(Conflict):
    code = "ALREADY_STAFF"
    message = "你已经是该商户的员工"


class StaffNotFound(NotFound):
    code = "STAFF_NOT_FOUND"
    message = "员工不存在"


def _role(role: object) -> str:
    if role not in INVITABLE_ROLES:
        raise ValidationFailed("岗位不正确", details={"field": "role",
                                                    "choices": list(INVITABLE_ROLES)})
    return role


def create_invite(merchant_id: int, inviter_id: int, role: str) -> StaffInvite:
    """A new single-use invitation to join the merchant as ``role``, valid for 7 days."""
    role = _role(role)
    with transaction():
        code = random_code(_CODE_ALPHABET, 10)
        return StaffInvite.create(merchant=merchant_id, role=role, code=code,
                                  created_by=inviter_id, expires_at=utcnow() + INVITE_TTL)


def get_invite(merchant_id: int, invite_id: int) -> StaffInvite:
    """An invitation of the merchant, or INVITE_INVALID."""
    invite = StaffInvite.get_or_none(StaffInvite.id == invite_id,
                                     StaffInvite.merchant == merchant_id)
    if invite is None:
        raise InviteInvalid(details={"invite_id": invite_id})
    return invite


def open_invites(merchant_id: int) -> list[StaffInvite]:
    """The merchant's invitations that can still be accepted, newest first."""
    return list(StaffInvite.select()
                .where(StaffInvite.merchant == merchant_id, StaffInvite.accepted_at.is_null(),
                       StaffInvite.revoked_at.is_null(), StaffInvite.expires_at > utcnow())
                .order_by(StaffInvite.id.desc()))


def revoke_invite(merchant_id: int, invite_id: int) -> None:
    """Withdraw an invitation that was not accepted yet."""
    with transaction():
        invite = get_invite(merchant_id, invite_id)
        revoked = (StaffInvite.update(revoked_at=utcnow())
                   .where(StaffInvite.id == invite.id, StaffInvite.accepted_at.is_null(),
                          StaffInvite.revoked_at.is_null()).execute())
        if revoked != 1 and invite.accepted_at is not None:
            raise InviteUsed(details={"invite_id": invite_id})


def accept_invite(user_id: int, code: str) -> StaffMembership:
    """Join the inviting merchant's staff with the invitation's role (code or QR text)."""
    code = code.strip().upper().removeprefix(QR_PREFIX.upper())
    now = utcnow()
    with transaction():
        invite = StaffInvite.get_or_none(StaffInvite.code == code)
        if invite is None or invite.revoked_at is not None:
            raise InviteInvalid()
        if invite.accepted_at is not None:
            raise InviteUsed()
        if invite.expires_at <= now:
            raise InviteExpired(details={"expired_at": to_local_iso(invite.expires_at)})
        taken = (StaffInvite.update(accepted_by=user_id, accepted_at=now)
                 .where(StaffInvite.id == invite.id, StaffInvite.accepted_at.is_null(),
                        StaffInvite.revoked_at.is_null()).execute())
        if taken != 1:
            raise InviteUsed()
        existing = StaffMembership.get_or_none(StaffMembership.merchant == invite.merchant_id,
                                               StaffMembership.user == user_id)
        if existing is not None and existing.status == "active":
            raise AlreadyStaff(details={"role": existing.role})
        try:
            if existing is None:
                StaffMembership.create(merchant=invite.merchant_id, user=user_id,
                                       role=invite.role, invited_by=invite.created_by_id)
            else:
                (StaffMembership.update(status="active", role=invite.role, removed_at=None,
                                        invited_by=invite.created_by_id)
                 .where(StaffMembership.id == existing.id).execute())
        except IntegrityError:  # the same user accepting two invitations at once
            raise AlreadyStaff() from None
        return (StaffMembership.select(StaffMembership, Merchant).join(Merchant)
                .where(StaffMembership.merchant == invite.merchant_id,
                       StaffMembership.user == user_id).get())


def _colleague(merchant_id: int, user_id: int) -> StaffMembership:
    membership = StaffMembership.get_or_none(StaffMembership.merchant == merchant_id,
                                             StaffMembership.user == user_id,
                                             StaffMembership.status == "active")
    if membership is None:
        raise StaffNotFound(details={"user_id": user_id})
    if membership.role == "merchant_owner":
        raise ValidationFailed("不能修改店主的岗位", details={"user_id": user_id,
                                                            "issue": "owner"})
    return membership


def change_role(merchant_id: int, user_id: int, role: str) -> StaffMembership:
    """Make a manager a clerk or the reverse (the owner's role never changes)."""
    role = _role(role)
    with transaction():
        membership = _colleague(merchant_id, user_id)
        StaffMembership.update(role=role).where(StaffMembership.id == membership.id).execute()
        return StaffMembership.get_by_id(membership.id)


def remove_staff(merchant_id: int, user_id: int) -> None:
    """Take a manager or clerk off the staff: their access ends with their next request."""
    with transaction():
        membership = _colleague(merchant_id, user_id)
        (StaffMembership.update(status="removed", removed_at=utcnow())
         .where(StaffMembership.id == membership.id).execute())


def staff_list(merchant_id: int) -> list[dict]:
    """The merchant's active staff, owner first."""
    rows = (StaffMembership.select(StaffMembership, User).join(User)
            .where(StaffMembership.merchant == merchant_id, StaffMembership.status == "active")
            .order_by(StaffMembership.id))
    return [{"user_id": m.user.id, "nickname": m.user.nickname, "role": m.role,
             "since": to_local_iso(m.created_at)} for m in rows]


def invite_view(invite: StaffInvite) -> dict:
    return {"id": invite.id, "role": invite.role, "code": invite.code,
            "qr_text": QR_PREFIX + invite.code, "expires_at": to_local_iso(invite.expires_at),
            "accepted": invite.accepted_at is not None, "revoked": invite.revoked_at is not None}
