"""What the running campaigns take off an order (rule 2 of ``alliance.orders.pricing``).

Every order placed asks which campaigns run for its items, and most orders meet none: the
approved campaigns that have not ended, with their approved participants and flash-sale
items, are read whole into a per-process snapshot (``alliance.infra.localcache``; three
reads, once a minute at most), and each order looks its items up there, in memory. Every
write that changes what runs (approval, a join approved, an end, a change) calls
``forget_running`` in its transaction: the writing process reads afresh at its next order,
the others within about a second. What is left of a campaign stock is never cached: the
order takes it by a guarded UPDATE (``alliance.campaigns.checkout``).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from alliance.campaigns.errors import CampaignLimitReached
from alliance.campaigns.models import (APPROVED, FLASH_SALE, FULL_REDUCTION, Campaign,
                                       CampaignItem, CampaignParticipant)
from alliance.db import utcnow
from alliance.infra.localcache import LocalCache

SNAPSHOT_SECONDS = 60.0
_RUNNING = LocalCache(SNAPSHOT_SECONDS, max_entries=1, name="campaigns_running")
_KEY = "all"


@dataclass(frozen=True)
class FlashOffer:
    """A flash-sale price of one item at one merchant (or, ``kind`` group_buy, the group
    price an order of a group gets: ``alliance.campaigns.groups``)."""

    campaign_id: int
    campaign_item_id: int
    merchant_id: int
    item_id: int
    price_fen: int
    limited: bool  # has a campaign stock of its own
    per_user_limit: int | None
    funder_merchant_id: int | None  # None: the platform
    starts_at: dt.datetime
    ends_at: dt.datetime
    budgeted: bool = False  # a platform campaign with a budget (alliance.campaigns.budget)
    kind: str = FLASH_SALE


@dataclass(frozen=True)
class Reduction:
    """A full reduction a merchant takes part in: tiers (threshold, discount), ascending."""

    campaign_id: int
    merchant_id: int
    tiers: tuple[tuple[int, int], ...]
    funder_merchant_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    budgeted: bool = False


@dataclass(frozen=True)
class Snapshot:
    offers: dict[int, list[FlashOffer]]  # item id ->
    reductions: dict[int, list[Reduction]]  # merchant id ->


@dataclass(frozen=True)
class CampaignPlan:
    """The campaigns an order gets: a flash offer per item, and the full reduction."""

    offers: dict[int, FlashOffer] = field(default_factory=dict)
    reduction: Reduction | None = None
    reduction_fen: int = 0
    reduction_base_fen: int = 0  # what the items cost at campaign prices

    @property
    def prices(self) -> dict[int, int]:
        return {item_id: offer.price_fen for item_id, offer in self.offers.items()}

    @property
    def budgeted(self) -> bool:
        """Whether a campaign it applies has a budget to take its discount from."""
        return (any(offer.budgeted for offer in self.offers.values())
                or (self.reduction is not None and self.reduction.budgeted))

    def __bool__(self) -> bool:
        return bool(self.offers) or self.reduction is not None


NO_CAMPAIGNS = CampaignPlan()


def forget_running() -> None:
    """What runs changes in the current transaction: every process reads it again once it
    commits (this one at once, the others within about a second)."""
    _RUNNING.forget()


def running_now(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> bool:
    return starts_at <= now < ends_at


def snapshot() -> Snapshot:
    """The approved campaigns that have not ended, as orders look them up."""
    value = _RUNNING.get(_KEY)
    if value is None:
        ticket = _RUNNING.ticket()
        value = _load(utcnow())
        _RUNNING.put(_KEY, value, ticket)
    return value


def _load(now: dt.datetime) -> Snapshot:
    rows = list(CampaignParticipant.select(CampaignParticipant, Campaign).join(Campaign)
                .where(Campaign.status == APPROVED, Campaign.ends_at > now,
                       CampaignParticipant.status == APPROVED))
    offers: dict[int, list[FlashOffer]] = {}
    reductions: dict[int, list[Reduction]] = {}
    flash = {row.id: row.campaign for row in rows if row.campaign.kind == FLASH_SALE}
    for row in rows:
        campaign = row.campaign
        if campaign.kind == FULL_REDUCTION:
            tiers = tuple(sorted((t["threshold_fen"], t["discount_fen"])
                                 for t in campaign.tier_list))
            reductions.setdefault(row.merchant_id, []).append(Reduction(
                campaign.id, row.merchant_id, tiers, campaign.merchant_id, campaign.starts_at,
                campaign.ends_at, _budgeted(campaign)))
    if flash:
        for item in CampaignItem.select().where(CampaignItem.participant.in_(list(flash))):
            campaign = flash[item.participant_id]
            offers.setdefault(item.item_id, []).append(FlashOffer(
                campaign.id, item.id, item.merchant_id, item.item_id, item.campaign_price_fen,
                item.stock_total is not None, campaign.per_user_limit, campaign.merchant_id,
                campaign.starts_at, campaign.ends_at, _budgeted(campaign)))
    return Snapshot(offers, reductions)


def _budgeted(campaign: Campaign) -> bool:
    return campaign.merchant_id is None and campaign.budget_fen is not None


def offer_for(item_id: int, merchant_id: int, price_fen: int, now: dt.datetime,
              excluded: frozenset[int] = frozenset()) -> FlashOffer | None:
    """The running flash offer of an item below its price: the lowest price (then the
    earliest campaign) when several run; none of the campaigns ``excluded``."""
    candidates = [o for o in snapshot().offers.get(item_id, ())
                  if o.merchant_id == merchant_id and o.price_fen < price_fen
                  and o.campaign_id not in excluded
                  and running_now(o.starts_at, o.ends_at, now)]
    return min(candidates, key=lambda o: (o.price_fen, o.campaign_id), default=None)


def best_tier(tiers: tuple[tuple[int, int], ...], amount_fen: int) -> int:
    """The largest discount among the tiers whose threshold ``amount_fen`` reaches (0)."""
    return max((off for threshold, off in tiers if amount_fen >= threshold), default=0)


def plan(merchant_id: int, lines: list[tuple[int, int, int]], now: dt.datetime,
         excluded: frozenset[int] = frozenset(),
         fixed: dict[int, FlashOffer] | None = None) -> CampaignPlan:
    """The campaigns that apply to ``lines`` ((item_id, quantity, unit price)) of an order
    at ``merchant_id``, none of those ``excluded`` (their budget is spent); ``fixed``
    ({item_id: offer}, a group price) replaces whatever flash sale runs for its items:
    CAMPAIGN_LIMIT_REACHED when one line asks for more units than a
    flash sale's per-user limit (what the user bought before is counted when the order
    takes its quota)."""
    data = snapshot()
    fixed = fixed or {}
    if not data.offers and not data.reductions and not fixed:
        return NO_CAMPAIGNS
    offers: dict[int, FlashOffer] = {}
    for item_id, quantity, price in lines:
        offer = fixed.get(item_id) or offer_for(item_id, merchant_id, price, now, excluded)
        if offer is None:
            continue
        if offer.per_user_limit is not None and quantity > offer.per_user_limit:
            raise CampaignLimitReached(details={"item_id": item_id, "campaign_id": offer.campaign_id,
                                                "per_user_limit": offer.per_user_limit})
        offers[item_id] = offer
    base = sum((offers[i].price_fen if i in offers else price) * quantity
               for i, quantity, price in lines)
    best: tuple[int, int, Reduction] | None = None
    for reduction in data.reductions.get(merchant_id, ()):
        if (not running_now(reduction.starts_at, reduction.ends_at, now)
                or reduction.campaign_id in excluded):
            continue
        off = best_tier(reduction.tiers, base)
        if off > 0 and (best is None or (off, -reduction.campaign_id) > best[:2]):
            best = (off, -reduction.campaign_id, reduction)
    if best is None:
        return CampaignPlan(offers) if offers else NO_CAMPAIGNS
    return CampaignPlan(offers, best[2], best[0], base)
