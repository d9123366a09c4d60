"""After-sales tables: return/refund requests, reviews and complaints."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.orders.models import Order, OrderLine

# After-sale request statuses.
AS_REQUESTED = "requested"  # waiting for the merchant
AS_APPROVED = "approved"  # return_refund: waiting for the goods to come back
AS_RETURNED = "returned"  # return_refund: the consumer sent the goods back
AS_REJECTED = "rejected"  # by the merchant; the consumer may ask the platform to arbitrate
AS_ARBITRATING = "arbitrating"
AS_REFUNDING = "refunding"
AS_REFUNDED = "refunded"
AS_FAILED = "failed"  # the provider refused the refund: operators take over
AS_CLOSED = "closed"  # withdrawn by the consumer, or rejected by the platform
AFTER_SALE_STATUSES = (AS_REQUESTED, AS_APPROVED, AS_RETURNED, AS_REJECTED, AS_ARBITRATING,
                       AS_REFUNDING, AS_REFUNDED, AS_FAILED, AS_CLOSED)
AS_OPEN = (AS_REQUESTED, AS_APPROVED, AS_RETURNED, AS_REJECTED, AS_ARBITRATING, AS_REFUNDING,
           AS_FAILED)
AFTER_SALE_KINDS = ("refund", "return_refund")


class AfterSale(BaseModel):
    """A consumer's request to get money back (``refund``) or to return goods for it
    (``return_refund``); decided by the merchant, arbitrated by the platform when disputed.

    ``lines`` (JSON {line_id: quantity}) are the units the consumer returns.
    """

    id = AutoField()
    order = ForeignKeyField(Order, backref="after_sales", on_delete="CASCADE")
    user_id = IntegerField(index=True)
    merchant_id = IntegerField()
    kind = CharField(max_length=16)
    status = CharField(max_length=16, default=AS_REQUESTED)
    amount_fen = BigIntegerField()
    reason = CharField(max_length=255)
    photos = TextField(default="[]")
    lines = TextField(default="{}")
    return_carrier = CharField(max_length=32, default="")
    return_tracking_no = CharField(max_length=64, default="")
    merchant_note = CharField(max_length=255, default="")
    decided_by = IntegerField(null=True)
    decided_at = UTCDateTimeField(null=True)
    arbitration_reason = CharField(max_length=255, default="")
    arbitration_note = CharField(max_length=255, default="")
    arbitrated_by = IntegerField(null=True)  # operator id
    arbitrated_at = UTCDateTimeField(null=True)
    refund_id = IntegerField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant_id", "status", "id"), False), (("status", "id"), False))


class Review(BaseModel):
    """A consumer's rating (1-5) of one item of a completed order; once per order line."""

    id = AutoField()
    order = ForeignKeyField(Order, backref="reviews", on_delete="CASCADE")
    line = ForeignKeyField(OrderLine, backref="review", on_delete="CASCADE", unique=True)
    user_id = IntegerField()
    merchant_id = IntegerField()
    item_id = IntegerField()
    rating = IntegerField()
    content = TextField(default="")
    photos = TextField(default="[]")
    reply = TextField(default="")
    replied_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("merchant_id", "id"), False), (("item_id", "id"), False))


class Complaint(BaseModel):
    """A consumer's complaint to the platform about a merchant (optionally an order), or a
    suggestion (about a merchant, or the platform: no merchant)."""

    id = AutoField()
    user_id = IntegerField(index=True)
    merchant_id = IntegerField(null=True)
    order_id = IntegerField(null=True)
    category = CharField(max_length=32)
    content = TextField()
    photos = TextField(default="[]")
    status = CharField(max_length=16, default="open")  # open | resolved | dismissed
    resolution = CharField(max_length=500, default="")
    operator_id = IntegerField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    resolved_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "id"), False), (("merchant_id", "id"), False))
