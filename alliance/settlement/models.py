"""The statement tables: one statement per merchant and period, its lines, and one item per
event it counted.

``settlement_item`` is unique on the event's key (source_type, source_id, merchant_id): an
event is counted on one statement of a merchant, however often and from however many
processes statements are built. A statement's lines and ``net_fen`` are summed from its items
in the transaction that inserts them, so that a statement always equals its items.
"""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, ForeignKeyField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, utcnow

ISSUED, PAID = "issued", "paid"
STATEMENT_STATUSES = (ISSUED, PAID)


class SettlementStatement(BaseModel):
    """What the platform owes ``merchant_id`` (``net_fen`` > 0) or is owed by it (< 0) for
    ``period`` (``YYYY-MM``, an Asia/Shanghai calendar month, ``[period_start, period_end)``
    in UTC). issued -> paid (the payout was made: ``payout_reference``, ``paid_at``)."""

    id = AutoField()
    merchant_id = IntegerField()
    period = CharField(max_length=7)
    period_start = UTCDateTimeField()
    period_end = UTCDateTimeField()
    status = CharField(max_length=16, default=ISSUED)
    net_fen = BigIntegerField(default=0)
    item_count = IntegerField(default=0)
    issued_at = UTCDateTimeField(default=utcnow)
    payout_reference = CharField(max_length=64, null=True)
    paid_at = UTCDateTimeField(null=True)
    paid_by = IntegerField(null=True)  # the operator who recorded the payout

    class Meta:
        indexes = ((("merchant_id", "period"), True),
                   (("period", "id"), False),
                   (("status", "id"), False))


class SettlementLine(BaseModel):
    """A statement's total of one line (sales, refunds, platform_commission, ...)."""

    id = AutoField()
    statement = ForeignKeyField(SettlementStatement, backref="lines", on_delete="CASCADE")
    line = CharField(max_length=32)
    amount_fen = BigIntegerField()
    item_count = IntegerField()

    class Meta:
        indexes = ((("statement", "line"), True),)


class SettlementItem(BaseModel):
    """One event counted on a statement (``alliance.settlement.events.SettlementEvent``).
    ``rate_bp`` is the rate applied to ``basis_fen`` when one was."""

    id = AutoField()
    statement = ForeignKeyField(SettlementStatement, backref="items", on_delete="CASCADE")
    merchant_id = IntegerField()
    source_type = CharField(max_length=32)
    source_id = CharField(max_length=64)
    line = CharField(max_length=32)
    amount_fen = BigIntegerField()
    basis_fen = BigIntegerField(default=0)
    rate_bp = IntegerField(null=True)
    counterparty_merchant_id = IntegerField(null=True)
    order_no = CharField(max_length=32, null=True)
    occurred_at = UTCDateTimeField()

    class Meta:
        indexes = ((("source_type", "source_id", "merchant_id"), True),
                   (("statement", "id"), False))
