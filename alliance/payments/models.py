"""The durable record of every provider notification we received."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow

RECEIVED = "received"    # verified and recorded; no handler has applied it yet
PROCESSED = "processed"  # applied by the domain's handler
ABNORMAL = "abnormal"    # applied, and the handler found it wrong (e.g. amount mismatch)
REJECTED = "rejected"    # failed verification: never applied, holds no notification id
NOTIFICATION_STATUSES = (RECEIVED, PROCESSED, ABNORMAL, REJECTED)


class PaymentNotification(BaseModel):
    """One provider notification; the unique (channel, notification_id) makes repeats one row.

    Rejected notifications keep ``notification_id`` NULL so that a forgery can never
    occupy the id of the genuine notification.
    """

    id = AutoField()
    channel = CharField(max_length=16)
    notification_id = CharField(max_length=128, null=True)
    kind = CharField(max_length=8)  # payment | refund | unknown (rejected)
    out_trade_no = CharField(max_length=64, null=True, index=True)
    out_refund_no = CharField(max_length=64, null=True)
    transaction_id = CharField(max_length=64, null=True)
    amount_fen = BigIntegerField(null=True)
    status = CharField(max_length=16, default=RECEIVED, index=True)
    reason = CharField(max_length=255, null=True)
    payload = TextField(null=True)  # the verified notice, to apply it again later
    received_at = UTCDateTimeField(default=utcnow)
    processed_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("channel", "notification_id"), True),)
