"""Membership tables: a consumer's membership at each merchant, the merchants' level rules,
and the points awarded at counters.

The platform level is not stored: it follows from the points account's lifetime earnings
(see ``levels.platform_level``). A merchant level is stored on the membership row and
recomputed whenever the spend grows or the merchant changes its rules.
"""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, ForeignKeyField, IntegerField

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
    multiplier_pct = IntegerField()
    points = IntegerField()
    receipt_no = CharField(max_length=64, null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant", "receipt_no"), True),
                   (("merchant", "id"), False))
