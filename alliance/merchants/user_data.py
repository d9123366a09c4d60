"""What an account merge does with a user's merchants, staff roles, invitations and uploads.

(Registered with alliance.accounts.merge; imported by alliance/models.py.) None of these rows
is personal data of a consumer: an account's deletion leaves them to the merchant.
"""
from __future__ import annotations

from alliance.accounts.merge import register_user_data
from alliance.media.models import Upload
from alliance.merchants.models import Merchant, StaffInvite, StaffMembership


def _move_merchant_roles(source_id: int, target_id: int) -> int:
    """The survivor owns the absorbed account's merchants and takes its staff roles; where
    both held a role at one merchant, the survivor's stays and the other is removed."""
    moved = Merchant.update(owner=target_id).where(Merchant.owner == source_id).execute()
    moved += StaffInvite.update(created_by=target_id).where(StaffInvite.created_by == source_id).execute()
    moved += Upload.update(owner=target_id).where(Upload.owner == source_id).execute()
    held = StaffMembership.select(StaffMembership.merchant).where(StaffMembership.user == target_id)
    moved += (StaffMembership.update(user=target_id)
              .where(StaffMembership.user == source_id, StaffMembership.merchant.not_in(held))
              .execute())
    moved += (StaffMembership.update(status="removed")
              .where(StaffMembership.user == source_id).execute())
    return moved


register_user_data("merchant_roles", models=(Merchant, StaffMembership, StaffInvite, Upload),
                   move=_move_merchant_roles)
