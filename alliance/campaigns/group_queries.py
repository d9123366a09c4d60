"""Reads of group buys' groups: the public view a member shares, the open groups of a
campaign's item a consumer may join, a consumer's own groups, the groups of a campaign for
its merchants' staff and operators, and what the groups came to (a campaign's effect)."""
from __future__ import annotations

import datetime as dt

from peewee import fn

from alliance.accounts.models import User
from alliance.campaigns.errors import CampaignNotFound, GroupNotFound
from alliance.campaigns.models import (APPROVED, GROUP_BUY, GROUP_OPEN, GROUP_STATUSES,
                                       SEAT_RELEASED, Campaign, CampaignGroup,
                                       CampaignGroupMember, CampaignItem, CampaignParticipant)
from alliance.catalog.models import CatalogItem
from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.errors import ValidationFailed
from alliance.orders.models import REFUND_GROUP_FAILED, REFUND_SUCCEEDED, Order, Refund
from alliance.paging import newest_first

MAX_MEMBERS_SHOWN = 50


def mask_nickname(nickname: str) -> str:
    """A member as others see them: the first character of the nickname, then stars."""
    nickname = (nickname or "").strip()
    return f"{nickname[0]}**" if nickname else "微信用户"


def _joinable(group: CampaignGroup, now: dt.datetime) -> bool:
    return (group.status == GROUP_OPEN and group.deadline > now
            and group.seats_taken < group.group_size)


def group_view(group: CampaignGroup, now: dt.datetime | None = None) -> dict:
    """A group as anyone sees it (without its members)."""
    now = now or utcnow()
    return {"id": group.id, "campaign_id": group.campaign_id, "item_id": group.item_id,
            "merchant_id": group.merchant_id, "group_size": group.group_size,
            "joined": group.seats_taken, "paid": group.paid_count,
            "seats_left": max(0, group.group_size - group.seats_taken),
            "status": group.status, "joinable": _joinable(group, now),
            "deadline": to_local_iso(group.deadline),
            "created_at": to_local_iso(group.created_at),
            "succeeded_at": to_local_iso(group.succeeded_at),
            "failed_at": to_local_iso(group.failed_at)}


def _with_item(views: list[dict], groups: list[CampaignGroup]) -> list[dict]:
    """The views with their item's name and prices (one read for the page)."""
    items = {row.item_id: row for row in CampaignItem.select(
        CampaignItem.id, CampaignItem.item_id, CampaignItem.campaign_price_fen, CatalogItem.name,
        CatalogItem.price_fen).join(CatalogItem, on=(CatalogItem.id == CampaignItem.item_id))
        .where(CampaignItem.id.in_([g.campaign_item_id for g in groups] or [0])).objects()}
    for view, group in zip(views, groups):
        row = items.get(group.item_id)
        view.update(item_name=row.name if row else "", price_fen=row.price_fen if row else None,
                    group_price_fen=row.campaign_price_fen if row else None)
    return views


def public_group(group_id: int) -> dict:
    """Consumers (anonymous too): a group to share, with its campaign, item, group price and
    its members as masked nicknames and avatars (the one who started it first)."""
    group = CampaignGroup.get_or_none(CampaignGroup.id == group_id)
    if group is None:
        raise GroupNotFound(details={"group_id": group_id})
    campaign = Campaign.get_by_id(group.campaign_id)
    view = _with_item([group_view(group)], [group])[0]
    view["campaign"] = {"id": campaign.id, "name": campaign.name, "kind": campaign.kind,
                        "ends_at": to_local_iso(campaign.ends_at)}
    members = (CampaignGroupMember.select(CampaignGroupMember, User.nickname, User.avatar_url)
               .join(User, on=(User.id == CampaignGroupMember.user_id))
               .where(CampaignGroupMember.group == group.id,
                      CampaignGroupMember.status != SEAT_RELEASED)
               .order_by(CampaignGroupMember.joined_at, CampaignGroupMember.id)
               .limit(MAX_MEMBERS_SHOWN).objects())
    view["members"] = [{"nickname": mask_nickname(m.nickname), "avatar_url": m.avatar_url,
                        "leader": m.user_id == group.leader_user_id, "paid": m.paid_at is not None}
                       for m in members]
    return view


def item_group_buys(item: CatalogItem) -> list[dict]:
    """Consumers' item view: the group buys running for the item now, with their group
    price and how many of their groups may be joined (else a consumer starts one)."""
    now = utcnow()
    rows = (CampaignItem.select(CampaignItem.campaign_price_fen, Campaign)
            .join(Campaign, on=(Campaign.id == CampaignItem.campaign))
            .switch(CampaignItem).join(CampaignParticipant)
            .where(CampaignItem.item_id == item.id, Campaign.kind == GROUP_BUY,
                   Campaign.status == APPROVED, Campaign.starts_at <= now,
                   Campaign.ends_at > now, CampaignParticipant.status == APPROVED,
                   CampaignItem.campaign_price_fen < item.price_fen)
            .order_by(CampaignItem.campaign_price_fen, Campaign.id))
    views = []
    for row in rows:
        campaign = row.campaign
        joinable = CampaignGroup.select().where(
            CampaignGroup.campaign == campaign.id, CampaignGroup.item_id == item.id,
            CampaignGroup.status == GROUP_OPEN, CampaignGroup.deadline > now,
            CampaignGroup.seats_taken > 0,
            CampaignGroup.seats_taken < CampaignGroup.group_size).count()
        views.append({"campaign_id": campaign.id, "group_price_fen": row.campaign_price_fen,
                      "group_size": campaign.group_size, "group_hours": campaign.group_hours,
                      "per_user_limit": campaign.per_user_limit,
                      "ends_at": to_local_iso(campaign.ends_at), "open_groups": joinable})
    return views


def open_groups(campaign_id: int, item_id: int | None, cursor: str | None,
                limit: int) -> dict:
    """Consumers: the groups of a running group buy (of one item) that may be joined now,
    newest first."""
    campaign = Campaign.get_or_none(Campaign.id == campaign_id, Campaign.status == APPROVED,
                                    Campaign.kind == GROUP_BUY)
    if campaign is None:
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    now = utcnow()
    query = CampaignGroup.select().where(
        CampaignGroup.campaign == campaign.id, CampaignGroup.status == GROUP_OPEN,
        CampaignGroup.deadline > now, CampaignGroup.seats_taken > 0,
        CampaignGroup.seats_taken < CampaignGroup.group_size)
    if item_id is not None:
        query = query.where(CampaignGroup.item_id == item_id)
    if campaign.ends_at <= now:
        query = query.where(CampaignGroup.id < 0)
    rows, next_cursor = newest_first(query, CampaignGroup.id, cursor, limit)
    return {"items": _with_item([group_view(g, now) for g in rows], rows),
            "next_cursor": next_cursor}


def my_groups(user_id: int, cursor: str | None, limit: int) -> dict:
    """A consumer's groups (the seats they hold or paid, and those whose order was
    refunded), newest seat first, with their order."""
    query = (CampaignGroupMember.select(CampaignGroupMember, Order.order_no)
             .join(Order, on=(Order.id == CampaignGroupMember.order_id))
             .where(CampaignGroupMember.user_id == user_id,
                    CampaignGroupMember.status != SEAT_RELEASED))
    seats, next_cursor = newest_first(query, CampaignGroupMember.id, cursor, limit)
    groups = {g.id: g for g in CampaignGroup.select().where(
        CampaignGroup.id.in_([s.group_id for s in seats] or [0]))}
    ordered = [groups[s.group_id] for s in seats]
    views = _with_item([group_view(g) for g in ordered], ordered)
    for view, seat in zip(views, seats):
        view.update(order_no=seat.order.order_no, seat_status=seat.status,
                    leader=groups[seat.group_id].leader_user_id == user_id)
    return {"items": views, "next_cursor": next_cursor}


def campaign_groups(campaign_id: int, merchant_id: int | None, status: str | None,
                    cursor: str | None, limit: int) -> dict:
    """Staff (their merchant's groups) and operators (all): a campaign's groups, newest
    first."""
    query = CampaignGroup.select().where(CampaignGroup.campaign == campaign_id)
    if merchant_id is not None:
        query = query.where(CampaignGroup.merchant_id == merchant_id)
    if status is not None:
        if status not in GROUP_STATUSES:
            raise ValidationFailed("参数 status 取值不合法", details={
                "field": "status", "issue": "choice", "choices": list(GROUP_STATUSES)})
        query = query.where(CampaignGroup.status == status)
    rows, next_cursor = newest_first(query, CampaignGroup.id, cursor, limit)
    return {"items": _with_item([group_view(g) for g in rows], rows),
            "next_cursor": next_cursor}


def group_effect(campaign_id: int, merchant_id: int | None = None) -> dict:
    """What a group buy's groups came to: started, open, succeeded and failed groups, and
    the refunds their failure made (started, and the fen given back by those that
    succeeded)."""
    groups = CampaignGroup.select(CampaignGroup.status, fn.COUNT(CampaignGroup.id)).where(
        CampaignGroup.campaign == campaign_id)
    if merchant_id is not None:
        groups = groups.where(CampaignGroup.merchant_id == merchant_id)
    counts = dict(groups.group_by(CampaignGroup.status).tuples())
    orders = (CampaignGroupMember.select(CampaignGroupMember.order_id).join(CampaignGroup)
              .where(CampaignGroup.campaign == campaign_id))
    if merchant_id is not None:
        orders = orders.where(CampaignGroup.merchant_id == merchant_id)
    started = (Refund.select().where(Refund.kind == REFUND_GROUP_FAILED,
                                     Refund.order.in_(orders)).count())
    refunded_fen = (Refund.select(fn.COALESCE(fn.SUM(Refund.amount_fen), 0))
                    .where(Refund.kind == REFUND_GROUP_FAILED, Refund.status == REFUND_SUCCEEDED,
                           Refund.order.in_(orders)).scalar())
    return {"started": sum(counts.values()),
            **{status: counts.get(status, 0) for status in GROUP_STATUSES},
            "refunds": started, "refunded_fen": int(refunded_fen or 0)}
