"""Member days (会员日): a merchant's own recurring days on which its members get more.

One rule per merchant (``MerchantMemberDay``), set by its staff with ``merchant:marketing``:
the days (ISO weekdays 1-7 and/or days of the month 1-31, Asia/Shanghai calendar days; a
month without a 31st has no member day on the 31st), the lowest member level it is for (0:
every member), an extra points multiplier (100-500, 200 = double) and an extra discount
(0-30 %), an optional window ``starts_on``..``ends_on`` and an on/off switch.

Who gets it: members only, a member being a consumer with a membership row at the
merchant (made by their first paid purchase there), at ``min_level`` or above, when the
order is placed (or the counter award made). How it combines with the level (the orders'
pricing, ``alliance.orders.pricing``): the multipliers multiply (level 150 % x member day
200 % = 300 %, ``points_earned_for``); the member-day discount applies after the level
discount, ``floor(after level x percent / 100)``. Checkout stores both on the order, so
an order placed on a member day earns its points whenever it is paid.

A change takes effect at once: checkout and the counter read the rule with the membership
in one statement (``alliance.members.services.member_terms``), nothing is cached but the
merchant page, which is forgotten on every change (and at the next Shanghai midnight).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from alliance.clock import SHANGHAI, to_local_iso
from alliance.db import db, transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.members.models import MerchantMemberDay
from alliance.merchants.models import Merchant
from alliance.merchants.queries import forget_merchant_detail, register_detail_section

MAX_POINTS_MULTIPLIER_PCT = 500
MAX_DISCOUNT_PERCENT = 30
MAX_MIN_LEVEL = 8  # alliance.members.services.MAX_LEVELS
# How far ahead the next member day is looked for (a month's 31st can be two months off).
LOOKAHEAD_DAYS = 366


class MemberDayInvalid(ValidationFailed):
    code = "MEMBER_DAY_INVALID"
    message = "会员日设置不正确"


@dataclass(frozen=True)
class MemberDayRule:
    """A member day rule's terms, as stored (bit sets of days)."""

    enabled: bool
    weekdays: int
    month_days: int
    min_level: int
    points_multiplier_pct: int
    discount_percent: int
    starts_on: dt.date | None
    ends_on: dt.date | None

    @classmethod
    def of(cls, row: MerchantMemberDay) -> "MemberDayRule":
        return cls.of_columns(row.enabled, row.weekdays, row.month_days, row.min_level,
                              row.points_multiplier_pct, row.discount_percent, row.starts_on,
                              row.ends_on)

    @classmethod
    def of_columns(cls, enabled, weekdays, month_days, min_level, points_multiplier_pct,
                   discount_percent, starts_on, ends_on) -> "MemberDayRule":
        """The rule from its columns as read (in the model's order)."""
        return cls(bool(enabled), weekdays, month_days, min_level, points_multiplier_pct,
                   discount_percent, _date(starts_on), _date(ends_on))

    def is_member_day(self, day: dt.date) -> bool:
        """Whether ``day`` (an Asia/Shanghai calendar day) is one of the rule's member days."""
        if not self.enabled:
            return False
        if (self.starts_on and day < self.starts_on) or (self.ends_on and day > self.ends_on):
            return False
        return bool(self.weekdays >> day.isoweekday() & 1 or self.month_days >> day.day & 1)

    def next_day(self, today: dt.date) -> dt.date | None:
        """The first member day on or after ``today`` (None: none within a year)."""
        if not self.enabled or (self.ends_on and self.ends_on < today):
            return None
        day = max(today, self.starts_on or today)
        for _ in range(LOOKAHEAD_DAYS):
            if self.ends_on and day > self.ends_on:
                return None
            if self.is_member_day(day):
                return day
            day += dt.timedelta(days=1)
        return None


@dataclass(frozen=True)
class MemberDayOffer:
    """What a member day gives one member on one day."""

    day: dt.date
    points_multiplier_pct: int
    discount_percent: int


NO_OFFER_PCT = 100


def _date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def shanghai_day(now: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar day of a stored (naive UTC) time."""
    return now.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI).date()


def next_midnight(now: dt.datetime) -> dt.datetime:
    """The next Asia/Shanghai midnight after ``now``, as stored (naive UTC)."""
    tomorrow = shanghai_day(now) + dt.timedelta(days=1)
    local = dt.datetime.combine(tomorrow, dt.time(), SHANGHAI)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


def offer_for(rule: MemberDayRule | None, level: int, now: dt.datetime) -> MemberDayOffer | None:
    """What the rule gives a member at ``level`` at ``now`` (None: nothing: no rule, not a
    member day, or a level below the rule's)."""
    if rule is None or level < rule.min_level:
        return None
    day = shanghai_day(now)
    if not rule.is_member_day(day):
        return None
    return MemberDayOffer(day, rule.points_multiplier_pct, rule.discount_percent)


# -- the rule's editing ---------------------------------------------------------------------
def _days(body: dict, field: str, low: int, high: int) -> int:
    value = body.get(field, [])
    if not isinstance(value, list) or len(value) > high:
        raise MemberDayInvalid(details={"field": field, "issue": "must be a list of days"})
    bits = 0
    for day in value:
        if isinstance(day, bool) or not isinstance(day, int) or not low <= day <= high:
            raise MemberDayInvalid(details={"field": field, "issue": "range", "minimum": low,
                                            "maximum": high})
        bits |= 1 << day
    return bits


def _int(body: dict, field: str, low: int, high: int, default: int) -> int:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MemberDayInvalid(details={"field": field, "issue": "range", "minimum": low,
                                        "maximum": high})
    return value


def _day(body: dict, field: str) -> dt.date | None:
    value = body.get(field)
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise MemberDayInvalid("日期格式应为 YYYY-MM-DD",
                               details={"field": field, "issue": "format"}) from None


def clean_rule(body: Any) -> MemberDayRule:
    """The rule ``body`` asks for, or MEMBER_DAY_INVALID naming the field."""
    if not isinstance(body, dict):
        raise MemberDayInvalid(details={"issue": "must be an object"})
    enabled = body.get("enabled", True)
    if not isinstance(enabled, bool):
        raise MemberDayInvalid(details={"field": "enabled", "issue": "must be a boolean"})
    rule = MemberDayRule(
        enabled=enabled, weekdays=_days(body, "weekdays", 1, 7),
        month_days=_days(body, "month_days", 1, 31),
        min_level=_int(body, "min_level", 0, MAX_MIN_LEVEL, 0),
        points_multiplier_pct=_int(body, "points_multiplier_pct", 100,
                                   MAX_POINTS_MULTIPLIER_PCT, 100),
        discount_percent=_int(body, "discount_percent", 0, MAX_DISCOUNT_PERCENT, 0),
        starts_on=_day(body, "starts_on"), ends_on=_day(body, "ends_on"))
    if not rule.weekdays and not rule.month_days:
        raise MemberDayInvalid("请至少选择一天作为会员日",
                               details={"field": "weekdays", "issue": "no day chosen"})
    if rule.points_multiplier_pct == 100 and rule.discount_percent == 0:
        raise MemberDayInvalid("会员日须有积分加倍或折扣",
                               details={"field": "points_multiplier_pct",
                                        "issue": "gives nothing"})
    if rule.starts_on and rule.ends_on and rule.ends_on < rule.starts_on:
        raise MemberDayInvalid("结束日期不能早于开始日期",
                               details={"field": "ends_on", "issue": "before starts_on"})
    return rule


def set_member_day(merchant_id: int, body: Any, actor_id: int) -> MerchantMemberDay:
    """Replace the merchant's member day rule (MEMBER_DAY_INVALID). Orders placed after it
    see it; its merchant page is forgotten with it."""
    rule = clean_rule(body)
    now = utcnow()
    fields = {"enabled": rule.enabled, "weekdays": rule.weekdays,
              "month_days": rule.month_days, "min_level": rule.min_level,
              "points_multiplier_pct": rule.points_multiplier_pct,
              "discount_percent": rule.discount_percent, "starts_on": rule.starts_on,
              "ends_on": rule.ends_on, "updated_by": actor_id, "updated_at": now}
    mine = MerchantMemberDay.merchant == merchant_id
    with transaction():
        if MerchantMemberDay.select(MerchantMemberDay.id).where(mine).exists():
            MerchantMemberDay.update(**fields).where(mine).execute()
        else:
            try:
                with db.atomic():
                    MerchantMemberDay.create(merchant=merchant_id, **fields)
            except IntegrityError:  # a concurrent first rule: this one replaces it
                MerchantMemberDay.update(**fields).where(mine).execute()
        forget_merchant_detail(merchant_id)
        return MerchantMemberDay.get(MerchantMemberDay.merchant == merchant_id)


# -- reads ----------------------------------------------------------------------------------
def rule_of(merchant_id: int) -> MerchantMemberDay | None:
    return MerchantMemberDay.get_or_none(MerchantMemberDay.merchant == merchant_id)


def _bits(value: int, low: int, high: int) -> list[int]:
    return [day for day in range(low, high + 1) if value >> day & 1]


def _times(multiplier_pct: int) -> str:
    return f"{multiplier_pct / 100:g}"


def summary(rule: MemberDayRule) -> str:
    """What the member day gives, in a sentence for the page: 积分2倍，再享9.5折."""
    parts = []
    if rule.points_multiplier_pct > 100:
        parts.append(f"积分{_times(rule.points_multiplier_pct)}倍")
    if rule.discount_percent:
        parts.append(f"再享{(100 - rule.discount_percent) / 10:g}折")
    return "，".join(parts)


def offer_view(rule: MemberDayRule, now: dt.datetime) -> dict:
    """What consumers see of a member day: its days, what it gives, whether today is one
    and the next (today included; None: none ahead)."""
    today = shanghai_day(now)
    upcoming = rule.next_day(today)
    return {"weekdays": _bits(rule.weekdays, 1, 7),
            "month_days": _bits(rule.month_days, 1, 31), "min_level": rule.min_level,
            "points_multiplier_pct": rule.points_multiplier_pct,
            "discount_percent": rule.discount_percent, "summary": summary(rule),
            "today": upcoming == today,
            "next_date": upcoming.isoformat() if upcoming else None}


def rule_view(row: MerchantMemberDay | None, now: dt.datetime | None = None) -> dict:
    """The rule as staff and operators see it (no rule yet: a disabled empty one)."""
    now = now or utcnow()
    if row is None:
        return {"configured": False, "enabled": False, "weekdays": [], "month_days": [],
                "min_level": 0, "points_multiplier_pct": 100, "discount_percent": 0,
                "starts_on": None, "ends_on": None, "summary": "", "today": False,
                "next_date": None, "updated_at": None}
    rule = MemberDayRule.of(row)
    return {"configured": True, "enabled": rule.enabled, **offer_view(rule, now),
            "starts_on": rule.starts_on.isoformat() if rule.starts_on else None,
            "ends_on": rule.ends_on.isoformat() if rule.ends_on else None,
            "updated_at": to_local_iso(row.updated_at)}


def member_day(merchant_id: int) -> dict:
    """The merchant's member day rule (staff, operators)."""
    return rule_view(rule_of(merchant_id))


def rules_by_merchant(merchant_ids: set[int]) -> dict[int, MemberDayRule]:
    """The enabled member day rules of these merchants, in one read."""
    if not merchant_ids:
        return {}
    return {row.merchant_id: MemberDayRule.of(row) for row in MerchantMemberDay.select().where(
        MerchantMemberDay.merchant.in_(merchant_ids), MerchantMemberDay.enabled == True)}  # noqa: E712


def membership_member_day(rule: MemberDayRule | None, level: int,
                          now: dt.datetime) -> dict | None:
    """A member's view of a merchant's member day: the offer, and whether their level gets
    it (None: no member day ahead)."""
    if rule is None:
        return None
    view = offer_view(rule, now)
    if view["next_date"] is None:
        return None
    return {**view, "eligible": level >= rule.min_level}


def merchant_section(merchant: Merchant,
                     now: dt.datetime) -> tuple[dict | None, dt.datetime | None]:
    """The merchant page's ``member_day``: the next member day and what it gives members
    (None: no member day ahead); with a rule, true until the next Shanghai midnight at most
    (without one, only setting it changes it)."""
    row = rule_of(merchant.id)
    if row is None:
        return None, None
    view = offer_view(MemberDayRule.of(row), now) if row.enabled else None
    return (view if view and view["next_date"] else None), next_midnight(now)


register_detail_section("member_day", merchant_section)
