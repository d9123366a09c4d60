"""Checkout pricing, on the server only, in integer fen.

The rules, in the order they apply (README "Orders" repeats them for the mini-program):

1. ``items_fen`` = sum of unit price x quantity, with the prices read from the database.
2. Campaigns (``alliance.campaigns.pricing``): a running flash sale charges its campaign
   price for each unit of its item (the line's campaign discount is exactly
   ``(price - campaign price) x quantity``); then the best tier of a running full
   reduction on what the items cost at those prices, never so much that nothing is left
   to pay. ``campaign_discount_fen`` is both.
3. Level discount: ``floor(after campaigns x percent_off / 100)``, the buyer's level
   benefit at the merchant (``alliance.members.services.member_terms``).
3b. Member day discount (a member on the merchant's member day,
   ``alliance.members.member_days``): ``floor(after level x percent / 100)``, after the
   level discount, not added to it (level 10 % and member day 5 % take 14.5 %, not 15 %).
4. Coupons: their value on the items (at campaign prices) as the coupon rules compute it
   (threshold, scope, at most one shop and one platform coupon; percentage coupons round
   down; ``alliance.coupons.checkout.plan_coupons``), capped so that, with the campaign,
   level and member day discounts, at least 1 fen is left to pay.
5. Points: ``FEN_PER_POINT`` each, at most ``MAX_PAY_SHARE_PERCENT`` % (rounded down) of
   what is left after campaigns, level, member day and coupons (``alliance.points.rules``),
   and never so much that nothing is left to pay.
6. Shipping (goods only): ``SHIPPING_FEN``, free when the items after campaigns, level and
   member day discounts and coupons reach ``FREE_SHIPPING_FROM_FEN``. Shipping is never
   discounted.
7. ``total_fen`` = items + shipping; ``discount_fen`` = campaign + level + member day +
   coupons + points; ``payable_fen`` = total − discount, always at least 1 fen (providers
   take no 0 payment).
8. The discount is shared among the lines: each line's flash-sale discount is its own; the
   full reduction, then level, member day, coupons and points together, are shared in
   proportion to the lines' amounts after what came before: each share rounded down, the
   fen left over given one by one to the largest remainders (ties: the earlier line), so
   the shares add up exactly.
9. Points earned on payment: ``POINTS_PER_YUAN`` per whole yuan paid for the items
   (shipping excluded) times the member's multiplier at the merchant times the member
   day's (they multiply: 150 % x 200 % = 300 %), rounded down once, funded by the merchant
   (``alliance.members.services.record_purchase``). The member day's multiplier is the one
   checkout found: the order keeps it until it is paid.

Every discount rounds down: the rounding costs the buyer less than 1 fen per step.
"""
from __future__ import annotations

from dataclasses import dataclass

from alliance.points.rules import max_points_for, points_earned_for, points_value_fen

SHIPPING_FEN = 1000
FREE_SHIPPING_FROM_FEN = 9900
MIN_PAYABLE_FEN = 1


@dataclass(frozen=True)
class LineInput:
    item_id: int
    name: str
    kind: str
    unit_price_fen: int
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    item_id: int
    name: str
    kind: str
    unit_price_fen: int
    quantity: int
    amount_fen: int
    discount_fen: int
    payable_fen: int


@dataclass(frozen=True)
class Quote:
    lines: tuple[PricedLine, ...]
    items_fen: int
    level_discount_percent: int
    level_discount_fen: int
    coupon_discount_fen: int
    points_used: int
    points_discount_fen: int
    max_points: int
    shipping_fen: int
    total_fen: int
    discount_fen: int
    payable_fen: int
    earn_points: int
    campaign_discount_fen: int = 0
    full_reduction_fen: int = 0  # the full reduction's part of campaign_discount_fen
    member_day_discount_percent: int = 0
    member_day_discount_fen: int = 0
    member_day_multiplier_pct: int = 100  # 100: not a member day (or not for this buyer)

    @property
    def member_day(self) -> dict | None:
        """The member day's part (None: the buyer gets none)."""
        return member_day_part(self.member_day_discount_fen, self.member_day_multiplier_pct,
                               self.member_day_discount_percent)

    def breakdown(self) -> dict:
        """The amounts as the API shows them."""
        return {"items_fen": self.items_fen,
                "campaign_discount_fen": self.campaign_discount_fen,
                "level_discount_percent": self.level_discount_percent,
                "level_discount_fen": self.level_discount_fen,
                "member_day_discount_fen": self.member_day_discount_fen,
                "member_day": self.member_day,
                "coupon_discount_fen": self.coupon_discount_fen,
                "points_used": self.points_used, "points_discount_fen": self.points_discount_fen,
                "max_points": self.max_points, "shipping_fen": self.shipping_fen,
                "total_fen": self.total_fen, "discount_fen": self.discount_fen,
                "payable_fen": self.payable_fen, "earn_points": self.earn_points}


def member_day_part(discount_fen: int, multiplier_pct: int,
                    discount_percent: int | None = None) -> dict | None:
    """The ``member_day`` of a breakdown: its discount and its points multiplier, and the
    percent it took off when known (a quote's; an order keeps the fen). None: the order
    gets no member day."""
    if not discount_percent and not discount_fen and multiplier_pct == 100:
        return None
    part = {"discount_fen": discount_fen, "points_multiplier_pct": multiplier_pct}
    if discount_percent is not None:
        part["discount_percent"] = discount_percent
    return part


def items_total(lines: list[LineInput]) -> int:
    return sum(line.unit_price_fen * line.quantity for line in lines)


def level_discount(items_fen: int, percent_off: int) -> int:
    """Rule 3: the level discount on ``items_fen``."""
    return items_fen * max(0, min(percent_off, 100)) // 100


def max_points(after_coupon_fen: int) -> int:
    """Rule 5: the most points an order with ``after_coupon_fen`` left can use."""
    return max(0, min(max_points_for(after_coupon_fen),
                      (after_coupon_fen - MIN_PAYABLE_FEN) // points_value_fen(1)))


def shipping(kind: str, after_coupon_fen: int) -> int:
    """Rule 6."""
    if kind != "goods" or after_coupon_fen >= FREE_SHIPPING_FROM_FEN:
        return 0
    return SHIPPING_FEN


def allocate(total: int, weights: list[int]) -> list[int]:
    """Rule 8: ``total`` shared in proportion to ``weights`` (largest remainder)."""
    whole = sum(weights)
    if total <= 0 or whole <= 0:
        return [0] * len(weights)
    shares = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[:total - sum(shares)]:
        shares[i] += 1
    return shares


def quote(lines: list[LineInput], kind: str, *, level_percent_off: int = 0,
          coupon_discount_fen: int = 0, points: int = 0, multiplier_pct: int = 100,
          campaign_prices: dict[int, int] | None = None, full_reduction_fen: int = 0,
          member_day_percent_off: int = 0, member_day_multiplier_pct: int = 100) -> Quote:
    """Price ``lines`` (all of one ``kind``). ``campaign_prices`` ({item_id: unit price}) are
    the running flash sales' prices and ``full_reduction_fen`` the full reduction's tier
    (capped here, rule 2); ``coupon_discount_fen`` is what the coupons take off (capped
    here, rule 4); ``points`` beyond ``max_points`` are not used (the caller checks and
    says so); ``multiplier_pct`` is the member's points multiplier; ``member_day_*`` what the
    merchant's member day gives the buyer (rule 3b and 9)."""
    campaign_prices = campaign_prices or {}
    items_fen = items_total(lines)
    amounts = [line.unit_price_fen * line.quantity for line in lines]
    flash = [max(0, line.unit_price_fen - campaign_prices.get(line.item_id, line.unit_price_fen))
             * line.quantity for line in lines]
    after_flash = [amount - cut for amount, cut in zip(amounts, flash)]
    reduction_fen = max(0, min(full_reduction_fen, sum(after_flash) - MIN_PAYABLE_FEN))
    reduction_shares = allocate(reduction_fen, after_flash)
    after_campaign_lines = [amount - share for amount, share in zip(after_flash, reduction_shares)]
    campaign_fen = sum(flash) + reduction_fen
    after_campaign = items_fen - campaign_fen
    level_fen = level_discount(after_campaign, level_percent_off)
    after_level = after_campaign - level_fen
    member_day_fen = level_discount(after_level, member_day_percent_off)
    after_member_day = after_level - member_day_fen
    coupon_fen = max(0, min(coupon_discount_fen, after_member_day - MIN_PAYABLE_FEN))
    after_coupon = after_member_day - coupon_fen
    limit = max_points(after_coupon)
    points_used = max(0, min(points, limit))
    points_fen = points_value_fen(points_used)
    shipping_fen = shipping(kind, after_coupon)
    discount_fen = campaign_fen + level_fen + member_day_fen + coupon_fen + points_fen
    shares = [own + reduced + share for own, reduced, share in
              zip(flash, reduction_shares,
                  allocate(level_fen + member_day_fen + coupon_fen + points_fen,
                           after_campaign_lines))]
    priced = tuple(PricedLine(line.item_id, line.name, line.kind, line.unit_price_fen,
                              line.quantity, amount, share, amount - share)
                   for line, amount, share in zip(lines, amounts, shares))
    items_payable = items_fen - discount_fen
    return Quote(lines=priced, items_fen=items_fen, level_discount_percent=level_percent_off,
                 level_discount_fen=level_fen, coupon_discount_fen=coupon_fen,
                 points_used=points_used, points_discount_fen=points_fen, max_points=limit,
                 shipping_fen=shipping_fen, total_fen=items_fen + shipping_fen,
                 discount_fen=discount_fen, payable_fen=items_payable + shipping_fen,
                 earn_points=points_earned_for(items_payable, multiplier_pct,
                                               member_day_multiplier_pct),
                 campaign_discount_fen=campaign_fen, full_reduction_fen=reduction_fen,
                 member_day_discount_percent=member_day_percent_off,
                 member_day_discount_fen=member_day_fen,
                 member_day_multiplier_pct=member_day_multiplier_pct)
