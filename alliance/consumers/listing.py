"""The operators' list of consumers: search, filters, and per-row purchase figures.

A page is read by id, newest first (the primary key, so it stays fast with any number of
users), and its figures in one grouped query per table for the whole page, never per row.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import fn

from alliance.accounts.contacts import mask_email, mask_phone, normalize_phone
from alliance.accounts.models import AccountMerge, User, WechatIdentity
from alliance.clock import to_local_iso
from alliance.errors import ValidationFailed
from alliance.members.levels import platform_level
from alliance.orders.models import Order
from alliance.orders.queries import utc_bounds
from alliance.paging import newest_first
from alliance.points.models import PointsAccount

STATUSES = ("active", "disabled", "deleted", "merged")
NICKNAME_MAX = 64


@dataclass(frozen=True)
class UserFilters:
    """What the operator searches by; every field is optional."""

    user_id: int | None = None
    phone: str | None = None
    nickname: str | None = None
    registered_from: str | None = None  # YYYY-MM-DD, Asia/Shanghai
    registered_to: str | None = None
    has_ordered: bool | None = None
    status: str | None = None


def _day(raw: str | None, field: str) -> dt.date | None:
    if raw is None or raw == "":
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed("日期格式应为 YYYY-MM-DD", details={"field": field}) from None


def paid_orders():
    """Orders that were paid (refunded ones too: the buyer did buy)."""
    return Order.paid_at.is_null(False)


def _filtered(filters: UserFilters):
    query = User.select()
    if filters.user_id is not None:
        query = query.where(User.id == filters.user_id)
    if filters.phone:
        query = query.where(User.phone == normalize_phone(filters.phone))
    if filters.nickname:
        if len(filters.nickname) > NICKNAME_MAX:
            raise ValidationFailed("昵称过长", details={"field": "nickname",
                                                      "max_length": NICKNAME_MAX})
        query = query.where(User.nickname.startswith(filters.nickname))
    if filters.status is not None:
        if filters.status not in STATUSES:
            raise ValidationFailed("用户状态不正确", details={"field": "status",
                                                             "choices": list(STATUSES)})
        query = query.where(User.status == filters.status)
    first = _day(filters.registered_from, "registered_from")
    last = _day(filters.registered_to, "registered_to")
    if first and last and first > last:
        raise ValidationFailed("日期范围不正确", details={"field": "registered_from/registered_to"})
    if first:
        query = query.where(User.created_at >= utc_bounds(first, first)[0])
    if last:
        query = query.where(User.created_at < utc_bounds(last, last)[1])
    if filters.has_ordered is not None:
        bought = Order.select(Order.id).where(Order.user == User.id, paid_orders())
        query = query.where(fn.EXISTS(bought) if filters.has_ordered else ~fn.EXISTS(bought))
    return query


def login_channels(user: User, appids: set[str], channel_of_appid: dict[str, str]) -> list[str]:
    """How the user can sign in: the WeChat apps they used, their phone, their email."""
    channels = sorted({channel_of_appid.get(appid, "wechat") for appid in appids})
    if user.phone:
        channels.append("phone")
    if user.email:
        channels.append("email")
    return channels


def purchase_figures(user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Per user: (paid orders, fen paid), in one grouped query."""
    if not user_ids:
        return {}
    rows = (Order.select(Order.user, fn.COUNT(Order.id), fn.SUM(Order.paid_fen))
            .where(Order.user.in_(user_ids), paid_orders()).group_by(Order.user).tuples())
    return {user_id: (count, int(amount or 0)) for user_id, count, amount in rows}


def page_extras(user_ids: list[int]) -> dict:
    """What the rows of a page need beyond the user table, one query per table."""
    if not user_ids:
        return {"appids": {}, "orders": {}, "points": {}, "merged_into": {}}
    appids: dict[int, set[str]] = {}
    for user_id, appid in (WechatIdentity.select(WechatIdentity.user, WechatIdentity.appid)
                           .where(WechatIdentity.user.in_(user_ids)).tuples()):
        appids.setdefault(user_id, set()).add(appid)
    points = {user_id: (balance, growth) for user_id, balance, growth in
              PointsAccount.select(PointsAccount.user_id, PointsAccount.balance,
                                   PointsAccount.lifetime_earned)
              .where(PointsAccount.user_id.in_(user_ids)).tuples()}
    merged = dict(AccountMerge.select(AccountMerge.source_user, AccountMerge.target_user)
                  .where(AccountMerge.source_user.in_(user_ids)).tuples())
    return {"appids": appids, "orders": purchase_figures(user_ids), "points": points,
            "merged_into": merged}


def user_row(user: User, extras: dict, channel_of_appid: dict[str, str]) -> dict:
    """A consumer as a row of the operators' list; personal data masked."""
    orders, paid_fen = extras["orders"].get(user.id, (0, 0))
    balance, growth = extras["points"].get(user.id, (0, 0))
    level = platform_level(growth)
    return {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url,
            "phone": mask_phone(user.phone), "email": mask_email(user.email),
            "login_channels": login_channels(user, extras["appids"].get(user.id, set()),
                                             channel_of_appid),
            "status": user.status, "merged_into": extras["merged_into"].get(user.id),
            "registered_at": to_local_iso(user.created_at),
            "orders_paid": orders, "paid_fen": paid_fen,
            "platform_level": level["level"], "platform_level_name": level["name"],
            "points_balance": balance}


def list_users(filters: UserFilters, channel_of_appid: dict[str, str], cursor: str | None,
               limit: int) -> dict:
    """Consumers newest first, narrowed by ``filters``; masked rows with their figures."""
    users, next_cursor = newest_first(_filtered(filters), User.id, cursor, limit)
    extras = page_extras([u.id for u in users])
    return {"items": [user_row(u, extras, channel_of_appid) for u in users],
            "next_cursor": next_cursor}
