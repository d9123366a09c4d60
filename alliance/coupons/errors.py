"""The coupon domain's errors (codes are part of the API)."""
from __future__ import annotations

from alliance.errors import AllianceError, Conflict, NotFound


class CouponTemplateNotFound(NotFound):
    code = "COUPON_TEMPLATE_NOT_FOUND"
    message = "优惠券不存在"


class CouponNotFound(NotFound):
    code = "COUPON_NOT_FOUND"
    message = "优惠券不存在"


class DistributionNotFound(NotFound):
    code = "COUPON_DISTRIBUTION_NOT_FOUND"
    message = "代发放关系不存在"


class CouponNotClaimable(Conflict):
    code = "COUPON_NOT_CLAIMABLE"
    message = "该优惠券当前不可领取"


class CouponSoldOut(Conflict):
    code = "COUPON_SOLD_OUT"
    message = "优惠券已抢光"


class CouponLimitReached(Conflict):
    code = "COUPON_LIMIT_REACHED"
    message = "已达到每人限领数量"


class CouponTemplateEnded(Conflict):
    code = "COUPON_TEMPLATE_ENDED"
    message = "该优惠券活动已结束，不能再修改"


class CouponNotUsable(Conflict):
    code = "COUPON_NOT_USABLE"
    message = "该优惠券不能用于本订单"


class CouponThresholdNotMet(Conflict):
    code = "COUPON_THRESHOLD_NOT_MET"
    message = "订单金额未达到优惠券使用门槛"


class CouponStackingNotAllowed(AllianceError):
    code = "COUPON_STACKING_NOT_ALLOWED"
    http_status = 422
    message = "一个订单最多使用一张店铺券和一张平台券"
