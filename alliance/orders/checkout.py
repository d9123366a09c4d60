"""Checkout: price a basket on the server and place the order, reserving what it holds.

An order holds the items of one merchant, all goods or all services (ORDER_MULTIPLE_MERCHANTS,
ORDER_KINDS_MIXED otherwise: the mini-program sends one merchant's basket per order).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.campaigns import budget as campaign_budget
from alliance.campaigns import checkout as campaign_checkout
from alliance.campaigns import groups as campaign_groups
from alliance.campaigns import pricing as campaign_pricing
from alliance.campaigns.errors import CampaignBudgetExhausted
from alliance.catalog.models import CatalogItem
from alliance.catalog.queries import ItemNotFound
from alliance.coupons.checkout import AppliedCoupon, plan_coupons, reserve_coupons
from alliance.coupons.checkout import Line as CouponLine
from alliance.db import pipelined_transaction, utcnow
from alliance.members.services import member_terms
from alliance.merchants.models import Merchant
from alliance.orders import funding, pricing, reservations
from alliance.orders.context import OrderContext
from alliance.orders.errors import (OrderItemsInvalid, OrderKindsMixed, OrderMultipleMerchants,
                                    PointsExceedLimit)
from alliance.orders.models import CartItem, Order, OrderLine
from alliance.orders.numbers import new_order_no
from alliance.points.services import InsufficientPoints, balance_of
from alliance.prepared import PreparedInsert

MAX_LINES = 20
MAX_QUANTITY = 99


@dataclass(frozen=True)
class Basket:
    """What the buyer asks for: ``items`` as (item_id, quantity), in the order sent; the
    coupons to use (at most a shop and a platform coupon) and the points to pay with; a
    group buy's group to start or join (``alliance.campaigns.groups``)."""

    items: list[tuple[int, int]]
    coupon_ids: tuple[int, ...] = ()
    points: int = 0
    group: campaign_groups.GroupRequest | None = None


@dataclass(frozen=True)
class Priced:
    merchant: Merchant
    kind: str
    quote: pricing.Quote
    coupons: list[AppliedCoupon]
    campaigns: campaign_pricing.CampaignPlan
    group: campaign_groups.GroupPlan | None = None


def _merged(items: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if not 1 <= len(items) <= MAX_LINES:
        raise OrderItemsInvalid(details={"field": "items", "min": 1, "max": MAX_LINES})
    merged: dict[int, int] = {}
    for item_id, quantity in items:
        merged[item_id] = merged.get(item_id, 0) + quantity
    for item_id, quantity in merged.items():
        if not 1 <= quantity <= MAX_QUANTITY:
            raise OrderItemsInvalid("购买数量超出范围", details={
                "field": "items", "item_id": item_id, "min": 1, "max": MAX_QUANTITY})
    return list(merged.items())


def price_basket(user_id: int, basket: Basket, now: dt.datetime | None = None) -> Priced:
    """The basket priced from the database (no reservation): ITEM_NOT_FOUND for an item not
    on sale, ORDER_MULTIPLE_MERCHANTS, ORDER_KINDS_MIXED, the coupons' errors
    (COUPON_NOT_FOUND, COUPON_NOT_USABLE, COUPON_THRESHOLD_NOT_MET, ...),
    POINTS_EXCEED_LIMIT, POINTS_INSUFFICIENT, CAMPAIGN_LIMIT_REACHED, and a group buy's
    (``campaign_groups.plan_group``). A platform campaign whose budget cannot cover its
    discount is left out (``_campaigns``), but for the group buy asked for
    (CAMPAIGN_BUDGET_EXHAUSTED)."""
    wanted = _merged(basket.items)
    # With their merchant: one statement, not two (on MySQL each is a round trip).
    found = {item.id: item for item in CatalogItem.select(CatalogItem, Merchant).join(Merchant)
             .where(CatalogItem.id.in_([item_id for item_id, _ in wanted]),
                    CatalogItem.status == "on_shelf")}
    missing = [item_id for item_id, _ in wanted if item_id not in found]
    if missing:
        raise ItemNotFound(details={"item_ids": missing})
    merchant_ids = {item.merchant_id for item in found.values()}
    if len(merchant_ids) > 1:
        raise OrderMultipleMerchants(details={"merchant_ids": sorted(merchant_ids)})
    kinds = {item.kind for item in found.values()}
    if len(kinds) > 1:
        raise OrderKindsMixed(details={"kinds": sorted(kinds)})
    merchant = next(iter(found.values())).merchant
    if merchant.status != "approved":
        raise ItemNotFound(details={"item_ids": [item_id for item_id, _ in wanted]})
    kind = kinds.pop()
    lines = [pricing.LineInput(item_id, found[item_id].name, kind, found[item_id].price_fen,
                               quantity) for item_id, quantity in wanted]
    if basket.points < 0:
        raise OrderItemsInvalid("积分数量不正确", details={"field": "points"})
    now = now or utcnow()
    group = (campaign_groups.plan_group(
        basket.group, [(line.item_id, line.quantity, line.unit_price_fen) for line in lines],
        user_id, now) if basket.group is not None else None)
    campaigns = _campaigns(merchant.id, lines, kind, now, group)
    charged = campaigns.prices  # coupons see the items at the prices the campaigns charge
    member = member_terms(user_id, merchant.id, now)
    benefits = member.benefits
    coupons = plan_coupons(user_id, list(basket.coupon_ids), merchant.id,
                           [CouponLine(line.item_id, charged.get(line.item_id, line.unit_price_fen),
                                       line.quantity)
                            for line in lines], now) if basket.coupon_ids else []
    terms = {"level_percent_off": benefits.discount_percent,
             "coupon_discount_fen": sum(c.discount_fen for c in coupons),
             "multiplier_pct": benefits.points_multiplier_pct,
             "member_day_percent_off": member.member_day_discount_percent,
             "member_day_multiplier_pct": member.member_day_multiplier_pct,
             "campaign_prices": charged, "full_reduction_fen": campaigns.reduction_fen}
    quote = pricing.quote(lines, kind, **terms)
    if basket.points > quote.max_points:
        raise PointsExceedLimit(details={"field": "points", "requested": basket.points,
                                         "max_points": quote.max_points})
    if basket.points:
        balance = balance_of(user_id)
        if basket.points > balance:
            raise InsufficientPoints(details={"requested": basket.points, "balance": balance})
        quote = pricing.quote(lines, kind, points=basket.points, **terms)
    return Priced(merchant, kind, quote, coupons, campaigns, group)


def _campaigns(merchant_id: int, lines: list[pricing.LineInput], kind: str,
               now: dt.datetime,
               group: campaign_groups.GroupPlan | None = None) -> campaign_pricing.CampaignPlan:
    """The campaigns the lines get (a group's price instead of any flash sale of its item).
    A platform campaign whose remaining budget cannot cover
    what it would take off this order (exactly, as the order would take it) is left out,
    in the quote as in the order, and the rest planned again without it (another offer or
    tier may apply then): the buyer sees the price they will be charged."""
    wanted = [(line.item_id, line.quantity, line.unit_price_fen) for line in lines]
    excluded: frozenset[int] = frozenset()
    fixed = {group.offer.item_id: group.offer} if group is not None else None
    while True:
        plan = campaign_pricing.plan(merchant_id, wanted, now, excluded, fixed)
        if not plan.budgeted:
            return plan
        # The full reduction as capped by pricing (rule 2), which no later rule changes.
        reduction_fen = pricing.quote(lines, kind, campaign_prices=plan.prices,
                                      full_reduction_fen=plan.reduction_fen).full_reduction_fen
        short = campaign_budget.uncovered(campaign_budget.spend(plan, wanted, reduction_fen))
        if not short:
            return plan
        if group is not None and group.offer.campaign_id in short:
            raise CampaignBudgetExhausted(details={"campaign_id": group.offer.campaign_id})
        excluded |= short


def quote_basket(user_id: int, basket: Basket) -> dict:
    """What the basket would cost: the breakdown and its lines (nothing is reserved)."""
    priced = price_basket(user_id, basket)
    return {"merchant_id": priced.merchant.id, "kind": priced.kind,
            **priced.quote.breakdown(),
            "coupons": [{"coupon_id": c.coupon_id, "tier": c.tier, "discount_fen": c.discount_fen}
                        for c in priced.coupons],
            "campaigns": _campaigns_view(priced),
            "items": [{"item_id": line.item_id, "name": line.name, "quantity": line.quantity,
                       "unit_price_fen": line.unit_price_fen, "amount_fen": line.amount_fen,
                       "discount_fen": line.discount_fen, "payable_fen": line.payable_fen}
                      for line in priced.quote.lines]}


def _campaigns_view(priced: Priced) -> list[dict]:
    plan, quote = priced.campaigns, priced.quote
    view = [{"campaign_id": offer.campaign_id, "kind": offer.kind, "item_id": line.item_id,
             "campaign_price_fen": offer.price_fen,
             "discount_fen": (line.unit_price_fen - offer.price_fen) * line.quantity}
            for line in quote.lines if (offer := plan.offers.get(line.item_id)) is not None]
    if plan.reduction is not None:
        view.append({"campaign_id": plan.reduction.campaign_id, "kind": "full_reduction",
                     "item_id": None, "campaign_price_fen": None,
                     "discount_fen": quote.full_reduction_fen})
    return view


def create_order(octx: OrderContext, user_id: int, basket: Basket, *,
                 contact: dict[str, str] | None = None, note: str = "",
                 now: dt.datetime | None = None) -> Order:
    """Place the order: priced on the server, stock, points, coupons and campaign stock
    reserved in the same transaction with who funds their discounts (``funding``), the
    ordered items taken out of the cart. OUT_OF_STOCK, POINTS_INSUFFICIENT,
    COUPON_NOT_USABLE, CAMPAIGN_SOLD_OUT, CAMPAIGN_LIMIT_REACHED, CAMPAIGN_BUDGET_EXHAUSTED
    (other orders spent a platform campaign's budget between pricing and taking it: a new
    quote leaves the campaign out), a group's seat refused (GROUP_FULL, GROUP_CLOSED,
    GROUP_ALREADY_JOINED) and the pricing errors change nothing. A group order closes
    unpaid no later than its group's deadline.

    On MySQL the transaction is pipelined: the order's INSERT goes with the read of its key,
    and its lines, the stock they take and the cart's DELETE go together (each a round trip
    before). A line out of stock or an order number taken meanwhile runs it again plainly,
    where they are answered as before."""
    now = now or utcnow()
    contact = contact or {}

    def place() -> Order:
        priced = price_basket(user_id, basket, now)
        quote = priced.quote
        order = _insert_order(
            user=user_id, merchant=priced.merchant, kind=priced.kind,
            items_fen=quote.items_fen, shipping_fen=quote.shipping_fen,
            campaign_discount_fen=quote.campaign_discount_fen,
            level_discount_fen=quote.level_discount_fen,
            member_day_discount_fen=quote.member_day_discount_fen,
            member_day_points_pct=quote.member_day_multiplier_pct,
            coupon_discount_fen=quote.coupon_discount_fen, points_used=quote.points_used,
            points_discount_fen=quote.points_discount_fen, total_fen=quote.total_fen,
            coupon_ids=json.dumps([c.coupon_id for c in priced.coupons]),
            discount_fen=quote.discount_fen, payable_fen=quote.payable_fen,
            earn_points=quote.earn_points, contact_name=contact.get("name", ""),
            contact_phone=contact.get("phone", ""), address=contact.get("address", ""),
            note=note, expires_at=_payment_deadline(octx, priced, now), created_at=now,
            updated_at=now)
        lines = [_NEW_LINE.create(order=order, item_id=line.item_id, kind=line.kind,
                                  name=line.name, unit_price_fen=line.unit_price_fen,
                                  quantity=line.quantity, amount_fen=line.amount_fen,
                                  discount_fen=line.discount_fen, payable_fen=line.payable_fen)
                 for line in quote.lines]
        points_debit = reservations.reserve(order, lines)
        campaign_funders = campaign_checkout.reserve(
            order.id, user_id, priced.merchant.id, priced.campaigns,
            [(line.item_id, line.quantity, line.unit_price_fen) for line in quote.lines],
            quote.full_reduction_fen, now) if priced.campaigns else []
        if priced.group is not None:
            campaign_groups.take_seat(priced.group, order.id, user_id, now)
        reserve_coupons(priced.coupons, order.order_no, now)
        funding.record_discounts(order, priced.coupons, points_debit, campaign_funders)
        (CartItem.delete().where(CartItem.user == user_id,
                                 CartItem.item.in_([line.item_id for line in lines])).execute())
        return order

    # Read before the transaction when this process has no fresh copy, not inside it.
    campaign_pricing.snapshot()
    return pipelined_transaction(place)


def _payment_deadline(octx: OrderContext, priced: Priced, now: dt.datetime) -> dt.datetime:
    """When the order closes unpaid: a group order no later than its group's deadline."""
    deadline = now + octx.payment_window
    return deadline if priced.group is None else min(deadline, priced.group.deadline)


# Run for every order placed: their SQL is built once (alliance.prepared).
_NEW_ORDER = PreparedInsert(Order)
_NEW_LINE = PreparedInsert(OrderLine)


def _insert_order(**fields) -> Order:
    """The order under a new number; a number taken meanwhile is refused by its unique index
    and another is drawn. MySQL and SQLite undo only the refused statement, not the
    transaction, so it needs no savepoint (two more statements for every order)."""
    for attempt in range(5):
        try:
            return _NEW_ORDER.create(order_no=new_order_no(), **fields)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")
