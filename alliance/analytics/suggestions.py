"""Rule-based suggestions for a merchant's insights: deterministic, each with a stable code.

Each rule reads the period's figures (``alliance.analytics.insights``) and answers at most
one suggestion per subject, in the order of RULES; the texts are Simplified Chinese for the
merchant, the numbers they quote are in ``params`` too (money in fen).
"""
from __future__ import annotations

import math

from alliance.money import yuan_words as yuan

# A full-reduction threshold is the next multiple of this above the average order value.
THRESHOLD_STEP_FEN = 500
REDUCTION_SHARE = 10  # the reduction: a tenth of the threshold, in whole yuan, at least 1
REPEAT_RATE_FLOOR = 0.2  # below it, with at least MIN_BUYERS buyers, repeat buying is low
MIN_BUYERS = 5
CONVERSION_FLOOR = 0.05  # below it, with at least MIN_VIEWS views, conversion is low
MIN_VIEWS = 100
STOCK_WEEKS = 1  # a best seller with less stock than this many weeks of its sales


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _item(code: str, message: str, **params) -> dict:
    return {"code": code, "message": message, "params": params}


def full_reduction_for(average_fen: int) -> tuple[int, int]:
    """(threshold, reduction) of a full reduction just above an average order value."""
    threshold = (average_fen // THRESHOLD_STEP_FEN + 1) * THRESHOLD_STEP_FEN
    reduction = max(100, threshold // REDUCTION_SHARE // 100 * 100)
    return threshold, reduction


def suggest(figures: dict, traffic: dict, comparison: dict | None, best_sellers: list[dict],
            days: int, *, has_partners: bool) -> list[dict]:
    """The suggestions for one merchant's period, in a fixed order."""
    found: list[dict] = []
    if figures["orders"] == 0:
        found.append(_item("NO_SALES", "本期还没有成交订单。建议发布新客优惠券或报名平台活动，"
                                       "吸引第一批顾客下单。"))
    aov = (comparison or {}).get("metrics", {}).get("average_order_fen") or {}
    if aov.get("value") is not None and aov.get("industry_median") is not None \
            and aov["value"] < aov["industry_median"]:
        threshold, reduction = full_reduction_for(aov["value"])
        found.append(_item(
            "AOV_BELOW_INDUSTRY",
            f"客单价 {yuan(aov['value'])} 元，低于同行业中位数 {yuan(aov['industry_median'])} 元。"
            f"建议推出“满 {yuan(threshold)} 元减 {yuan(reduction)} 元”的满减活动，引导顾客多买一件。",
            average_order_fen=aov["value"], industry_median_fen=aov["industry_median"],
            threshold_fen=threshold, reduction_fen=reduction))
    repeat = figures["repeat_rate"]
    if figures["buyers"] >= MIN_BUYERS and repeat is not None and repeat < REPEAT_RATE_FLOOR:
        found.append(_item(
            "LOW_REPEAT_RATE",
            f"本期复购率为 {percent(repeat)}（{figures['buyers']} 位顾客中 "
            f"{figures['repeat_buyers']} 位多次购买）。建议设置会员等级与积分规则，"
            "如消费满额升级享折扣、会员日积分翻倍，吸引顾客再次光顾。",
            repeat_rate=repeat, buyers=figures["buyers"], repeat_buyers=figures["repeat_buyers"]))
    conversion = traffic["conversion_rate"]
    if traffic["views"] >= MIN_VIEWS and conversion is not None and conversion < CONVERSION_FLOOR:
        found.append(_item(
            "LOW_CONVERSION",
            f"本期店铺详情页被浏览 {traffic['views']} 次，下单顾客 {figures['buyers']} 位"
            f"（转化率 {percent(conversion)}）。建议发放新客券或限时优惠券，把浏览变成购买。",
            views=traffic["views"], buyers=figures["buyers"], conversion_rate=conversion))
    for item in best_sellers:
        weekly = math.ceil(item["units"] * 7 * STOCK_WEEKS / days)
        if item["stock"] is not None and item["stock"] < weekly:
            found.append(_item(
                "RESTOCK_BEST_SELLER",
                f"热销商品“{item['name']}”库存仅剩 {item['stock']} 件，不足近期一周的销量"
                f"（约 {weekly} 件），建议及时补货。",
                item_id=item["item_id"], stock=item["stock"], weekly_units=weekly))
    if not has_partners:
        found.append(_item(
            "START_COOPERATION",
            "目前还没有与联盟商户互相分发优惠券。建议在“联盟合作”中向附近的异业商户发起合作，"
            "互相发券引流。"))
    return found
