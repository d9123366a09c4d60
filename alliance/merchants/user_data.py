"""What an account merge does with a user's merchants, staff roles, invitations and uploads.

(Registered with alliance.accounts.merge; imported by alliance/models.py.) None of these rows
is personal data of a consumer: an account's deletion leaves them to the merchant.
"""
from __future__ import annotations

from alliance.accounts.merge import register_user_data
from alliance.media.models import Upload
from alliance.merchants.models import (Merchant, MerchantStatusChange, StaffInvite,
                                       StaffMembership)

ROLE_RANK = {"merchant_owner": 3, "merchant_manager": 2, "merchant_clerk": 1}


def _move_merchant_roles(source_id: int, target_id: int) -> int:
    """The survivor owns the absorbed account's merchants and takes its staff roles; where
    both held a role at one merchant, the survivor keeps the stronger active one and the
    absorbed account's is removed."""
    moved = Merchant.update(owner=target_id).where(Merchant.owner == source_id).execute()
    moved += (StaffInvite.update(created_by=target_id)
              .where(StaffInvite.created_by == source_id).execute())
    StaffInvite.update(accepted_by=target_id).where(StaffInvite.accepted_by == source_id).execute()
    (MerchantStatusChange.update(actor_id=target_id)
     .where(MerchantStatusChange.actor_kind == "user",
            MerchantStatusChange.actor_id == source_id).execute())
    moved += Upload.update(owner=target_id).where(Upload.owner == source_id).execute()
    for mine in StaffMembership.select().where(StaffMembership.user == source_id,
                                               StaffMembership.status == "active"):
        theirs = StaffMembership.get_or_none(StaffMembership.merchant == mine.merchant_id,
                                             StaffMembership.user == target_id)
        if theirs is not None and (theirs.status != "active"
                                   or ROLE_RANK[mine.role] > ROLE_RANK[theirs.role]):
            (StaffMembership.update(role=mine.role, status="active", removed_at=None)
             .where(StaffMembership.id == theirs.id).execute())
    held = StaffMembership.select(StaffMembership.merchant).where(StaffMembership.user == target_id)
    moved += (StaffMembership.update(user=target_id)
              .where(StaffMembership.user == source_id, StaffMembership.merchant.not_in(held))
              .execute())
    moved += (StaffMembership.update(status="removed")
              .where(StaffMembership.user == source_id).execute())
    return moved


register_user_data("merchant_roles", models=(Merchant, StaffMembership, StaffInvite, Upload),
                   move=_move_merchant_roles)
