"""Membership at a merchant: level rules, visits and spending, points for purchases.

``record_purchase`` is the hook for every paid purchase (a counter award,
``alliance.members.awards``; a paid order in the orders work): it earns points by the member's multiplier, funded by the merchant,
and counts the spend and the visit. It runs inside the caller's transaction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from peewee import JOIN, Case, fn

from alliance.checks import printable
from alliance.db import transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.errors import NotFound, ValidationFailed
from alliance.members.member_days import MemberDayOffer, MemberDayRule, offer_for
from alliance.members.models import (MerchantLevelRule, MerchantMember, MerchantMemberDay,
                                     PointsAward)
from alliance.merchants.models import Shop
from alliance.merchants.queries import get_shop
from alliance.points import services as points
from alliance.points.rules import points_earned_for

MAX_LEVELS = 8
BASE_LEVEL_NAME = "会员"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"
    message = "会员不存在"


class LevelRulesInvalid(ValidationFailed):
    code = "LEVEL_RULES_INVALID"
    message = "会员等级规则不正确"


class ShopChoiceRequired(ValidationFailed):
    code = "SHOP_ID_REQUIRED"
    message = "商户有多个门店，请选择门店"


@dataclass(frozen=True)
class Benefits:
    """What a member's level at a merchant gives."""

    level: int
    name: str
    discount_percent: int
    points_multiplier_pct: int


    @classmethod
    def of_rule(cls, rule: MerchantLevelRule) -> "Benefits":
        return cls(rule.level, rule.name, rule.discount_percent, rule.points_multiplier_pct)


# Level 0 (no rule reached, or a rule since removed): no discount, points at 100 %.
BASE_BENEFITS = Benefits(0, BASE_LEVEL_NAME, 0, 100)


def counter_shop(merchant_id: int, shop_id: int | None) -> int | None:
    """The shop whose counter acts: ``shop_id`` (one of the merchant's: SHOP_NOT_FOUND
    otherwise), or the merchant's only shop; SHOP_ID_REQUIRED when it has several."""
    if shop_id is not None:
        return get_shop(shop_id, merchant_id).id
    ids = [s.id for s in Shop.select(Shop.id).where(Shop.merchant == merchant_id).limit(2)]
    if len(ids) > 1:
        raise ShopChoiceRequired(details={"field": "shop_id"})
    return ids[0] if ids else None


def rules_of(merchant_id: int) -> list[MerchantLevelRule]:
    """The merchant's level rules, lowest level first."""
    return list(MerchantLevelRule.select().where(MerchantLevelRule.merchant == merchant_id)
                .order_by(MerchantLevelRule.level))


_RULE = Prepared(lambda: MerchantLevelRule.select()
                 .where(MerchantLevelRule.merchant == Arg(0), MerchantLevelRule.level == Arg(1))
                 .limit(1))


def _level_rule_of_member(rule):
    """The join condition of a membership (``MerchantMember``) with its level's rule
    (``rule``: ``MerchantLevelRule`` or an alias of it)."""
    return (rule.merchant == MerchantMember.merchant) & (rule.level == MerchantMember.level)


# Every paid order and counter award runs these: their SQL is built once
# (alliance.prepared.Prepared).
# The member's level with what it gives, in one read (no row: not a member yet; no rule:
# level 0, or a rule since removed).
_MEMBER_BENEFITS = Prepared(lambda: MerchantMember.select(
    MerchantMember.level, MerchantLevelRule.name, MerchantLevelRule.discount_percent,
    MerchantLevelRule.points_multiplier_pct)
    .join(MerchantLevelRule, JOIN.LEFT_OUTER, on=_level_rule_of_member(MerchantLevelRule))
    .where(MerchantMember.merchant == Arg(0), MerchantMember.user_id == Arg(1))
    .limit(1).tuples())
_IS_MEMBER = Prepared(lambda: MerchantMember.select(MerchantMember.id)
                      .where(MerchantMember.merchant == Arg(0), MerchantMember.user_id == Arg(1))
                      .limit(1).tuples())
_NEW_MEMBER = PreparedInsert(MerchantMember)
_COUNT_VISIT = Prepared(lambda: MerchantMember.update(
    visits=MerchantMember.visits + 1,
    total_spent_fen=MerchantMember.total_spent_fen + Arg(2, MerchantMember.total_spent_fen),
    points_earned=MerchantMember.points_earned + Arg(3, MerchantMember.points_earned),
    last_visit_at=Arg(4, MerchantMember.last_visit_at))
    .where(MerchantMember.merchant == Arg(0), MerchantMember.user_id == Arg(1)))
_REACHED = MerchantLevelRule.alias("reached")
# The highest level whose threshold the member's spend reaches (0: none), in the UPDATE.
# On MariaDB it share-locks the merchant's rules after the membership row: set_level_rules
# takes them in the same order.
_RELEVEL = Prepared(lambda: MerchantMember.update(level=fn.COALESCE(
    _REACHED.select(fn.MAX(_REACHED.level))
    .where(_REACHED.merchant == MerchantMember.merchant,
           _REACHED.min_spent_fen <= MerchantMember.total_spent_fen), 0))
    .where(MerchantMember.merchant == Arg(0), MerchantMember.user_id == Arg(1)))


def benefits_of_level(merchant_id: int, level: int) -> Benefits:
    """The benefits of ``level`` at the merchant (level 0, or a rule since removed: none)."""
    rule = level and _RULE.first(merchant_id, level)
    if not rule:
        return BASE_BENEFITS
    return Benefits.of_rule(rule)


def member_benefits(user_id: int, merchant_id: int) -> Benefits:
    """The member's current benefits at the merchant."""
    return membership_of(user_id, merchant_id)[0]


def membership_of(user_id: int, merchant_id: int) -> tuple[Benefits, bool]:
    """The member's current benefits, and whether the membership exists yet."""
    row = _MEMBER_BENEFITS.first(merchant_id, user_id)
    if row is None or row[1] is None:
        return BASE_BENEFITS, row is not None
    return Benefits(*row), True


# The membership with its level's benefits and the merchant's member day rule, in one read:
# every checkout and counter award runs it.
_MEMBER_TERMS = Prepared(lambda: MerchantMember.select(
    MerchantMember.level, MerchantLevelRule.name, MerchantLevelRule.discount_percent,
    MerchantLevelRule.points_multiplier_pct, MerchantMemberDay.enabled,
    MerchantMemberDay.weekdays, MerchantMemberDay.month_days, MerchantMemberDay.min_level,
    MerchantMemberDay.points_multiplier_pct, MerchantMemberDay.discount_percent,
    MerchantMemberDay.starts_on, MerchantMemberDay.ends_on)
    .join(MerchantLevelRule, JOIN.LEFT_OUTER, on=_level_rule_of_member(MerchantLevelRule))
    .switch(MerchantMember)
    .join(MerchantMemberDay, JOIN.LEFT_OUTER,
          on=(MerchantMemberDay.merchant == MerchantMember.merchant))
    .where(MerchantMember.merchant == Arg(0), MerchantMember.user_id == Arg(1))
    .limit(1).tuples())


@dataclass(frozen=True)
class MemberTerms:
    """What a member gets at a merchant now: the level's benefits, whether the membership
    exists, and the member day's offer (None: none today, not for this level, or not a
    member: only members get it)."""

    benefits: Benefits
    member: bool
    member_day: MemberDayOffer | None

    @property
    def member_day_multiplier_pct(self) -> int:
        return self.member_day.points_multiplier_pct if self.member_day else 100

    @property
    def member_day_discount_percent(self) -> int:
        return self.member_day.discount_percent if self.member_day else 0


def member_terms(user_id: int, merchant_id: int, now: dt.datetime) -> MemberTerms:
    """The member's benefits at the merchant and its member day's offer at ``now``."""
    row = _MEMBER_TERMS.first(merchant_id, user_id)
    if row is None:
        return MemberTerms(BASE_BENEFITS, False, None)
    benefits = BASE_BENEFITS if row[1] is None else Benefits(*row[:4])
    rule = None if row[4] is None else MemberDayRule.of_columns(*row[4:])
    return MemberTerms(benefits, True, offer_for(rule, benefits.level, now))


@dataclass(frozen=True)
class PurchaseTerms:
    """What a purchase earns, read before it is counted (``record_purchase``)."""

    earned: int
    member: bool  # the membership existed when read


def purchase_terms(user_id: int, merchant_id: int, amount_fen: int) -> PurchaseTerms:
    """The points a purchase of ``amount_fen`` earns now (by the member's multiplier) and
    whether the membership exists: read in the caller's transaction before it is counted."""
    benefits, member = membership_of(user_id, merchant_id)
    return PurchaseTerms(points_earned_for(amount_fen, benefits.points_multiplier_pct), member)


_JOINED_RULE = MerchantLevelRule.alias("member_rule")


def join_purchase_terms(query, merchant, user):
    """``query`` with what ``purchase_terms`` reads of the membership of ``user`` at
    ``merchant`` (expressions of the query's model, from which it joins): for a caller that
    reads the purchase's other rows anyway, one statement instead of two (a payment's
    notification on MySQL pays a round trip per statement). Read the terms of each row with
    ``joined_purchase_terms``; the query's join context is left on the level rule."""
    return (query.select_extend(MerchantMember.id, _JOINED_RULE.points_multiplier_pct)
            .join(MerchantMember, JOIN.LEFT_OUTER, attr="joined_membership",
                  on=((MerchantMember.merchant == merchant) & (MerchantMember.user_id == user)))
            .join(_JOINED_RULE, JOIN.LEFT_OUTER, attr="joined_rule",
                  on=_level_rule_of_member(_JOINED_RULE)))


def joined_purchase_terms(row, amount_fen: int, member_day_pct: int = 100) -> PurchaseTerms:
    """``purchase_terms`` of a purchase of ``amount_fen``, from a row of a query made with
    ``join_purchase_terms`` (no membership: not a member yet; no rule: level 0, or a rule
    since removed), with ``member_day_pct`` on top of the level's multiplier (what the
    member day gave when the purchase was decided: an order's checkout)."""
    membership = row.joined_membership
    rule = membership.joined_rule if membership is not None else None
    multiplier = (rule if rule is not None else BASE_BENEFITS).points_multiplier_pct
    return PurchaseTerms(points_earned_for(amount_fen, multiplier, member_day_pct),
                         membership is not None)


def _clean_rules(rules: Any) -> list[dict]:
    if not isinstance(rules, list) or len(rules) > MAX_LEVELS:
        raise LevelRulesInvalid(details={"field": "levels", "max_items": MAX_LEVELS})
    cleaned, previous = [], None
    for index, rule in enumerate(rules):
        field = f"levels[{index}]"
        if not isinstance(rule, dict):
            raise LevelRulesInvalid(details={"field": field, "issue": "must be an object"})
        name = rule.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 32:
            raise LevelRulesInvalid(details={"field": f"{field}.name", "issue": "length"})
        if not printable(name):
            raise LevelRulesInvalid(details={"field": f"{field}.name",
                                             "issue": "control characters"})
        values = {"name": name.strip()}
        for key, low, high, default in (("min_spent_fen", 1, 10**12, None),
                                        ("discount_percent", 0, 50, 0),
                                        ("points_multiplier_pct", 100, 1000, 100)):
            value = rule.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise LevelRulesInvalid(details={"field": f"{field}.{key}", "issue": "range",
                                                 "minimum": low, "maximum": high})
            values[key] = value
        if previous is not None and values["min_spent_fen"] <= previous["min_spent_fen"]:
            raise LevelRulesInvalid("会员等级的消费门槛必须逐级升高",
                                    details={"field": f"{field}.min_spent_fen",
                                             "issue": "must increase"})
        cleaned.append(values)
        previous = values
    return cleaned


def _recompute_levels(merchant_id: int) -> None:
    """Raise every member (all at level 0) to the level their spend reaches (a few bulk
    updates)."""
    for rule in rules_of(merchant_id):
        (MerchantMember.update(level=rule.level)
         .where(MerchantMember.merchant == merchant_id,
                MerchantMember.total_spent_fen >= rule.min_spent_fen).execute())


def set_level_rules(merchant_id: int, rules: Any) -> list[MerchantLevelRule]:
    """Replace the merchant's level rules (level 1 is the lowest spend threshold) and
    re-level its members accordingly."""
    cleaned = _clean_rules(rules)
    with transaction():
        # The members first, then the rules: the order a purchase locks them in (its
        # membership row, then the rules its level is read from), so no deadlock.
        MerchantMember.update(level=0).where(MerchantMember.merchant == merchant_id).execute()
        MerchantLevelRule.delete().where(MerchantLevelRule.merchant == merchant_id).execute()
        for level, values in enumerate(cleaned, start=1):
            MerchantLevelRule.create(merchant=merchant_id, level=level, **values)
        _recompute_levels(merchant_id)
        return rules_of(merchant_id)


def record_visit(user_id: int, merchant_id: int, *, spent_fen: int = 0, points_earned: int = 0,
                 now: dt.datetime | None = None, member: bool | None = None) -> None:
    """Count a visit (and its spend) into the membership, creating it on the first visit,
    and move the member to the level the spend reaches (inside the caller's transaction).
    ``member``: whether the caller read the membership in this transaction and found it
    (None: not read).

    A first visit inserts the membership with the visit counted (never update-then-insert,
    which lets two first visits deadlock on InnoDB's gap locks; an upsert deadlocks there
    too); when a concurrent first visit inserted it, the visit is added to it.
    """
    now = now or utcnow()
    if member is None:
        member = _IS_MEMBER.first(merchant_id, user_id) is not None
    if member or _NEW_MEMBER.create_or_none(
            merchant=merchant_id, user_id=user_id, visits=1, total_spent_fen=spent_fen,
            points_earned=points_earned, joined_at=now, last_visit_at=now) is None:
        _COUNT_VISIT.execute(merchant_id, user_id, spent_fen, points_earned, now)
    if spent_fen:
        _relevel(merchant_id, user_id)


def _relevel(merchant_id: int, user_id: int) -> None:
    """Set the level of the user's membership at the merchant from its spend."""
    _RELEVEL.execute(merchant_id, user_id)


def revert_purchase(user_id: int, merchant_id: int, *, spent_fen: int,
                    points_earned: int) -> None:
    """Take a refunded share of a purchase back out of the membership (in the caller's
    transaction): its spend and the points taken back, never below zero; the level follows
    the spend down. The visit stays: the buyer came."""
    if spent_fen <= 0 and points_earned <= 0:
        return
    (MerchantMember.update(
        total_spent_fen=Case(None, [(MerchantMember.total_spent_fen >= spent_fen,
                                     MerchantMember.total_spent_fen - spent_fen)], 0),
        points_earned=Case(None, [(MerchantMember.points_earned >= points_earned,
                                   MerchantMember.points_earned - points_earned)], 0))
     .where(MerchantMember.merchant == merchant_id, MerchantMember.user_id == user_id)
     .execute())
    if spent_fen > 0:
        _relevel(merchant_id, user_id)


def revert_visit(user_id: int, merchant_id: int) -> None:
    """Take back a visit counted by a redemption that was undone (caller's transaction)."""
    (MerchantMember.update(visits=MerchantMember.visits - 1)
     .where(MerchantMember.merchant == merchant_id, MerchantMember.user_id == user_id,
            MerchantMember.visits > 0).execute())


def credit_purchase(user_id: int, merchant_id: int, amount_fen: int, earned: int, *,
                     idempotency_key: str, ref_type: str, ref_id: str,
                     now: dt.datetime, member: bool) -> None:
    if earned > 0:
        posted = points.earn(user_id, earned, merchant_id=merchant_id,
                             idempotency_key=idempotency_key, ref_type=ref_type,
                             ref_id=ref_id, memo="消费积分", now=now)
        if posted.replayed:
            return
    record_visit(user_id, merchant_id, spent_fen=amount_fen, points_earned=earned, now=now,
                 member=member)


def record_purchase(user_id: int, merchant_id: int, amount_fen: int, *, idempotency_key: str,
                    ref_type: str, ref_id: str, now: dt.datetime | None = None,
                    terms: PurchaseTerms | None = None) -> int:
    """Count a paid purchase of ``amount_fen`` at the merchant: points by the member's
    multiplier (funded by the merchant, once per ``idempotency_key``), spend, visit and
    level. Runs in the caller's transaction; the points earned. ``terms``: what
    ``purchase_terms`` answered in this transaction (read first when None)."""
    now = now or utcnow()
    terms = terms or purchase_terms(user_id, merchant_id, amount_fen)
    credit_purchase(user_id, merchant_id, amount_fen, terms.earned,
                     idempotency_key=idempotency_key, ref_type=ref_type, ref_id=ref_id,
                     now=now, member=terms.member)
    return terms.earned


def move_user_membership(source_id: int, target_id: int) -> int:
    """Account merge: the absorbed account's memberships and counter awards become the
    survivor's (in the merge's transaction). Where both were members of one merchant, the
    visits, spend and points add up, the earlier joining and later visit count, and the
    level follows the summed spend. The number of rows moved."""
    moved = 0
    for member in MerchantMember.select().where(MerchantMember.user_id == source_id):
        mine = ((MerchantMember.merchant == member.merchant_id)
                & (MerchantMember.user_id == target_id))
        survivor = MerchantMember.get_or_none(mine)
        if survivor is None:
            MerchantMember.update(user_id=target_id).where(MerchantMember.id == member.id).execute()
        else:
            visits = [t for t in (survivor.last_visit_at, member.last_visit_at) if t is not None]
            (MerchantMember.update(
                visits=MerchantMember.visits + member.visits,
                total_spent_fen=MerchantMember.total_spent_fen + member.total_spent_fen,
                points_earned=MerchantMember.points_earned + member.points_earned,
                joined_at=min(survivor.joined_at, member.joined_at),
                last_visit_at=max(visits) if visits else None).where(mine).execute())
            MerchantMember.delete().where(MerchantMember.id == member.id).execute()
            _relevel(member.merchant_id, target_id)
        moved += 1
    return moved + PointsAward.update(user_id=target_id).where(
        PointsAward.user_id == source_id).execute()
