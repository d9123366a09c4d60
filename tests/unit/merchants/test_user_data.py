"""One person, one account: merging and deleting accounts that work at merchants."""
from alliance.accounts.merge import merge_users
from alliance.accounts.services import delete_account
from alliance.media.models import Upload
from alliance.merchants.models import Merchant, StaffInvite, StaffMembership
from alliance.merchants.invites import create_invite
from tests.factories import add_staff, make_merchant, make_user


def _roles(user):
    return {(m.merchant_id, m.role, m.status)
            for m in StaffMembership.select().where(StaffMembership.user == user.id)}


def test_merge_moves_ownership_roles_invites_and_uploads(database):
    source, target = make_user(), make_user()
    owned = make_merchant(owner=source)
    both = make_merchant()
    add_staff(both, "merchant_manager", source)
    add_staff(both, "merchant_clerk", target)
    invite = create_invite(owned.id, source.id, "merchant_clerk")
    Upload.create(id="u-merge-test-0001", owner=source, purpose="logo", storage_key="k",
                  content_type="image/png", size_bytes=1)
    merge_users(source.id, target.id, "same phone")
    assert Merchant.get_by_id(owned.id).owner_id == target.id
    assert _roles(target) == {(owned.id, "merchant_owner", "active"),
                              (both.id, "merchant_manager", "active")}
    assert _roles(source) == set()
    assert StaffInvite.get_by_id(invite.id).created_by_id == target.id
    assert Upload.get_by_id("u-merge-test-0001").owner_id == target.id


def test_merge_keeps_the_stronger_role_of_the_survivor(database):
    source, target = make_user(), make_user()
    merchant = make_merchant(owner=target)
    add_staff(merchant, "merchant_clerk", source)
    merge_users(source.id, target.id, "same phone")
    assert _roles(target) == {(merchant.id, "merchant_owner", "active")}


def test_deleted_account_works_nowhere(database):
    clerk = make_user()
    merchant = make_merchant()
    add_staff(merchant, "merchant_clerk", clerk)
    delete_account(clerk.id)
    assert _roles(clerk) == {(merchant.id, "merchant_clerk", "removed")}
