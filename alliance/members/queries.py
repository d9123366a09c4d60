"""Reads of membership: the consumer's own levels, what a counter sees of a member, a
merchant's members and level rules."""
from __future__ import annotations

from alliance.accounts.models import User
from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.coupons.queries import usable_coupons
from alliance.members.levels import platform_level
from alliance.members.member_days import membership_member_day, rules_by_merchant
from alliance.members.models import MerchantLevelRule, MerchantMember
from alliance.members.awards import Award
from alliance.members.services import (BASE_BENEFITS, BASE_LEVEL_NAME, Benefits, MemberNotFound,
                                      benefits_of_level, rules_of)
from alliance.merchants.models import Merchant
from alliance.paging import newest_first
from alliance.points.models import PointsAccount
from alliance.points.services import balance_of


def rule_view(rule: MerchantLevelRule) -> dict:
    return {"level": rule.level, "name": rule.name, "min_spent_fen": rule.min_spent_fen,
            "discount_percent": rule.discount_percent,
            "points_multiplier_pct": rule.points_multiplier_pct}


def level_rules(merchant_id: int) -> dict:
    """The merchant's level rules, lowest first (level 0 is every member without one)."""
    return {"base_level_name": BASE_LEVEL_NAME,
            "levels": [rule_view(r) for r in rules_of(merchant_id)]}



def membership_view(member: MerchantMember | None, merchant_id: int,
                    benefits: Benefits | None = None) -> dict:
    """A membership at a merchant with its level's benefits (a non-member: level 0)."""
    benefits = benefits or benefits_of_level(merchant_id, member.level if member else 0)
    return {"merchant_id": merchant_id, "level": benefits.level, "level_name": benefits.name,
            "discount_percent": benefits.discount_percent,
            "points_multiplier_pct": benefits.points_multiplier_pct,
            "total_spent_fen": member.total_spent_fen if member else 0,
            "visits": member.visits if member else 0,
            "points_earned": member.points_earned if member else 0,
            "joined_at": to_local_iso(member.joined_at) if member else None,
            "last_visit_at": to_local_iso(member.last_visit_at) if member else None}


def _account(user_id: int) -> tuple[int, int]:
    account = PointsAccount.get_or_none(PointsAccount.user_id == user_id)
    return (account.balance, account.lifetime_earned) if account else (0, 0)


def my_membership(user_id: int) -> dict:
    """The consumer's platform level (by growth value) and memberships at merchants, each
    with its merchant's member day (the next one, and whether their level gets it)."""
    balance, growth = _account(user_id)
    members = list(MerchantMember.select(MerchantMember, Merchant).join(Merchant)
                   .where(MerchantMember.user_id == user_id)
                   .order_by(MerchantMember.last_visit_at.desc(), MerchantMember.id.desc()))
    # Every level's benefits in one read (a read per membership before: 213 for 500).
    merchants = {m.merchant_id for m in members if m.level}
    benefits = {(r.merchant_id, r.level): Benefits.of_rule(r)
                for r in (MerchantLevelRule.select()
                          .where(MerchantLevelRule.merchant.in_(merchants)) if merchants else ())}
    member_days, now = rules_by_merchant({m.merchant_id for m in members}), utcnow()

    def entry(member: MerchantMember) -> dict:
        level = benefits.get((member.merchant_id, member.level), BASE_BENEFITS)
        return {**membership_view(member, member.merchant_id, level),
                "merchant_name": member.merchant.name,
                "member_day": membership_member_day(member_days.get(member.merchant_id),
                                                    level.level, now)}

    return {"platform_level": platform_level(growth), "points_balance": balance,
            "memberships": [entry(m) for m in members]}


def member_at_counter(user_id: int, merchant_id: int) -> dict:
    """What staff of ``merchant_id`` see of a member who showed a member code: who, their
    level here and on the platform, points, and the coupons this counter can redeem."""
    user = User.get_or_none(User.id == user_id, User.status == "active")
    if user is None:
        raise MemberNotFound(details={"user_id": user_id})
    balance, growth = _account(user_id)
    member = MerchantMember.get_or_none(MerchantMember.merchant == merchant_id,
                                        MerchantMember.user_id == user_id)
    return {"user": {"id": user.id, "nickname": user.nickname, "avatar_url": user.avatar_url},
            "level": membership_view(member, merchant_id),
            "platform_level": platform_level(growth),
            "points": {"balance": balance, "lifetime_earned": growth},
            "coupons": usable_coupons(user_id, merchant_id)}


def merchant_members(merchant_id: int, cursor: str | None, limit: int) -> dict:
    """A page of the merchant's members, newest first."""
    query = (MerchantMember.select(MerchantMember, User)
             .join(User, on=(MerchantMember.user_id == User.id))
             .where(MerchantMember.merchant == merchant_id))
    rows, next_cursor = newest_first(query, MerchantMember.id, cursor, limit)
    by_level = {r.level: Benefits.of_rule(r) for r in rules_of(merchant_id)}
    return {"items": [{**membership_view(m, merchant_id, by_level.get(m.level)),
                       "user_id": m.user_id,
                       "nickname": m.user.nickname} for m in rows],
            "next_cursor": next_cursor}


def award_view(outcome: Award, with_balance: bool) -> dict:
    """A counter points award; with the member's balance after it (alliance-wide points)
    only ``with_balance``: when the member showed their code, not when named by id."""
    award = outcome.award
    return {"id": award.id, "user_id": award.user_id, "merchant_id": award.merchant_id,
            "shop_id": award.shop_id, "amount_fen": award.amount_fen,
            "multiplier_pct": award.multiplier_pct,
            "member_day_multiplier_pct": award.member_day_multiplier_pct,
            "points": award.points,
            "receipt_no": award.receipt_no,
            "balance": balance_of(award.user_id) if with_balance else None,
            "replayed": outcome.replayed, "created_at": to_local_iso(award.created_at)}
