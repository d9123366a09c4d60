"""Who works where: resolving a user's staff role at a merchant and what it allows.

Every /api/v1/merchant/... endpoint starts with ``require_merchant_permission``: the caller's
active membership at the chosen merchant (``merchant_id``, or the only merchant they work
at), checked against the permission registry. Objects are then looked up within
``membership.merchant_id`` only, so staff of merchant A never reach merchant B's data.
"""
from __future__ import annotations

from alliance.accounts.permissions import MERCHANT_ROLES, Principal, role_allows
from alliance.errors import AllianceError, PermissionDenied, ValidationFailed
from alliance.merchants.models import Merchant, StaffMembership

# What staff of a merchant that is not approved (pending, rejected, suspended) may still do.
INACTIVE_MERCHANT_PERMISSIONS = frozenset({"merchant:read", "merchant:account"})


class NotMerchantStaff(AllianceError):
    code = "NOT_MERCHANT_STAFF"
    http_status = 403
    message = "你不是该商户的员工"


class MerchantChoiceRequired(ValidationFailed):
    code = "MERCHANT_ID_REQUIRED"
    message = "你在多个商户任职，请选择要操作的商户"


class MerchantNotActive(AllianceError):
    code = "MERCHANT_NOT_ACTIVE"
    http_status = 403
    message = "商户尚未通过审核或已被暂停，暂不能进行此操作"


def active_memberships(user_id: int) -> list[StaffMembership]:
    """The user's active staff roles, with their merchants, oldest first."""
    return list(StaffMembership.select(StaffMembership, Merchant).join(Merchant)
                .where(StaffMembership.user == user_id, StaffMembership.status == "active")
                .order_by(StaffMembership.id))


def resolve_membership(user_id: int, merchant_id: int | None = None) -> StaffMembership:
    """The user's active membership at ``merchant_id`` (or at their only merchant)."""
    memberships = active_memberships(user_id)
    if merchant_id is not None:
        for membership in memberships:
            if membership.merchant_id == merchant_id:
                return membership
        raise NotMerchantStaff(details={"merchant_id": merchant_id})
    if not memberships:
        raise NotMerchantStaff()
    if len(memberships) > 1:
        raise MerchantChoiceRequired(details={
            "field": "merchant_id", "merchant_ids": [m.merchant_id for m in memberships]})
    return memberships[0]


def require_merchant_permission(principal: Principal, permission: str,
                                merchant_id: int | None = None) -> StaffMembership:
    """The caller's membership when their role there grants ``permission``; raises
    NOT_MERCHANT_STAFF, MERCHANT_ID_REQUIRED, FORBIDDEN or MERCHANT_NOT_ACTIVE otherwise."""
    if principal.kind != "user":
        raise NotMerchantStaff()
    membership = resolve_membership(principal.id, merchant_id)
    if membership.role not in MERCHANT_ROLES or not role_allows(membership.role, permission):
        raise PermissionDenied("你的岗位没有此权限",
                               details={"permission": permission, "role": membership.role})
    if (membership.merchant.status != "approved"
            and permission not in INACTIVE_MERCHANT_PERMISSIONS):
        raise MerchantNotActive(details={"merchant_status": membership.merchant.status})
    return membership


def membership_view(membership: StaffMembership) -> dict:
    merchant = membership.merchant
    return {"merchant_id": merchant.id, "merchant_name": merchant.name,
            "merchant_status": merchant.status, "role": membership.role}


def profile_view(membership: StaffMembership) -> dict:
    """The merchant as its staff see it in the mini-program's merchant mode."""
    merchant = membership.merchant
    return {**membership_view(membership), "industry": merchant.industry,
            "intro": merchant.intro, "contact_phone": merchant.contact_phone,
            "status_reason": merchant.status_reason}
