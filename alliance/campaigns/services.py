"""Campaign use cases that write; each owns its transaction.

Who runs a campaign decides who funds it: a merchant's staff (``merchant:marketing``) run
the merchant's own, which starts ``pending`` and runs only once an operator approved it
(PRODUCT: operators audit merchants' campaigns); operators (``admin:campaigns``) create
platform campaigns, approved at once and funded by the platform, which merchants join with
their items (``pending`` until an operator approves the join, unless the campaign needs no
audit of joins). Every write that changes what runs calls ``forget_running``.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from alliance.accounts.operators import record_audit
from alliance.campaigns.errors import CampaignNotFound, CampaignStateConflict
from alliance.campaigns.models import (APPROVED, ENDED, FULL_REDUCTION, GROUP_BUY,
                                       ITEM_KINDS, KINDS, PENDING, REJECTED, Campaign,
                                       CampaignItem, CampaignParticipant)
from alliance.campaigns.pricing import forget_running
from alliance.catalog.models import CatalogItem
from alliance.checks import BodyFields, refuse_unknown
from alliance.db import transaction, utcnow
from alliance.merchants.queries import forget_merchant_detail, get_approved_merchant

MAX_DAYS = 366
MAX_ITEMS = 50
MAX_TIERS = 5
MAX_FEN = 10 ** 9
GROUP_FIELDS = {"group_size": (2, 50), "group_hours": (1, 72)}  # group buy: people, hours
MERCHANT_EDITABLE = frozenset({"name", "description", "starts_at", "ends_at", "per_user_limit",
                               "tiers", "items", *GROUP_FIELDS})
PLATFORM_EDITABLE = frozenset({"name", "description", "starts_at", "ends_at", "per_user_limit",
                               "tiers", "budget_fen", "join_requires_approval", *GROUP_FIELDS})
BEFORE_START_ONLY = frozenset({"starts_at", "per_user_limit", "tiers", "items", *GROUP_FIELDS})
# The fields only some kinds have: any other kind refuses them.
KIND_FIELDS = {"tiers": {FULL_REDUCTION}, "per_user_limit": set(ITEM_KINDS),
               "items": set(ITEM_KINDS), "group_size": {GROUP_BUY}, "group_hours": {GROUP_BUY}}


FIELDS = BodyFields("活动参数有误")
_invalid, _text, _int = FIELDS.invalid, FIELDS.text, FIELDS.integer


def _time(body: dict, field: str) -> dt.datetime:
    return FIELDS.time(body, field, required=True)


def _window(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(days=MAX_DAYS):
        raise _invalid("ends_at", "range", "结束时间须晚于开始时间，且活动不超过 366 天")
    if ends_at <= now:
        raise _invalid("ends_at", "past", "结束时间须晚于现在")


def clean_tiers(value: Any) -> str:
    """Full-reduction tiers: 1..5 of {threshold_fen, discount_fen}, each saving less than
    its threshold (at least 1 fen is left to pay), higher thresholds saving more."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TIERS:
        raise _invalid("tiers", "length", "满减档位须为 1 到 5 档", min=1, max=MAX_TIERS)
    tiers = []
    for i, tier in enumerate(value):
        if not isinstance(tier, dict):
            raise _invalid(f"tiers[{i}]", "must be an object")
        threshold = _int(tier.get("threshold_fen"), f"tiers[{i}].threshold_fen", 2, MAX_FEN)
        off = _int(tier.get("discount_fen"), f"tiers[{i}].discount_fen", 1, threshold - 1)
        tiers.append((threshold, off))
    tiers.sort()
    for (t1, d1), (t2, d2) in zip(tiers, tiers[1:]):
        if t1 == t2 or d1 >= d2:
            raise _invalid("tiers", "order", "满减档位门槛须不同，门槛越高减得越多")
    return json.dumps([{"threshold_fen": t, "discount_fen": d} for t, d in tiers])


def clean_items(value: Any, merchant_id: int) -> list[dict]:
    """A flash sale's or group buy's items of ``merchant_id``: 1..50 of {item_id,
    campaign_price_fen (the flash or group price: 1 fen up to below the item's price),
    stock? (a campaign stock of its own)}."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
        raise _invalid("items", "length", "活动商品须为 1 到 50 个", min=1, max=MAX_ITEMS)
    cleaned: dict[int, dict] = {}
    for i, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise _invalid(f"items[{i}]", "must be an object")
        item_id = _int(entry.get("item_id"), f"items[{i}].item_id", 1, 2 ** 31 - 1)
        if item_id in cleaned:
            raise _invalid(f"items[{i}].item_id", "duplicate", "活动商品重复")
        stock = entry.get("stock")
        cleaned[item_id] = {"item_id": item_id, "price": entry.get("campaign_price_fen"),
                            "stock": None if stock is None else
                            _int(stock, f"items[{i}].stock", 1, 10 ** 7), "index": i}
    prices = dict(CatalogItem.select(CatalogItem.id, CatalogItem.price_fen)
                  .where(CatalogItem.id.in_(list(cleaned)), CatalogItem.merchant == merchant_id,
                         CatalogItem.status != "taken_down").tuples())
    for entry in cleaned.values():
        i = entry.pop("index")
        if entry["item_id"] not in prices:
            raise _invalid(f"items[{i}].item_id", "not found", "商品不存在或不属于本店")
        entry["price"] = _int(entry["price"], f"items[{i}].campaign_price_fen", 1,
                              prices[entry["item_id"]] - 1)
    return list(cleaned.values())


MERCHANT_CREATE_FIELDS = frozenset({"kind", "name", "description", "starts_at", "ends_at",
                                    "tiers", "per_user_limit", "items", *GROUP_FIELDS})
PLATFORM_CREATE_FIELDS = frozenset({"kind", "name", "description", "starts_at", "ends_at",
                                    "tiers", "per_user_limit", "budget_fen",
                                    "join_requires_approval", *GROUP_FIELDS})
JOIN_FIELDS = frozenset({"items"})


def _clean_new(body: dict, now: dt.datetime, merchant_id: int | None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise _invalid("body", "must be an object")
    refuse_unknown(body, PLATFORM_CREATE_FIELDS if merchant_id is None else MERCHANT_CREATE_FIELDS)
    kind = body.get("kind")
    if kind not in KINDS:
        raise _invalid("kind", "choice", choices=list(KINDS))
    fields: dict[str, Any] = {"kind": kind, "name": _text(body, "name", 64, True),
                              "description": _text(body, "description", 500, False) or "",
                              "starts_at": _time(body, "starts_at"),
                              "ends_at": _time(body, "ends_at")}
    _window(fields["starts_at"], fields["ends_at"], now)
    _refuse_other_kinds(kind, body)
    if kind == FULL_REDUCTION:
        fields["tiers"] = clean_tiers(body.get("tiers"))
    else:
        limit = body.get("per_user_limit")
        fields["per_user_limit"] = None if limit is None else _int(limit, "per_user_limit", 1, 99)
    if kind == GROUP_BUY:
        for name, (low, high) in GROUP_FIELDS.items():
            fields[name] = _int(body.get(name), name, low, high)
    if merchant_id is None:
        budget = body.get("budget_fen")
        fields["budget_fen"] = None if budget is None else _int(budget, "budget_fen", 1,
                                                                 10 ** 12)
        joins = body.get("join_requires_approval", True)
        if not isinstance(joins, bool):
            raise _invalid("join_requires_approval", "must be a boolean")
        fields["join_requires_approval"] = joins
    return fields


def _refuse_other_kinds(kind: str, body: dict) -> None:
    """A field of another kind (tiers of a flash sale, a group size of a full reduction)."""
    for name in sorted(set(body) & set(KIND_FIELDS)):
        if kind not in KIND_FIELDS[name]:
            raise _invalid(name, "kind", "该活动类型不支持此字段", kind=kind)


def campaign_changed(campaign: Campaign) -> None:
    """What runs and what merchants' pages show may change (in the current transaction)."""
    forget_running()
    forget_merchant_detail(campaign.merchant_id)


def _add_items(campaign: Campaign, participant: CampaignParticipant, items: list[dict]) -> None:
    for entry in items:
        CampaignItem.create(campaign=campaign, participant=participant,
                            merchant_id=participant.merchant_id, item_id=entry["item_id"],
                            campaign_price_fen=entry["price"], stock_total=entry["stock"],
                            stock_left=entry["stock"])


def create_merchant_campaign(body: dict, merchant_id: int, actor_id: int,
                             now: dt.datetime | None = None) -> Campaign:
    """Staff create their merchant's campaign: ``pending`` until an operator approves it.
    A flash sale or group buy names its items (``items``)."""
    now = now or utcnow()
    with transaction():
        get_approved_merchant(merchant_id)
        fields = _clean_new(body, now, merchant_id)
        items = (clean_items(body.get("items"), merchant_id) if fields["kind"] in ITEM_KINDS
                 else [])
        campaign = Campaign.create(**fields, merchant_id=merchant_id, status=PENDING,
                                   created_by_kind="user", created_by=actor_id, created_at=now,
                                   updated_at=now)
        participant = CampaignParticipant.create(campaign=campaign, merchant_id=merchant_id,
                                                 status=APPROVED, created_at=now)
        _add_items(campaign, participant, items)
        return campaign


def create_platform_campaign(body: dict, operator_id: int,
                             now: dt.datetime | None = None) -> Campaign:
    """An operator creates a platform campaign (funded by the platform), approved at once:
    it runs for the merchants whose joins are approved. Audited."""
    now = now or utcnow()
    with transaction():
        fields = _clean_new(body, now, None)
        campaign = Campaign.create(**fields, merchant_id=None, status=APPROVED,
                                   created_by_kind="operator", created_by=operator_id,
                                   reviewed_by=operator_id, reviewed_at=now, created_at=now,
                                   updated_at=now)
        record_audit(operator_id, "campaign.create", "campaign", campaign.id,
                     details={"name": campaign.name, "kind": campaign.kind})
        return campaign


def get_campaign(campaign_id: int, merchant_id: int | None = None, *,
                 platform: bool = False) -> Campaign:
    """The campaign of ``merchant_id`` (or a platform one with ``platform``); another's is
    CAMPAIGN_NOT_FOUND, as if it did not exist."""
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None or (platform and campaign.merchant_id is not None) or (
            merchant_id is not None and campaign.merchant_id != merchant_id):
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    return campaign


def _apply_changes(campaign: Campaign, changes: dict, allowed: frozenset,
                   now: dt.datetime) -> dict[str, Any]:
    if not isinstance(changes, dict) or not changes:
        raise _invalid("body", "empty", "没有要修改的内容")
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise _invalid(unknown[0], "not editable", "该字段不可修改", editable=sorted(allowed))
    if campaign.status == APPROVED and campaign.starts_at <= now and set(changes) & BEFORE_START_ONLY:
        field = sorted(set(changes) & BEFORE_START_ONLY)[0]
        raise CampaignStateConflict("活动已开始，不能修改此项", details={"field": field})
    _refuse_other_kinds(campaign.kind, changes)
    fields: dict[str, Any] = {}
    for name, length in (("name", 64), ("description", 500)):
        if name in changes:
            fields[name] = _text(changes, name, length, name == "name") or ""
    for name in ("starts_at", "ends_at"):
        if name in changes:
            fields[name] = _time(changes, name)
    if {"starts_at", "ends_at"} & set(fields):
        _window(fields.get("starts_at", campaign.starts_at),
                fields.get("ends_at", campaign.ends_at), now)
    if "tiers" in changes:
        fields["tiers"] = clean_tiers(changes["tiers"])
    if "per_user_limit" in changes:
        limit = changes["per_user_limit"]
        fields["per_user_limit"] = None if limit is None else _int(limit, "per_user_limit", 1, 99)
    if "budget_fen" in changes:
        budget = changes["budget_fen"]
        fields["budget_fen"] = None if budget is None else _int(budget, "budget_fen", 1, 10 ** 12)
    for name, (low, high) in GROUP_FIELDS.items():
        if name in changes:
            fields[name] = _int(changes[name], name, low, high)
    if "join_requires_approval" in changes:
        if not isinstance(changes["join_requires_approval"], bool):
            raise _invalid("join_requires_approval", "must be a boolean")
        fields["join_requires_approval"] = changes["join_requires_approval"]
    return fields


def update_merchant_campaign(campaign_id: int, merchant_id: int, changes: dict,
                             now: dt.datetime | None = None) -> Campaign:
    """Staff change their campaign before it starts (pending, rejected, or approved and not
    started): it goes back to ``pending`` for the operators' audit."""
    now = now or utcnow()
    with transaction():
        campaign = get_campaign(campaign_id, merchant_id)
        if campaign.status == ENDED or (campaign.status == APPROVED and campaign.starts_at <= now):
            raise CampaignStateConflict(details={"status": campaign.status})
        fields = _apply_changes(campaign, changes, MERCHANT_EDITABLE, now)
        items = clean_items(changes["items"], merchant_id) if "items" in changes else None
        moved = (Campaign.update(**fields, status=PENDING, reason="", reviewed_by=None,
                                 reviewed_at=None, updated_at=now)
                 .where(Campaign.id == campaign.id, Campaign.status == campaign.status).execute())
        if not moved:
            raise CampaignStateConflict(details={"status": "changed meanwhile"})
        if items is not None:
            participant = CampaignParticipant.get(CampaignParticipant.campaign == campaign.id,
                                                  CampaignParticipant.merchant_id == merchant_id)
            CampaignItem.delete().where(CampaignItem.campaign == campaign.id).execute()
            _add_items(campaign, participant, items)
        campaign_changed(campaign)
        return Campaign.get_by_id(campaign.id)


def update_platform_campaign(campaign_id: int, operator_id: int, changes: dict,
                             now: dt.datetime | None = None) -> Campaign:
    """An operator changes a platform campaign that has not ended (its terms only before it
    starts; its name, description, end, budget at any time). Audited."""
    now = now or utcnow()
    with transaction():
        campaign = get_campaign(campaign_id, platform=True)
        if campaign.status == ENDED:
            raise CampaignStateConflict(details={"status": campaign.status})
        fields = _apply_changes(campaign, changes, PLATFORM_EDITABLE, now)
        Campaign.update(**fields, updated_at=now).where(Campaign.id == campaign.id).execute()
        record_audit(operator_id, "campaign.update", "campaign", campaign.id, details=changes)
        campaign_changed(campaign)
        return Campaign.get_by_id(campaign.id)


def end_campaign(campaign_id: int, *, merchant_id: int | None = None,
                 operator_id: int | None = None, now: dt.datetime | None = None) -> Campaign:
    """End a campaign now (its merchant's staff end their own, operators any): it stops
    running at once; orders placed under it keep their prices."""
    now = now or utcnow()
    with transaction():
        campaign = get_campaign(campaign_id, merchant_id)
        ended = (Campaign.update(status=ENDED, updated_at=now,
                                 ends_at=min(campaign.ends_at, max(now, campaign.starts_at)))
                 .where(Campaign.id == campaign.id, Campaign.status != ENDED).execute())
        if not ended:
            raise CampaignStateConflict(details={"status": ENDED})
        if operator_id is not None:
            record_audit(operator_id, "campaign.end", "campaign", campaign.id)
        campaign_changed(campaign)
        return Campaign.get_by_id(campaign.id)


def join_campaign(campaign_id: int, merchant_id: int, body: dict,
                  now: dt.datetime | None = None) -> CampaignParticipant:
    """A merchant joins a platform campaign that has not ended, with its items and their
    campaign prices for a flash sale; a rejected join may be sent again. Pending until an
    operator approves it, unless the campaign needs no audit of joins."""
    now = now or utcnow()
    if not isinstance(body, dict):
        raise _invalid("body", "must be an object")
    refuse_unknown(body, JOIN_FIELDS)
    with transaction():
        get_approved_merchant(merchant_id)
        campaign = get_campaign(campaign_id, platform=True)
        if campaign.status != APPROVED or campaign.ends_at <= now:
            raise CampaignStateConflict(details={"status": ENDED})
        items = (clean_items(body.get("items"), merchant_id) if campaign.kind in ITEM_KINDS
                 else [])
        status = PENDING if campaign.join_requires_approval else APPROVED
        participant = CampaignParticipant.get_or_none(
            CampaignParticipant.campaign == campaign.id,
            CampaignParticipant.merchant_id == merchant_id)
        if participant is None:
            participant = CampaignParticipant.create(campaign=campaign, merchant_id=merchant_id,
                                                     status=status, created_at=now)
        else:
            moved = (CampaignParticipant.update(status=status, reason="", reviewed_by=None,
                                                reviewed_at=None, created_at=now)
                     .where(CampaignParticipant.id == participant.id,
                            CampaignParticipant.status.in_([PENDING, REJECTED])).execute())
            if not moved:
                raise CampaignStateConflict("已报名此活动", details={"status": participant.status})
            CampaignItem.delete().where(CampaignItem.participant == participant.id).execute()
        _add_items(campaign, participant, items)
        if status == APPROVED:
            forget_running()
            forget_merchant_detail(merchant_id)
        return CampaignParticipant.get_by_id(participant.id)
