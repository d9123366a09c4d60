"""Membership tables: a consumer's membership at each merchant, the merchants' level rules,
and the points awarded at counters.

The platform level is not stored: it follows from the points account's lifetime earnings
(see ``levels.platform_level``). A merchant level is stored on the membership row and
recomputed whenever the spend grows or the merchant changes its rules.
"""
from __future__ import annotations

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, DateField,
                    ForeignKeyField, IntegerField)

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant


class MerchantLevelRule(BaseModel):
    """Level ``level`` (1, 2, ...) of a merchant's members: reached at ``min_spent_fen`` of
    spending there; gives ``discount_percent`` off and ``points_multiplier_pct`` (100 = 1x)."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="level_rules", on_delete="CASCADE")
    level = IntegerField()
    name = CharField(max_length=32)
    min_spent_fen = BigIntegerField()
    discount_percent = IntegerField(default=0)
    points_multiplier_pct = IntegerField(default=100)

    class Meta:
        indexes = ((("merchant", "level"), True),)


class MerchantMember(BaseModel):
    """A consumer's membership at one merchant: level (0: no rule reached), spend, visits."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="members", on_delete="CASCADE")
    user_id = IntegerField(index=True)
    level = IntegerField(default=0)
    total_spent_fen = BigIntegerField(default=0)
    visits = IntegerField(default=0)
    points_earned = IntegerField(default=0)
    joined_at = UTCDateTimeField(default=utcnow)
    last_visit_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("merchant", "user_id"), True),
                   (("merchant", "last_visit_at"), False))


class PointsAward(BaseModel):
    """Points given at a counter for a purchase of ``amount_fen``, funded by the merchant.

    ``receipt_no`` (the merchant's own receipt number, optional) is unique per merchant, so
    the same purchase is never awarded twice.
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="points_awards", on_delete="RESTRICT")
    shop_id = IntegerField(null=True)
    staff_user_id = IntegerField()
    user_id = IntegerField(index=True)
    amount_fen = IntegerField()
    multiplier_pct = IntegerField()  # the member's level's
    member_day_multiplier_pct = IntegerField(default=100)  # 100: not a member day
    points = IntegerField()
    receipt_no = CharField(max_length=64, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant", "receipt_no"), True),
                   (("merchant", "id"), False))


class MerchantMemberDay(BaseModel):
    """A merchant's member day (会员日) rule, one per merchant (``alliance.members.member_days``).

    The days are Asia/Shanghai calendar days: ``weekdays`` a bit per ISO weekday (bit 1
    Monday ... bit 7 Sunday), ``month_days`` a bit per day of the month (bit 1 ... bit 31);
    a day is a member day when either names it, within ``starts_on``..``ends_on`` (either
    open) and while ``enabled``. Members at ``min_level`` or above (0: every member) get
    ``points_multiplier_pct`` on top of their level's multiplier and
    ``discount_percent`` off after their level's discount."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="member_day", unique=True, on_delete="CASCADE")
    enabled = BooleanField(default=True)
    weekdays = IntegerField(default=0)
    month_days = BigIntegerField(default=0)
    min_level = IntegerField(default=0)
    points_multiplier_pct = IntegerField(default=100)
    discount_percent = IntegerField(default=0)
    starts_on = DateField(null=True)
    ends_on = DateField(null=True)
    updated_by = IntegerField(null=True)
    updated_at = UTCDateTimeField(default=utcnow)


def _move_memberships(source_id: int, target_id: int) -> int:
    from alliance.members.services import move_user_membership

    return move_user_membership(source_id, target_id)


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data("memberships", models=(MerchantMember, PointsAward),
                       move=_move_memberships)


_register()
