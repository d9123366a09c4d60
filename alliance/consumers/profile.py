"""One consumer as operators see them: profile, memberships and points, orders, coupons,
complaints and after-sales, and who referred them."""
from __future__ import annotations

from peewee import fn

from alliance.accounts.models import AccountMerge, User
from alliance.clock import to_local_iso
from alliance.coupons.models import Coupon
from alliance.errors import NotFound
from alliance.members.queries import my_membership
from alliance.merchants.models import Merchant
from alliance.orders.aftersale_models import AfterSale, Complaint
from alliance.orders.feedback import list_complaints
from alliance.orders.models import Order
from alliance.orders.queries import list_after_sales
from alliance.points.queries import ledger_page
from alliance.referrals.models import ReferralAttribution
from alliance.consumers.listing import page_extras, paid_orders, user_row

RECENT = 10


class ConsumerNotFound(NotFound):
    code = "USER_NOT_FOUND"
    message = "用户不存在"


def _order_row(order: Order) -> dict:
    return {"order_no": order.order_no, "status": order.status, "kind": order.kind,
            "merchant_id": order.merchant_id, "merchant_name": order.merchant.name,
            "payable_fen": order.payable_fen, "paid_fen": order.paid_fen,
            "refunded_fen": order.refunded_fen, "created_at": to_local_iso(order.created_at),
            "paid_at": to_local_iso(order.paid_at)}


def _orders(user_id: int) -> dict:
    recent = (Order.select(Order, Merchant).join(Merchant).where(Order.user == user_id)
              .order_by(Order.id.desc()).limit(RECENT))
    total = Order.select().where(Order.user == user_id).count()
    paid, paid_fen, refunded_fen = (
        Order.select(fn.COUNT(Order.id), fn.SUM(Order.paid_fen), fn.SUM(Order.refunded_fen))
        .where(Order.user == user_id, paid_orders()).tuples().get())
    return {"total": total, "paid": paid, "paid_fen": int(paid_fen or 0),
            "refunded_fen": int(refunded_fen or 0), "recent": [_order_row(o) for o in recent]}


def _coupons(user_id: int) -> dict:
    """The user's coupons by status; held: not yet used (free, or held by an unpaid order),
    used: spent on an order or redeemed at a counter."""
    counts = dict(Coupon.select(Coupon.status, fn.COUNT(Coupon.id))
                  .where(Coupon.user_id == user_id).group_by(Coupon.status).tuples())
    return {"held": counts.get("active", 0) + counts.get("locked", 0),
            "used": counts.get("used", 0) + counts.get("redeemed", 0),
            "by_status": counts, "total": sum(counts.values())}


def _referral(user_id: int) -> dict:
    """Who brought the user (their attribution) and how many they brought."""
    row = ReferralAttribution.get_or_none(ReferralAttribution.invitee == user_id)
    referred_by = None
    if row is not None:
        referrer = User.get_or_none(User.id == row.referrer_id) if row.referrer_id else None
        merchant = Merchant.get_or_none(Merchant.id == row.merchant_id) if row.merchant_id else None
        referred_by = {"status": row.status, "source_kind": row.source_kind,
                       "referrer_user_id": row.referrer_id,
                       "referrer_nickname": referrer.nickname if referrer else None,
                       "merchant_id": row.merchant_id,
                       "merchant_name": merchant.name if merchant else None,
                       "channel": row.channel, "bound_at": to_local_iso(row.bound_at),
                       "converted_at": to_local_iso(row.converted_at)}
    invited = dict(ReferralAttribution.select(ReferralAttribution.status,
                                              fn.COUNT(ReferralAttribution.id))
                   .where(ReferralAttribution.referrer == user_id)
                   .group_by(ReferralAttribution.status).tuples())
    return {"referred_by": referred_by, "invited": sum(invited.values()),
            "invited_converted": invited.get("converted", 0)}


def _complaints(user_id: int, secret: str) -> dict:
    return {
        "complaints": {**list_complaints(user_id=user_id, limit=RECENT),
                       "total": Complaint.select().where(Complaint.user_id == user_id).count()},
        "after_sales": {**list_after_sales(secret, user_id=user_id, limit=RECENT),
                        "total": AfterSale.select().where(AfterSale.user_id == user_id).count()},
    }


def consumer_detail(user_id: int, channel_of_appid: dict[str, str], secret: str) -> dict:
    """Everything operators see of one consumer; personal data masked."""
    user = User.get_or_none(User.id == user_id)
    if user is None:
        raise ConsumerNotFound(details={"user_id": user_id})
    row = user_row(user, page_extras([user.id]), channel_of_appid)
    membership = my_membership(user.id)
    ledger = ledger_page(user.id, None, RECENT)
    merged_from = [source for (source,) in
                   AccountMerge.select(AccountMerge.source_user)
                   .where(AccountMerge.target_user == user.id).order_by(AccountMerge.id).tuples()]
    return {**row, "updated_at": to_local_iso(user.updated_at), "merged_from": merged_from,
            "platform_growth": membership["platform_level"]["growth"],
            "next_level_growth": membership["platform_level"]["next_level_growth"],
            "memberships": membership["memberships"],
            "points": {"balance": ledger["balance"], "lifetime_earned": ledger["lifetime_earned"],
                       "recent": ledger["items"]},
            "orders": _orders(user.id), "coupons": _coupons(user.id),
            "referral": _referral(user.id), **_complaints(user.id, secret)}
