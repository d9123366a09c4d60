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
