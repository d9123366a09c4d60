import pytest

from alliance.coupons import claims
from alliance.coupons.checkout import (Line, consume_coupons, discount_for, plan_coupons,
                                       release_coupons, reserve_coupons)
from alliance.coupons.errors import (CouponNotUsable, CouponStackingNotAllowed,
                                     CouponThresholdNotMet)
from alliance.coupons.models import Coupon
from tests.factories import make_item, make_merchant, make_template, make_user


def test_fixed_coupon_needs_its_threshold(database):
    template = make_template(make_merchant(), threshold_fen=10000, discount_fen=2000)
    assert discount_for(template, [Line(1, 5000, 2)]) == 2000
    with pytest.raises(CouponThresholdNotMet):
        discount_for(template, [Line(1, 9999, 1)])


def test_percent_coupon_is_capped(database):
    template = make_template(make_merchant(), kind="percent", percent_off=20,
                             max_discount_fen=3000, threshold_fen=0)
    assert discount_for(template, [Line(1, 10000, 1)]) == 2000
    assert discount_for(template, [Line(1, 50000, 1)]) == 3000


def test_items_scope_counts_only_the_listed_items(database):
    merchant = make_merchant()
    listed = make_item(merchant)
    template = make_template(merchant, scope="items", scope_item_ids=[listed.id],
                             threshold_fen=5000, discount_fen=1000)
    with pytest.raises(CouponThresholdNotMet):
        discount_for(template, [Line(listed.id, 4000, 1), Line(listed.id + 1000, 9000, 1)])
    assert discount_for(template, [Line(listed.id, 2500, 2)]) == 1000


def test_service_voucher_pays_one_unit_of_its_service(database):
    merchant = make_merchant()
    service = make_item(merchant, kind="service", price_fen=8800)
    template = make_template(merchant, kind="service", item_id=service.id, threshold_fen=0)
    assert discount_for(template, [Line(service.id, 8800, 2)]) == 8800
    with pytest.raises(CouponNotUsable):
        discount_for(template, [Line(service.id + 1, 8800, 1)])


def test_one_shop_and_one_platform_coupon_stack_platform_on_what_is_left(database):
    merchant, user = make_merchant(), make_user().id
    shop = claims.claim(make_template(merchant, threshold_fen=0, discount_fen=9000).id, user)
    platform = claims.claim(make_template(None, threshold_fen=0, discount_fen=5000).id, user)
    plan = plan_coupons(user, [platform.id, shop.id], merchant.id, [Line(1, 10000, 1)])
    assert [(a.tier, a.discount_fen) for a in plan] == [("shop", 9000), ("platform", 1000)]
    assert plan[1].issuer_merchant_id is None


def test_two_shop_coupons_do_not_stack(database):
    merchant, user = make_merchant(), make_user().id
    first = claims.claim(make_template(merchant).id, user)
    second = claims.claim(make_template(merchant).id, user)
    with pytest.raises(CouponStackingNotAllowed):
        plan_coupons(user, [first.id, second.id], merchant.id, [Line(1, 50000, 1)])


def test_coupon_of_another_merchant_is_not_usable_unless_alliance_wide(database):
    issuer, elsewhere, user = make_merchant(), make_merchant(), make_user().id
    local = claims.claim(make_template(issuer).id, user)
    wide = claims.claim(make_template(issuer, scope="alliance").id, user)
    with pytest.raises(CouponNotUsable):
        plan_coupons(user, [local.id], elsewhere.id, [Line(1, 50000, 1)])
    assert plan_coupons(user, [wide.id], elsewhere.id, [Line(1, 50000, 1)])[0].discount_fen == 2000


def test_a_coupon_is_held_by_one_order_then_used_or_given_back(database):
    merchant, user = make_merchant(), make_user().id
    coupon = claims.claim(make_template(merchant).id, user)
    plan = plan_coupons(user, [coupon.id], merchant.id, [Line(1, 20000, 1)])
    reserve_coupons(plan, "order-1")
    with pytest.raises(CouponNotUsable):
        reserve_coupons(plan, "order-2")
    assert release_coupons("order-1") == 1
    assert Coupon.get_by_id(coupon.id).status == "active"
    reserve_coupons(plan, "order-2")
    assert consume_coupons("order-2") == 1 and release_coupons("order-2") == 0
    assert Coupon.get_by_id(coupon.id).status == "used"
