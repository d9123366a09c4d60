"""Campaigns in an order's transaction: taking a flash sale's stock and per-user quota, and
giving them back when the order will never be paid.

The orders work calls, inside its order transaction, after the items' stock was taken:
  1. ``reserve(order, plan, lines)``: each flash-sale line takes its units of the campaign
     stock (``stock_left >= n``, a guarded UPDATE of the campaign item's row, which also
     makes the orders of one campaign item take turns) and of the buyer's quota
     (``units + n <= per_user_limit``, a guarded UPDATE of the one row per user and
     campaign item, inserted on the first purchase); each campaign the order got is a
     ``campaign_use`` row; last, a platform campaign with a budget takes the order's
     discount from it (``alliance.campaigns.budget``, a guarded UPDATE of the campaign's
     row). CAMPAIGN_SOLD_OUT / CAMPAIGN_LIMIT_REACHED / CAMPAIGN_BUDGET_EXHAUSTED undo
     nothing themselves: the order's transaction rolls back.
  2. ``release(order_id)`` when it is cancelled or closed unpaid: each use not yet released
     is stamped ``released_at`` by a guarded UPDATE, and only then its units (and its
     discount, to the budget it came from) go back, so they go back once whoever calls it
     twice.
A refund gives no campaign stock or budget back: the units were sold at the campaign price
(but for a group buy's group that failed: nothing was sold, and ``group_expiry`` releases
the refunded orders' uses as an unpaid order's are).
"""
from __future__ import annotations

import datetime as dt

from peewee import IntegrityError

from alliance.campaigns import budget
from alliance.campaigns.errors import CampaignLimitReached, CampaignSoldOut
from alliance.campaigns.models import CampaignItem, CampaignQuota, CampaignUse
from alliance.campaigns.pricing import CampaignPlan
from alliance.db import utcnow


def reserve(order_id: int, user_id: int, merchant_id: int, plan: CampaignPlan,
            lines: list[tuple[int, int, int]], reduction_fen: int,
            now: dt.datetime | None = None) -> list[tuple[int | None, int]]:
    """Take what ``plan`` gives the order's ``lines`` ((item_id, quantity, list price)) and
    record each use; ``reduction_fen`` is the full reduction pricing applied. Answers who
    funds the order's campaign discount: [(funder merchant or None, fen)]."""
    now = now or utcnow()
    funded: dict[int | None, int] = {}
    for item_id, quantity, price in sorted(lines):
        offer = plan.offers.get(item_id)
        if offer is None:
            continue
        _take_stock(offer.campaign_item_id, offer.campaign_id, item_id, quantity,
                    offer.limited)
        if offer.per_user_limit is not None:
            _take_quota(offer.campaign_item_id, offer.campaign_id, item_id, user_id, quantity,
                        offer.per_user_limit)
        discount = (price - offer.price_fen) * quantity
        CampaignUse.create(campaign=offer.campaign_id, order_id=order_id, user_id=user_id,
                           merchant_id=merchant_id, funder_merchant_id=offer.funder_merchant_id,
                           campaign_item_id=offer.campaign_item_id, item_id=item_id,
                           units=quantity, unit_price_fen=offer.price_fen,
                           amount_fen=offer.price_fen * quantity, discount_fen=discount,
                           from_budget=offer.budgeted, created_at=now)
        funded[offer.funder_merchant_id] = funded.get(offer.funder_merchant_id, 0) + discount
    if plan.reduction is not None and reduction_fen > 0:
        funder = plan.reduction.funder_merchant_id
        CampaignUse.create(campaign=plan.reduction.campaign_id, order_id=order_id,
                           user_id=user_id, merchant_id=merchant_id, funder_merchant_id=funder,
                           amount_fen=plan.reduction_base_fen, discount_fen=reduction_fen,
                           from_budget=plan.reduction.budgeted, created_at=now)
        funded[funder] = funded.get(funder, 0) + reduction_fen
    budget.take(budget.spend(plan, lines, reduction_fen))
    return [(funder, fen) for funder, fen in funded.items() if fen > 0]


def _take_stock(campaign_item_id: int, campaign_id: int, item_id: int, quantity: int,
                limited: bool) -> None:
    if limited:
        taken = (CampaignItem.update(stock_left=CampaignItem.stock_left - quantity,
                                     sold=CampaignItem.sold + quantity)
                 .where(CampaignItem.id == campaign_item_id,
                        CampaignItem.stock_left >= quantity).execute())
        if taken != 1:
            raise CampaignSoldOut(details={"item_id": item_id, "campaign_id": campaign_id,
                                           "quantity": quantity})
    else:
        (CampaignItem.update(sold=CampaignItem.sold + quantity)
         .where(CampaignItem.id == campaign_item_id).execute())


def _take_quota(campaign_item_id: int, campaign_id: int, item_id: int, user_id: int,
                quantity: int, limit: int) -> None:
    """The user's units of the campaign item, at most ``limit``. The campaign item's row is
    locked by ``_take_stock`` in this transaction, so the user's orders of it take turns
    here: the row is either updated under its guard or inserted, never both at once."""
    refused = CampaignLimitReached(details={"item_id": item_id, "campaign_id": campaign_id,
                                            "per_user_limit": limit})
    added = (CampaignQuota.update(units=CampaignQuota.units + quantity)
             .where(CampaignQuota.campaign_item == campaign_item_id,
                    CampaignQuota.user_id == user_id,
                    CampaignQuota.units + quantity <= limit).execute())
    if added:
        return
    if quantity > limit:
        raise refused
    try:
        # A duplicate key undoes only the failed INSERT (SQLite and InnoDB): the row exists
        # and its guard refused, so the user is at the limit.
        CampaignQuota.create(campaign_item=campaign_item_id, user_id=user_id, units=quantity)
    except IntegrityError:
        raise refused from None


def release(order_id: int, now: dt.datetime | None = None) -> int:
    """The order will never be paid: its flash-sale units go back to the campaign stock and
    to the buyer's quota, and its discounts to the budgets they came from (once). The units
    given back."""
    now = now or utcnow()
    returned = 0
    to_budgets: dict[int, int] = {}
    uses = (CampaignUse.select().where(CampaignUse.order_id == order_id,
                                       CampaignUse.released_at.is_null())
            .order_by(CampaignUse.item_id, CampaignUse.id))
    for use in list(uses):
        released = (CampaignUse.update(released_at=now)
                    .where(CampaignUse.id == use.id, CampaignUse.released_at.is_null())
                    .execute())
        if not released:
            continue
        if use.from_budget:
            to_budgets[use.campaign_id] = to_budgets.get(use.campaign_id, 0) + use.discount_fen
        if use.campaign_item_id is None:
            continue
        (CampaignItem.update(stock_left=CampaignItem.stock_left + use.units,
                             sold=CampaignItem.sold - use.units)
         .where(CampaignItem.id == use.campaign_item_id).execute())
        (CampaignQuota.update(units=CampaignQuota.units - use.units)
         .where(CampaignQuota.campaign_item == use.campaign_item_id,
                CampaignQuota.user_id == use.user_id, CampaignQuota.units >= use.units)
         .execute())
        returned += use.units
    budget.give_back(to_budgets)
    return returned
