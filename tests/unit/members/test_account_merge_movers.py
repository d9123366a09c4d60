"""What an account merge does with coupons, memberships, awards and redemptions (the
movers the accounts work's merge registry calls)."""
import alliance.coupons.redeem  # noqa: F401  (registers the coupon code kind)
from alliance.coupons import claims
from alliance.coupons.models import Coupon
from alliance.members.models import MerchantMember, PointsAward
from alliance.members.awards import award_points
from alliance.members.services import member_benefits, move_user_membership, set_level_rules
from alliance.notifications.outbox import OutboxNotifier
from alliance.redemptions.models import Redemption
from alliance.redemptions.services import move_user_redemptions, redeem
from tests.factories import make_merchant, make_template, make_user


def test_coupons_move_to_the_survivor_without_slot_clashes(database):
    template = make_template(make_merchant())
    source, target, friend = make_user(), make_user(), make_user()
    claims.claim(template.id, target.id)
    other = make_template(make_merchant(), per_user_limit=2)
    claims.claim(other.id, source.id, f"r={target.id}")
    claims.claim(template.id, source.id)
    claims.claim(other.id, friend.id, f"r={source.id}")
    assert claims.move_user_coupons(source.id, target.id) == 2
    slots = sorted((c.template_id, c.seq)
                   for c in Coupon.select().where(Coupon.user_id == target.id))
    assert slots == [(template.id, 1), (template.id, 2), (other.id, 1)]
    referrers = {c.user_id: c.referrer_user_id
                 for c in Coupon.select().where(Coupon.template == other.id)}
    assert referrers == {target.id: None, friend.id: target.id}


def test_memberships_at_one_merchant_add_up_and_relevel(database):
    merchant = make_merchant()
    set_level_rules(merchant.id, [{"name": "银卡", "min_spent_fen": 10_000}])
    source, target = make_user(), make_user()
    for user, amount in ((source, 6_000), (target, 5_000)):
        award_points(merchant.id, merchant.owner_id, user.id, amount, notifier=OutboxNotifier())
    elsewhere = make_merchant()
    award_points(elsewhere.id, elsewhere.owner_id, source.id, 1_000, notifier=OutboxNotifier())
    assert move_user_membership(source.id, target.id) == 4  # 2 memberships, 2 awards
    member = MerchantMember.get(MerchantMember.merchant == merchant.id)
    assert (member.user_id, member.visits, member.total_spent_fen) == (target.id, 2, 11_000)
    assert member_benefits(target.id, merchant.id).name == "银卡"
    assert MerchantMember.select().where(MerchantMember.user_id == source.id).count() == 0
    assert PointsAward.select().where(PointsAward.user_id == target.id).count() == 3


def test_redemptions_follow_the_member(database):
    merchant = make_merchant()
    source, target = make_user(), make_user()
    coupon = claims.claim(make_template(merchant).id, source.id)
    redeem(coupon.code, merchant_id=merchant.id, staff_user_id=merchant.owner_id,
           notifier=OutboxNotifier())
    assert move_user_redemptions(source.id, target.id) == 1
    assert Redemption.get().user_id == target.id
