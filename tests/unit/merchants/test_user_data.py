"""One person, one account: merging accounts that work at merchants."""
from alliance.accounts.merge import merge_users
from alliance.media.models import Upload
from alliance.merchants.invites import create_invite
from alliance.merchants.models import Merchant, StaffInvite, StaffMembership
from tests.factories import add_staff, make_merchant, make_user


def _roles(user):
    return {(m.merchant_id, m.role, m.status)
            for m in StaffMembership.select().where(StaffMembership.user == user.id)}


def test_merge_moves_ownership_invitations_and_uploads(database):
    source, target = make_user(), make_user()
    owned = make_merchant(owner=source)
    invite = create_invite(owned.id, source.id, "merchant_clerk")
    Upload.create(id="u-merge-test-0001", owner=source, purpose="logo", storage_key="k",
                  content_type="image/png", size_bytes=1)
    merge_users(source.id, target.id, "same phone")
    assert Merchant.get_by_id(owned.id).owner_id == target.id
    assert _roles(target) == {(owned.id, "merchant_owner", "active")}
    assert StaffInvite.get_by_id(invite.id).created_by_id == target.id
    assert Upload.get_by_id("u-merge-test-0001").owner_id == target.id


def test_merge_gives_the_survivor_the_stronger_role(database):
    source, target = make_user(), make_user()
    owned = make_merchant(owner=source)
    add_staff(owned, "merchant_clerk", target)
    merge_users(source.id, target.id, "same phone")
    assert _roles(target) == {(owned.id, "merchant_owner", "active")}
    assert _roles(source) == {(owned.id, "merchant_owner", "removed")}
