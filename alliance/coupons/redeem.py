"""Coupons at the counter: the ``coupon`` code kind of the redemption registry.

A coupon is redeemed by one guarded update (``active`` and unexpired -> ``redeemed``), so of
two counters scanning it at once exactly one succeeds. A coupon claimed through a partner
makes its issuer owe the partner the commission of the terms it was handed out under.
"""
from __future__ import annotations

from peewee import JOIN

from alliance.coupons.codes import COUPON_PREFIX
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.rules import usable_at
from alliance.coupons.views import coupon_view
from alliance.errors import Conflict
from alliance.merchants.models import Merchant
from alliance.prepared import Arg, Prepared
from alliance.redemptions.models import Redemption
from alliance.redemptions.registry import (CodeAlreadyRedeemed, CodeExpired, CodeInUse,
                                           CodeNotFound, CodeNotValidHere, CodeNotYetValid,
                                           Redeemed, RedeemRequest, register_code_kind)

_REFUSALS = {"redeemed": CodeAlreadyRedeemed, "used": CodeAlreadyRedeemed,
             "locked": CodeInUse, "expired": CodeExpired}


# Run for every coupon redeemed: its SQL is built once (alliance.prepared). In a pipelined
# transaction it is assumed to match; a coupon taken meanwhile runs the redemption again
# plainly, where the guard answers 0 and the code is refused.
_REDEEM = Prepared(lambda: Coupon.update(status="redeemed", used_at=Arg(1, Coupon.used_at))
                   .where(Coupon.id == Arg(0), Coupon.status == "active",
                          Coupon.valid_until > Arg(1, Coupon.valid_until)))


class CouponCodeKind:
    """Redeems coupon codes (``C`` + 11 characters)."""

    name = "coupon"
    prefix = COUPON_PREFIX

    def redeem(self, request: RedeemRequest) -> Redeemed:
        """Mark the coupon redeemed at the request's merchant (caller's transaction)."""
        # With its template's issuer: the answer shows the issuer's name.
        coupon = (Coupon.select(Coupon, CouponTemplate, Merchant).join(CouponTemplate)
                  .join(Merchant, JOIN.LEFT_OUTER).where(Coupon.code == request.code).first())
        if coupon is None:
            raise CodeNotFound(details={"code": request.code})
        template = coupon.template
        if not usable_at(template, request.merchant_id):
            raise CodeNotValidHere(details={"code": request.code,
                                            "issuer_merchant_id": template.merchant_id,
                                            "scope": template.scope})
        if coupon.status in _REFUSALS:
            raise _REFUSALS[coupon.status](details={"code": request.code})
        if coupon.valid_until <= request.now:
            raise CodeExpired(details={"code": request.code})
        if coupon.valid_from > request.now:
            raise CodeNotYetValid(details={"code": request.code})
        taken = _REDEEM.execute(coupon.id, request.now)
        if taken != 1:
            # Another counter (or an order) took it between our read and our update.
            raise CodeAlreadyRedeemed(details={"code": request.code})
        coupon.status, coupon.used_at = "redeemed", request.now
        return Redeemed(user_id=coupon.user_id, ref_type="coupon", ref_id=str(coupon.id),
                        title=template.name, issuer_merchant_id=template.merchant_id,
                        distributor_merchant_id=coupon.distributor_merchant_id,
                        commission_fen=coupon.commission_fen, details={"coupon": coupon_view(coupon)})

    def undo(self, redemption: Redemption) -> None:
        """Make the coupon of an undone redemption active again."""
        restored = (Coupon.update(status="active", used_at=None)
                    .where(Coupon.id == int(redemption.ref_id), Coupon.status == "redeemed")
                    .execute())
        if restored != 1:
            raise Conflict("优惠券状态已变化，无法撤销", details={"coupon_id": redemption.ref_id})


register_code_kind(CouponCodeKind())
