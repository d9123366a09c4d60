"""Merging accounts carries their referrals and official-account follows along."""
from alliance.accounts.merge import merge_users
from alliance.accounts.models import User
from alliance.officialaccount.models import OaFollower
from alliance.referrals.models import ReferralAttribution, ReferralCode


def test_merge_moves_referrals_and_follows_to_the_survivor(database):
    referrer, absorbed, survivor, friend = (User.create(nickname=n) for n in "RASF")
    ReferralAttribution.create(invitee=absorbed, status="bound", source_kind="user",
                               referrer=referrer)
    ReferralAttribution.create(invitee=friend, status="bound", source_kind="user",
                               referrer=absorbed)
    ReferralCode.create(code="abc123", owner_kind="user", owner_id=absorbed.id)
    OaFollower.create(openid="o-absorbed", user=absorbed)

    merge_users(absorbed.id, survivor.id, "phone")

    assert ReferralAttribution.get(ReferralAttribution.invitee == survivor).referrer_id == referrer.id
    assert ReferralAttribution.get(ReferralAttribution.invitee == friend).referrer_id == survivor.id
    assert ReferralCode.get_by_id("abc123").owner_id == survivor.id
    assert OaFollower.get_by_id("o-absorbed").user_id == survivor.id


def test_merge_keeps_the_survivors_own_attribution(database):
    first, second, absorbed, survivor = (User.create(nickname=n) for n in "12AS")
    ReferralAttribution.create(invitee=absorbed, status="bound", source_kind="user", referrer=first)
    ReferralAttribution.create(invitee=survivor, status="bound", source_kind="user", referrer=second)

    merge_users(absorbed.id, survivor.id, "phone")

    assert ReferralAttribution.get(ReferralAttribution.invitee == survivor).referrer_id == second.id


def test_merge_gives_the_survivor_the_absorbed_accounts_merchant_roles(database):
    from alliance.merchants.models import Merchant, StaffMembership
    from tests.factories import add_staff, make_merchant

    absorbed, survivor = User.create(nickname="A"), User.create(nickname="S")
    owned = make_merchant(owner=absorbed)
    both = make_merchant()
    add_staff(both, "merchant_clerk", absorbed)
    add_staff(both, "merchant_manager", survivor)

    merge_users(absorbed.id, survivor.id, "phone")

    assert Merchant.get_by_id(owned.id).owner_id == survivor.id
    assert StaffMembership.get(StaffMembership.merchant == owned).user_id == survivor.id
    roles = {(m.user_id, m.role, m.status) for m in
             StaffMembership.select().where(StaffMembership.merchant == both,
                                            StaffMembership.user != both.owner_id)}
    assert (survivor.id, "merchant_manager", "active") in roles
    assert (absorbed.id, "merchant_clerk", "removed") in roles
