"""Reads of campaigns: what consumers see (running and upcoming, a campaign's items with
their campaign price and what is left, its tiers), the merchant page's section, the lists
of merchants' staff and operators, and a campaign's effect from paid orders."""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, fn

from alliance.campaigns.errors import CampaignNotFound
from alliance.campaigns.group_queries import group_effect
from alliance.campaigns.models import (APPROVED, CAMPAIGN_STATUSES, GROUP_BUY, ITEM_KINDS, KINDS,
                                       PARTICIPANT_STATUSES,
                                       Campaign, CampaignGroup, CampaignItem, CampaignParticipant,
                                       CampaignUse)
from alliance.campaigns.pricing import offer_for, running_now
from alliance.catalog.models import CatalogItem
from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant
from alliance.merchants.queries import register_detail_section
from alliance.orders.models import REFUNDED, Order
from alliance.paging import newest_first
from alliance.referrals.models import ReferralAttribution
from alliance.referrals.services import CONVERTED

MAX_SECTION_CAMPAIGNS = 10


def _state(campaign: Campaign, now: dt.datetime) -> str:
    if campaign.status != APPROVED:
        return campaign.status
    if now < campaign.starts_at:
        return "upcoming"
    return "running" if now < campaign.ends_at else "ended"


def campaign_view(campaign: Campaign, now: dt.datetime | None = None) -> dict:
    """A campaign as anyone sees it: its terms, window, who runs and funds it."""
    now = now or utcnow()
    return {"id": campaign.id, "kind": campaign.kind, "name": campaign.name,
            "description": campaign.description,
            "funded_by": "platform" if campaign.merchant_id is None else "merchant",
            "merchant_id": campaign.merchant_id,
            "starts_at": to_local_iso(campaign.starts_at),
            "ends_at": to_local_iso(campaign.ends_at), "state": _state(campaign, now),
            "per_user_limit": campaign.per_user_limit, "tiers": campaign.tier_list,
            "group_size": campaign.group_size, "group_hours": campaign.group_hours}


def staff_campaign_view(campaign: Campaign) -> dict:
    """A campaign as its merchant's staff and operators see it: its audit state too."""
    return {**campaign_view(campaign), "status": campaign.status, "reason": campaign.reason,
            **_budget(campaign),
            "join_requires_approval": campaign.join_requires_approval,
            "reviewed_at": to_local_iso(campaign.reviewed_at),
            "created_at": to_local_iso(campaign.created_at),
            "updated_at": to_local_iso(campaign.updated_at)}


def _budget(campaign: Campaign) -> dict:
    """A platform campaign's budget, what its orders took (unpaid ones included, until they
    are cancelled) and what is left (None: no budget)."""
    budget = campaign.budget_fen
    return {"budget_fen": budget, "budget_used_fen": campaign.budget_used_fen,
            "budget_left_fen": None if budget is None
            else max(0, budget - campaign.budget_used_fen)}


def participant_view(participant: CampaignParticipant, name: str | None = None) -> dict:
    return {"merchant_id": participant.merchant_id, "merchant_name": name,
            "status": participant.status, "reason": participant.reason,
            "created_at": to_local_iso(participant.created_at),
            "reviewed_at": to_local_iso(participant.reviewed_at)}


def _items(campaign_id: int, *, approved_only: bool,
           merchant_id: int | None = None) -> list[dict]:
    """A flash sale's or group buy's items with their price, campaign (flash or group)
    price and what is left (the campaign stock, else the item's own stock)."""
    query = (CampaignItem.select(CampaignItem, CatalogItem.name, CatalogItem.price_fen,
                                 CatalogItem.stock, CatalogItem.status,
                                 CampaignParticipant.status)
             .join(CampaignParticipant).switch(CampaignItem)
             .join(CatalogItem, on=(CatalogItem.id == CampaignItem.item_id))
             .where(CampaignItem.campaign == campaign_id).order_by(CampaignItem.id))
    if approved_only:
        query = query.where(CampaignParticipant.status == APPROVED,
                            CatalogItem.status == "on_shelf")
    if merchant_id is not None:
        query = query.where(CampaignItem.merchant_id == merchant_id)
    views = []
    for row in query.objects():
        remaining = row.stock if row.stock_left is None else min(row.stock_left, row.stock)
        views.append({"item_id": row.item_id, "merchant_id": row.merchant_id, "name": row.name,
                      "price_fen": row.price_fen, "campaign_price_fen": row.campaign_price_fen,
                      "stock_total": row.stock_total, "remaining_stock": max(0, remaining),
                      "sold": row.sold})
    return views


def _public(campaign_id: int) -> Campaign:
    campaign = Campaign.get_or_none(Campaign.id == campaign_id, Campaign.status == APPROVED)
    if campaign is None:
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    return campaign


def open_campaigns(kind: str | None, cursor: str | None, limit: int) -> dict:
    """Consumers: the approved platform and merchant campaigns running or upcoming, newest
    first."""
    now = utcnow()
    query = Campaign.select().where(Campaign.status == APPROVED, Campaign.ends_at > now)
    if kind is not None:
        query = query.where(Campaign.kind == _choice(kind, "kind", KINDS))
    rows, next_cursor = newest_first(query, Campaign.id, cursor, limit)
    return {"items": [campaign_view(c, now) for c in rows], "next_cursor": next_cursor}


def public_campaign(campaign_id: int) -> dict:
    """Consumers: one approved campaign with its items (flash sale, group buy: their
    group price) or its tiers and the merchants it runs at (full reduction)."""
    campaign = _public(campaign_id)
    view = campaign_view(campaign)
    if campaign.kind in ITEM_KINDS:
        view["items"] = _items(campaign.id, approved_only=True)
    rows = (CampaignParticipant.select(CampaignParticipant.merchant_id, Merchant.name)
            .join(Merchant, on=(Merchant.id == CampaignParticipant.merchant_id))
            .where(CampaignParticipant.campaign == campaign.id,
                   CampaignParticipant.status == APPROVED, Merchant.status == "approved")
            .order_by(CampaignParticipant.id).tuples())
    view["merchants"] = [{"merchant_id": m, "name": name} for m, name in rows]
    return view


def merchant_section(merchant: Merchant, now: dt.datetime) -> tuple[list[dict], dt.datetime | None]:
    """The merchant page's ``campaigns``: the campaigns running there now with its items'
    campaign prices; and when the next one starts or ends."""
    rows = list(Campaign.select().join(CampaignParticipant)
                .where(CampaignParticipant.merchant_id == merchant.id,
                       CampaignParticipant.status == APPROVED, Campaign.status == APPROVED,
                       Campaign.ends_at > now)
                .order_by(Campaign.starts_at, Campaign.id).limit(MAX_SECTION_CAMPAIGNS))
    running = [c for c in rows if running_now(c.starts_at, c.ends_at, now)]
    section = []
    for campaign in running:
        view = campaign_view(campaign, now)
        if campaign.kind in ITEM_KINDS:
            view["items"] = [{k: item[k] for k in ("item_id", "name", "price_fen",
                                                   "campaign_price_fen")}
                             for item in _items(campaign.id, approved_only=True,
                                                merchant_id=merchant.id)]
        section.append(view)
    changes = [c.ends_at for c in running] + [c.starts_at for c in rows if c.starts_at > now]
    return section, min(changes, default=None)


register_detail_section("campaigns", merchant_section)


def item_campaign(item: CatalogItem) -> dict | None:
    """The flash sale running for an item now (consumers' item view), or None."""
    return item_campaigns([item]).get(item.id)


def item_campaigns(items: list[CatalogItem]) -> dict[int, dict]:
    """item id -> the flash sale running for it now, for those of ``items`` that have one
    (consumers' item views and lists): the offers come from the running campaigns'
    snapshot, what is left of their campaign stocks from one query."""
    now = utcnow()
    offers = {item.id: offer for item in items
              if (offer := offer_for(item.id, item.merchant_id, item.price_fen, now))}
    if not offers:
        return {}
    left = dict(CampaignItem.select(CampaignItem.id, CampaignItem.stock_left)
                .where(CampaignItem.id.in_([o.campaign_item_id for o in offers.values()]))
                .tuples())
    stock = {item.id: item.stock for item in items}
    views = {}
    for item_id, offer in offers.items():
        remaining = left.get(offer.campaign_item_id)
        views[item_id] = {
            "campaign_id": offer.campaign_id, "campaign_price_fen": offer.price_fen,
            "remaining_stock": (stock[item_id] if remaining is None
                                else max(0, min(remaining, stock[item_id]))),
            "per_user_limit": offer.per_user_limit, "ends_at": to_local_iso(offer.ends_at)}
    return views


def _choice(value: str, field: str, choices: tuple) -> str:
    if value not in choices:
        raise ValidationFailed(f"参数 {field} 取值不合法",
                               details={"field": field, "issue": "choice", "choices": list(choices)})
    return value


def merchant_campaigns(merchant_id: int, status: str | None, cursor: str | None,
                       limit: int) -> dict:
    """Staff: the merchant's own campaigns, newest first."""
    query = Campaign.select().where(Campaign.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Campaign.status == _choice(status, "status", CAMPAIGN_STATUSES))
    rows, next_cursor = newest_first(query, Campaign.id, cursor, limit)
    return {"items": [staff_campaign_view(c) for c in rows], "next_cursor": next_cursor}


def joinable_campaigns(merchant_id: int, cursor: str | None, limit: int) -> dict:
    """Staff: the platform campaigns that have not ended, with the merchant's join."""
    query = Campaign.select().where(Campaign.merchant_id.is_null(), Campaign.status == APPROVED,
                                    Campaign.ends_at > utcnow())
    rows, next_cursor = newest_first(query, Campaign.id, cursor, limit)
    joins = {p.campaign_id: p for p in CampaignParticipant.select().where(
        CampaignParticipant.campaign.in_([c.id for c in rows] or [0]),
        CampaignParticipant.merchant_id == merchant_id)}
    return {"items": [{**campaign_view(c),
                       "participation": (participant_view(joins[c.id]) if c.id in joins
                                         else None)} for c in rows],
            "next_cursor": next_cursor}


def merchant_campaign(campaign_id: int, merchant_id: int) -> dict:
    """Staff: their own campaign, or a platform one (with their join); another merchant's
    is CAMPAIGN_NOT_FOUND."""
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None or campaign.merchant_id not in (None, merchant_id) or (
            campaign.merchant_id is None and campaign.status != APPROVED):
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    view = staff_campaign_view(campaign)
    if campaign.merchant_id is None:
        for name in ("budget_fen", "budget_used_fen", "budget_left_fen"):
            view.pop(name)
        join = CampaignParticipant.get_or_none(CampaignParticipant.campaign == campaign.id,
                                               CampaignParticipant.merchant_id == merchant_id)
        view["participation"] = participant_view(join) if join else None
    if campaign.kind in ITEM_KINDS:
        view["items"] = _items(campaign.id, approved_only=False, merchant_id=merchant_id)
    return view


def admin_campaigns(owner: str | None, status: str | None, cursor: str | None,
                    limit: int) -> dict:
    """Operators: every campaign, newest first; ``owner`` platform or merchant."""
    query = Campaign.select()
    if owner is not None:
        _choice(owner, "owner", ("platform", "merchant"))
        query = query.where(Campaign.merchant_id.is_null() if owner == "platform"
                            else Campaign.merchant_id.is_null(False))
    if status is not None:
        query = query.where(Campaign.status == _choice(status, "status", CAMPAIGN_STATUSES))
    rows, next_cursor = newest_first(query, Campaign.id, cursor, limit)
    names = _names({c.merchant_id for c in rows if c.merchant_id is not None})
    return {"items": [{**staff_campaign_view(c), "merchant_name": names.get(c.merchant_id)}
                      for c in rows], "next_cursor": next_cursor}


def admin_joins(status: str | None, cursor: str | None, limit: int) -> dict:
    """Operators: merchants' joins of platform campaigns, newest first (``status=pending``
    is the review queue), each with its campaign's id, name and kind."""
    query = (CampaignParticipant.select(CampaignParticipant, Campaign.id, Campaign.name,
                                        Campaign.kind)
             .join(Campaign).where(Campaign.merchant_id.is_null()))
    if status is not None:
        query = query.where(CampaignParticipant.status
                            == _choice(status, "status", PARTICIPANT_STATUSES))
    rows, next_cursor = newest_first(query, CampaignParticipant.id, cursor, limit)
    names = _names({p.merchant_id for p in rows})
    return {"items": [{**participant_view(p, names.get(p.merchant_id)),
                       "campaign_id": p.campaign.id, "campaign_name": p.campaign.name,
                       "campaign_kind": p.campaign.kind} for p in rows],
            "next_cursor": next_cursor}


def _names(merchant_ids: set[int]) -> dict[int, str]:
    if not merchant_ids:
        return {}
    return dict(Merchant.select(Merchant.id, Merchant.name)
                .where(Merchant.id.in_(list(merchant_ids))).tuples())


def admin_campaign(campaign_id: int) -> dict:
    """Operators: a campaign with its participants (joins) and items."""
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None:
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    view = staff_campaign_view(campaign)
    participants = list(CampaignParticipant.select()
                        .where(CampaignParticipant.campaign == campaign.id)
                        .order_by(CampaignParticipant.id))
    names = _names({p.merchant_id for p in participants} | (
        {campaign.merchant_id} if campaign.merchant_id else set()))
    view["merchant_name"] = names.get(campaign.merchant_id)
    view["participants"] = [participant_view(p, names.get(p.merchant_id)) for p in participants]
    if campaign.kind in ITEM_KINDS:
        view["items"] = _items(campaign.id, approved_only=False)
    return view


def effect(campaign_id: int, merchant_id: int | None = None) -> dict:
    """What a campaign brought, from its orders that were paid and not refunded in full
    (of one merchant's, when given): ``participants`` (distinct paying buyers), ``orders``,
    ``units`` (flash-sale units), ``sales_fen`` (the items it applied to, at campaign
    prices) and ``discount_fen`` (what it took off); for operators, its budget, what all its
    orders took from it (``budget_used_fen``: unpaid and refunded ones too) and what is
    left; for a group buy, its ``groups`` (``group_queries.group_effect``)."""
    uses = (CampaignUse.select(fn.COUNT(fn.DISTINCT(CampaignUse.user_id)),
                               fn.COUNT(fn.DISTINCT(CampaignUse.order_id)),
                               fn.COALESCE(fn.SUM(CampaignUse.units), 0),
                               fn.COALESCE(fn.SUM(CampaignUse.amount_fen), 0),
                               fn.COALESCE(fn.SUM(CampaignUse.discount_fen), 0))
            .join(Order, JOIN.INNER, on=(Order.id == CampaignUse.order_id))
            .where(CampaignUse.campaign == campaign_id, Order.paid_at.is_null(False),
                   Order.status != REFUNDED))
    if merchant_id is not None:
        uses = uses.where(CampaignUse.merchant_id == merchant_id)
    buyers, orders, units, sales, discount = uses.tuples().first()
    campaign = Campaign.get_by_id(campaign_id)
    view = {"campaign_id": campaign_id, "participants": buyers, "orders": orders,
            "units": int(units), "sales_fen": int(sales), "discount_fen": int(discount),
            **(_budget(campaign) if merchant_id is None else
               {"budget_fen": None, "budget_used_fen": None, "budget_left_fen": None})}
    if campaign.kind == GROUP_BUY:
        view["groups"] = group_effect(campaign_id, merchant_id)
    view["shares"] = _share_effect(campaign_id)
    return view


def _share_effect(campaign_id: int) -> dict:
    """The consumers that share cards of the campaign (or of its groups) brought: first
    touched by one (``new_consumers``), and of them those whose first paid order came inside
    the window (``converted``)."""
    groups = CampaignGroup.select(CampaignGroup.id).where(CampaignGroup.campaign == campaign_id)
    attribution = ReferralAttribution
    counts = dict(attribution.select(attribution.status, fn.COUNT(attribution.id))
                  .where(((attribution.share_kind == "campaign")
                          & (attribution.share_id == campaign_id))
                         | ((attribution.share_kind == "group_buy")
                            & attribution.share_id.in_(groups)))
                  .group_by(attribution.status).tuples())
    return {"new_consumers": sum(counts.values()), "converted": counts.get(CONVERTED, 0)}
