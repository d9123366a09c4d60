"""A merchant's insights over a period: its figures, traffic and conversion, how it compares
with its industry (anonymised: ``alliance.analytics.industry``) and rule-based suggestions
(``alliance.analytics.suggestions``).

Days are Asia/Shanghai days. An order counts in the period it was paid in (a refund later
does not uncount it); a refund counts in the period it succeeded in.
"""
from __future__ import annotations

import datetime as dt

from peewee import fn

from alliance.analytics import industry, suggestions
from alliance.analytics.queries import MAX_DAYS
from alliance.analytics.traffic import views_by_merchant
from alliance.catalog.models import CatalogItem
from alliance.coupons.models import Coupon, CouponDistribution, CouponTemplate
from alliance.members.models import MerchantMember
from alliance.merchants.models import Merchant
from alliance.orders.models import Order
from alliance.orders.queries import day_range, utc_bounds
from alliance.orders.reports import refunded_fen, top_items

USED = ("used", "redeemed")  # a coupon spent on an order or redeemed at a counter


def rate(part: int, whole: int) -> float | None:
    """part / whole to four decimals; None when there is no whole."""
    return round(part / whole, 4) if whole else None


def _buyer_figures(merchant_id: int, lo: dt.datetime, hi: dt.datetime) -> dict:
    paid = Order.select().where(Order.merchant == merchant_id, Order.paid_at >= lo,
                                Order.paid_at < hi)
    orders, sales, buyers = (paid.select(fn.COUNT(Order.id), fn.SUM(Order.paid_fen),
                                         fn.COUNT(Order.user.distinct())).tuples().get())
    earlier = Order.select(Order.user).where(Order.merchant == merchant_id, Order.paid_at < lo)
    returning = paid.select(fn.COUNT(Order.user.distinct())).where(
        Order.user.in_(earlier)).scalar() or 0
    per_buyer = (paid.select(Order.user).group_by(Order.user)
                 .having(fn.COUNT(Order.id) >= 2))
    repeat = per_buyer.count()
    sales = int(sales or 0)
    refunds = refunded_fen(lo, hi, merchant_id)
    return {"orders": orders, "sales_fen": sales, "refunds_fen": refunds,
            "net_fen": sales - refunds, "average_order_fen": sales // orders if orders else 0,
            "buyers": buyers, "new_buyers": buyers - returning, "returning_buyers": returning,
            "repeat_buyers": repeat, "repeat_rate": rate(repeat, buyers)}


def _coupon_figures(merchant_id: int, lo: dt.datetime, hi: dt.datetime) -> dict:
    own = (Coupon.select().join(CouponTemplate)
           .where(CouponTemplate.merchant == merchant_id))
    claimed = own.where(Coupon.claimed_at >= lo, Coupon.claimed_at < hi)
    claimed_count = claimed.count()
    claimed_used = claimed.where(Coupon.status.in_(USED)).count()
    used = own.where(Coupon.status.in_(USED), Coupon.used_at >= lo, Coupon.used_at < hi).count()
    handed_out = (Coupon.select().join(CouponTemplate)
                  .where(Coupon.distributor_merchant_id == merchant_id,
                         CouponTemplate.merchant != merchant_id,
                         Coupon.claimed_at >= lo, Coupon.claimed_at < hi))
    handed_count = handed_out.count()
    handed_used = handed_out.where(Coupon.status.in_(USED)).count()
    return {"claimed": claimed_count, "used": used, "claimed_then_used": claimed_used,
            "redemption_rate": rate(claimed_used, claimed_count),
            "partner_coupons_handed_out": handed_count,
            "partner_coupons_used_elsewhere": handed_used,
            "partner_redemption_rate": rate(handed_used, handed_count)}


def _has_partner_distribution(merchant_id: int) -> bool:
    """Whether the merchant carries a partner's coupons or a partner carries its own."""
    active = CouponDistribution.select().join(CouponTemplate).where(
        CouponDistribution.status == "active")
    return active.where((CouponDistribution.distributor == merchant_id)
                        | (CouponTemplate.merchant == merchant_id)).exists()


def _best_sellers(merchant_id: int, lo: dt.datetime, hi: dt.datetime) -> list[dict]:
    """The top items with their stock now (None for an item no longer in the catalog)."""
    top = top_items(merchant_id, lo, hi)
    stock = dict(CatalogItem.select(CatalogItem.id, CatalogItem.stock)
                 .where(CatalogItem.id.in_([row["item_id"] for row in top]),
                        CatalogItem.merchant == merchant_id).tuples()) if top else {}
    return [{**row, "stock": stock.get(row["item_id"])} for row in top]


def merchant_insights(merchant_id: int, start: str | None, end: str | None) -> dict:
    """The merchant's figures, traffic, industry comparison and suggestions for the days
    ``start``..``end`` (YYYY-MM-DD, Asia/Shanghai; at most MAX_DAYS, default the last 30)."""
    first, last = day_range(start, end, MAX_DAYS, default_days=30)
    lo, hi = utc_bounds(first, last)
    merchant = Merchant.get_by_id(merchant_id)
    figures = _buyer_figures(merchant_id, lo, hi)
    figures["coupons"] = _coupon_figures(merchant_id, lo, hi)
    figures["members_gained"] = (MerchantMember.select()
                                 .where(MerchantMember.merchant == merchant_id,
                                        MerchantMember.joined_at >= lo,
                                        MerchantMember.joined_at < hi).count())
    views, signed_in = views_by_merchant([merchant_id], first, last).get(merchant_id, (0, 0))
    traffic = {"views": views, "signed_in_views": signed_in,
               "conversion_rate": rate(figures["buyers"], views)}
    best = _best_sellers(merchant_id, lo, hi)
    comparison, reason = industry.compare(merchant, first, last)
    days = (last - first).days + 1
    advice = suggestions.suggest(figures, traffic, comparison, best, days,
                                 has_partners=_has_partner_distribution(merchant_id))
    return {"merchant_id": merchant_id, "from": first.isoformat(), "to": last.isoformat(),
            "days": days, "figures": figures, "traffic": traffic, "best_sellers": best,
            "comparison": comparison, "comparison_unavailable": reason,
            "suggestions": advice}
