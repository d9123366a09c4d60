"""The commission ledger between merchants."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class CommissionEntry(BaseModel):
    """``payer_merchant_id`` owes ``payee_merchant_id`` ``amount_fen`` for one business event.

    ``source_type``/``source_id`` name the event (``redemption``/its id) and are unique
    together, so an event owes once. ``status`` pending -> cancelled (the event was undone)
    or settled (by a statement).
    """

    id = AutoField()
    payer_merchant_id = IntegerField()
    payee_merchant_id = IntegerField()
    amount_fen = IntegerField()
    source_type = CharField(max_length=16)
    source_id = CharField(max_length=64)
    reason = CharField(max_length=32)  # coupon_distribution, ...
    status = CharField(max_length=16, default="pending")
    created_at = UTCDateTimeField(default=utcnow)
    cancelled_at = UTCDateTimeField(null=True)
    settled_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("source_type", "source_id"), True),
                   (("payee_merchant_id", "status", "created_at"), False),
                   (("payer_merchant_id", "status", "created_at"), False),
                   (("created_at",), False))  # settlement reads a period's entries
