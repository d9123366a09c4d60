"""The points tables.

``PointsAccount.balance`` is the spendable total, changed only by guarded updates. Each
``PointsEntry`` is one business event (unique ``idempotency_key``) with the balance after it.
Earned entries are lots: ``lot_remaining`` is what is left of them to spend or expire, and
every spend records which lots it consumed (``PointsAllocation``), so points earned at one
merchant and spent at another settle exactly.
"""
from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class PointsAccount(BaseModel):
    user_id = IntegerField(primary_key=True)
    balance = IntegerField(default=0)
    lifetime_earned = IntegerField(default=0)
    updated_at = UTCDateTimeField(default=utcnow)


class PointsEntry(BaseModel):
    id = AutoField()
    user_id = IntegerField(index=True)
    kind = CharField(max_length=16)  # earn | spend | expire | adjust | refund
    amount = IntegerField()  # signed: + credit, - debit
    balance_after = IntegerField()
    merchant_id = IntegerField(null=True, index=True)  # funds an earn, receives a spend
    idempotency_key = CharField(max_length=191, unique=True)
    ref_type = CharField(max_length=32, default="")
    ref_id = CharField(max_length=64, default="")
    memo = CharField(max_length=255, default="")
    lot_remaining = IntegerField(default=0)  # earned lots only
    expires_at = UTCDateTimeField(null=True)  # earned lots only
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user_id", "lot_remaining", "expires_at"), False),
                   (("expires_at", "lot_remaining"), False))


class PointsAllocation(BaseModel):
    """Which lot (and so which funding merchant) a debit consumed, and how much."""

    id = AutoField()
    debit = ForeignKeyField(PointsEntry, backref="allocations", on_delete="CASCADE")
    lot = ForeignKeyField(PointsEntry, backref="consumptions", on_delete="CASCADE")
    amount = IntegerField()
    funding_merchant_id = IntegerField(null=True, index=True)


def _move_points(source_id: int, target_id: int) -> int:
    """The absorbed account's points join the survivor's: balances and lifetime totals add
    up, and every entry (earned lots included, so FIFO spending and expiry carry on) is
    re-owned. The source row is updated first so that the value read is the latest."""
    moved = PointsEntry.update(user_id=target_id).where(PointsEntry.user_id == source_id).execute()
    touched = (PointsAccount.update(updated_at=utcnow())
               .where(PointsAccount.user_id == source_id).execute())
    if touched:
        source = PointsAccount.get(PointsAccount.user_id == source_id)
        PointsAccount.insert(user_id=target_id).on_conflict_ignore().execute()
        (PointsAccount.update(balance=PointsAccount.balance + source.balance,
                              lifetime_earned=PointsAccount.lifetime_earned + source.lifetime_earned,
                              updated_at=utcnow())
         .where(PointsAccount.user_id == target_id).execute())
        PointsAccount.delete().where(PointsAccount.user_id == source_id).execute()
    return moved


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    register_user_data("points", models=(PointsAccount, PointsEntry, PointsAllocation),
                       move=_move_points, erase=None)


_register()
