"""The budget of a platform campaign: the most its discounts may give away, enforced as
campaign stock is.

A platform campaign with a ``budget_fen`` (None: no limit) keeps ``budget_used_fen``, the
discounts its orders took while it had one. Pricing leaves out a campaign whose remaining
budget, read fresh (never cached), cannot cover what it would take off the order, so the
quote and the order agree (``uncovered``); the order then takes its discount by one
guarded UPDATE in its transaction (``take``: ``budget_used_fen + d <= budget_fen``), which
refuses with CAMPAIGN_BUDGET_EXHAUSTED only when other orders spent the rest between
pricing and taking; an order never paid gives it back once (``give_back``, behind the
``campaign_use`` rows' guarded ``released_at``). A refund gives nothing back: the discount
was spent, as the units sold at a campaign price were.

Whether a campaign has a budget comes from the running snapshot
(``alliance.campaigns.pricing``), which a change of the budget forgets: a budget set on a
running campaign counts the orders from then (about a second later in other processes).
Campaigns without one take no lock: their orders do not queue on the campaign's row.
"""
from __future__ import annotations

from alliance.campaigns.errors import CampaignBudgetExhausted
from alliance.campaigns.models import Campaign
from alliance.campaigns.pricing import CampaignPlan


def spend(plan: CampaignPlan, lines: list[tuple[int, int, int]],
          reduction_fen: int) -> dict[int, int]:
    """What each campaign of ``plan`` with a budget takes off ``lines`` ((item_id, quantity,
    list price)) with the full reduction ``reduction_fen`` as priced: {campaign id: fen}."""
    spent: dict[int, int] = {}
    for item_id, quantity, price in lines:
        offer = plan.offers.get(item_id)
        if offer is not None and offer.budgeted:
            spent[offer.campaign_id] = (spent.get(offer.campaign_id, 0)
                                        + (price - offer.price_fen) * quantity)
    if plan.reduction is not None and plan.reduction.budgeted:
        campaign_id = plan.reduction.campaign_id
        spent[campaign_id] = spent.get(campaign_id, 0) + reduction_fen
    return {campaign_id: fen for campaign_id, fen in spent.items() if fen > 0}


def uncovered(spent: dict[int, int]) -> set[int]:
    """The campaigns of ``spent`` whose remaining budget, read now, cannot cover it."""
    if not spent:
        return set()
    rows = (Campaign.select(Campaign.id, Campaign.budget_fen, Campaign.budget_used_fen)
            .where(Campaign.id.in_(list(spent))).tuples())
    return {campaign_id for campaign_id, budget, used in rows
            if budget is not None and used + spent[campaign_id] > budget}


def take(spent: dict[int, int]) -> None:
    """Take ``spent`` from the budgets, in campaign order (one lock order: no deadlocks), in
    the caller's transaction: CAMPAIGN_BUDGET_EXHAUSTED when one cannot cover its part (the
    caller's transaction rolls back what the others took)."""
    for campaign_id, fen in sorted(spent.items()):
        taken = (Campaign.update(budget_used_fen=Campaign.budget_used_fen + fen)
                 .where(Campaign.id == campaign_id,
                        Campaign.budget_fen.is_null()
                        | (Campaign.budget_used_fen + fen <= Campaign.budget_fen))
                 .execute())
        if taken != 1:
            raise CampaignBudgetExhausted(details={"campaign_id": campaign_id,
                                                   "discount_fen": fen})


def give_back(returned: dict[int, int]) -> None:
    """Put ``returned`` back into the budgets (the caller gives each part back once)."""
    for campaign_id, fen in sorted(returned.items()):
        (Campaign.update(budget_used_fen=Campaign.budget_used_fen - fen)
         .where(Campaign.id == campaign_id, Campaign.budget_used_fen >= fen).execute())
