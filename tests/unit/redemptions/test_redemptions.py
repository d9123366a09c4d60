import datetime as dt

import pytest

import alliance.coupons.redeem  # noqa: F401  (registers the coupon code kind)
from alliance.commissions.models import CommissionEntry
from alliance.commissions.services import CommissionAlreadySettled
from alliance.coupons import claims
from alliance.coupons.models import Coupon, CouponDistribution
from alliance.coupons.templates import add_distribution, end_distribution
from alliance.db import utcnow
from alliance.errors import ValidationFailed
from alliance.members.models import MerchantMember
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from alliance.redemptions.models import Redemption
from alliance.redemptions.registry import (CodeAlreadyRedeemed, CodeExpired, CodeNotFound,
                                           CodeNotValidHere, normalize_code, register_code_kind)
from alliance.redemptions.services import (RedemptionAlreadyUndone, UndoWindowPassed, redeem,
                                           undo_redemption)
from tests.concurrency import run_at_once
from tests.factories import make_merchant, make_shop, make_template, make_user


def _redeem(code, merchant, staff=None, **kwargs):
    return redeem(code, merchant_id=merchant.id, staff_user_id=staff or merchant.owner_id,
                  notifier=OutboxNotifier(), **kwargs)


def _coupon(merchant, **template):
    return claims.claim(make_template(merchant, **template).id, make_user().id)


def _distributed_coupon():
    """A coupon of a new issuer claimed at a new partner's counter (300 fen commission)."""
    issuer, partner = make_merchant(), make_merchant()
    template = make_template(issuer, channels=["partner"])
    add_distribution(template.id, issuer.id, partner.id, 300, actor_id=1)
    return issuer, partner, claims.claim(template.id, make_user().id, f"p={partner.id}")


def test_redeeming_records_shop_staff_member_and_a_visit(database):
    merchant = make_merchant()
    shop = make_shop(merchant)
    coupon = _coupon(merchant)
    redemption, done = _redeem(coupon.code, merchant)
    assert redemption.shop_id == shop.id and redemption.staff_user_id == merchant.owner_id
    assert redemption.user_id == coupon.user_id and redemption.ref_id == str(coupon.id)
    assert done.details["coupon"]["status"] == "redeemed"
    assert Coupon.get_by_id(coupon.id).status == "redeemed"
    assert MerchantMember.get(MerchantMember.user_id == coupon.user_id).visits == 1
    assert OutboxMessage.get().event == "coupon.redeemed"


def test_two_counters_redeeming_one_coupon_at_once_succeed_exactly_once(database):
    merchant = make_merchant()
    coupon = _coupon(merchant)
    outcomes = run_at_once(2, lambda i: _redeem(coupon.code, merchant)[0])
    assert sum(isinstance(o, Redemption) for o in outcomes) == 1
    assert sum(isinstance(o, CodeAlreadyRedeemed) for o in outcomes) == 1
    assert Redemption.select().count() == 1


def test_replayed_code_is_refused(database):
    merchant = make_merchant()
    coupon = _coupon(merchant)
    _redeem(coupon.code, merchant)
    with pytest.raises(CodeAlreadyRedeemed):
        _redeem(coupon.code, merchant)


def test_coupon_of_shop_b_is_refused_at_shop_a_unless_its_scope_allows(database):
    shop_a, shop_b = make_merchant(), make_merchant()
    local = _coupon(shop_b)
    with pytest.raises(CodeNotValidHere):
        _redeem(local.code, shop_a)
    assert Coupon.get_by_id(local.id).status == "active"
    wide = _coupon(shop_b, scope="alliance")
    assert _redeem(wide.code, shop_a)[0].issuer_merchant_id == shop_b.id


def test_expired_coupon_is_refused(database):
    merchant = make_merchant()
    coupon = _coupon(merchant)
    Coupon.update(valid_until=utcnow() - dt.timedelta(seconds=1)).where(
        Coupon.id == coupon.id).execute()
    with pytest.raises(CodeExpired):
        _redeem(coupon.code, merchant)


def test_typed_codes_are_normalized_and_unknown_ones_not_found(database):
    assert normalize_code(" cabc-defo-1il ") == "CABCDEF0111"
    with pytest.raises(ValidationFailed):
        normalize_code("C!")
    with pytest.raises(CodeNotFound):
        _redeem("C0000000000", make_merchant())
    with pytest.raises(CodeNotFound):
        _redeem("ZZZZ00000000", make_merchant())  # no kind owns the prefix


def test_code_kinds_may_not_share_a_prefix(database):
    class Clash:
        name, prefix = "clash", "CX"

    with pytest.raises(ValueError):
        register_code_kind(Clash())


def test_a_distributed_coupon_redeemed_at_its_issuer_owes_the_partner(database):
    issuer, partner, coupon = _distributed_coupon()
    redemption, done = _redeem(coupon.code, issuer)
    entry = CommissionEntry.get()
    assert (entry.payer_merchant_id, entry.payee_merchant_id, entry.amount_fen) == (
        issuer.id, partner.id, 300)
    assert entry.source_id == str(redemption.id) and entry.status == "pending"
    assert redemption.distributor_merchant_id == partner.id and done.commission_fen == 300


def test_undo_reverses_coupon_commission_and_visit_together(database):
    issuer, partner, coupon = _distributed_coupon()
    redemption, _ = _redeem(coupon.code, issuer)
    undone = undo_redemption(redemption.id, merchant_id=issuer.id, staff_user_id=issuer.owner_id)
    assert undone.status == "undone" and undone.undone_by == issuer.owner_id
    assert Coupon.get_by_id(coupon.id).status == "active"
    assert CommissionEntry.get().status == "cancelled"
    assert MerchantMember.get(MerchantMember.user_id == coupon.user_id).visits == 0
    with pytest.raises(RedemptionAlreadyUndone):
        undo_redemption(redemption.id, merchant_id=issuer.id, staff_user_id=issuer.owner_id)
    again, _ = _redeem(coupon.code, issuer)
    assert CommissionEntry.select().where(CommissionEntry.status == "pending").count() == 1
    assert again.id != redemption.id


def test_undo_after_the_window_is_refused(database):
    merchant = make_merchant()
    redemption, _ = _redeem(_coupon(merchant).code, merchant)
    Redemption.update(created_at=utcnow() - dt.timedelta(minutes=31)).execute()
    with pytest.raises(UndoWindowPassed):
        undo_redemption(redemption.id, merchant_id=merchant.id, staff_user_id=merchant.owner_id)
    assert undo_redemption(redemption.id, merchant_id=merchant.id, staff_user_id=1,
                           window=dt.timedelta(hours=1)).status == "undone"


def test_undo_is_refused_once_the_commission_was_settled(database):
    issuer, partner, coupon = _distributed_coupon()
    redemption, _ = _redeem(coupon.code, issuer)
    CommissionEntry.update(status="settled").execute()
    with pytest.raises(CommissionAlreadySettled):
        undo_redemption(redemption.id, merchant_id=issuer.id, staff_user_id=issuer.owner_id)
    assert Redemption.get_by_id(redemption.id).status == "done"
    assert Coupon.get_by_id(coupon.id).status == "redeemed"


def test_a_partner_is_owed_the_terms_it_handed_the_coupon_out_under(database):
    issuer, partner, coupon = _distributed_coupon()
    distribution = CouponDistribution.get()
    add_distribution(distribution.template_id, issuer.id, partner.id, 100, actor_id=1)
    end_distribution(distribution.id, issuer.id)
    _redeem(coupon.code, issuer)
    assert CommissionEntry.get().amount_fen == 300
