"""The catalog table: goods and services of a merchant."""
from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant

ITEM_KINDS = ("goods", "service")
ITEM_STATUSES = ("draft", "pending_review", "on_shelf", "off_shelf", "rejected", "taken_down")


class CatalogItem(BaseModel):
    """One thing a merchant sells: goods are shipped, services redeemed in store.

    A change of name, images or price of an item that already passed review waits in
    ``pending_changes`` (JSON) while the item keeps selling as approved; ``review_pending``
    marks everything in the operators' review queue (new items and such changes).
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="items", on_delete="CASCADE")
    kind = CharField(max_length=16)
    name = CharField(max_length=64)
    category = CharField(max_length=32, default="")
    price_fen = IntegerField()
    original_price_fen = IntegerField(null=True)
    images = TextField(default="[]")  # JSON list of upload ids
    description = TextField(default="")
    stock = IntegerField(default=0)
    sales_count = IntegerField(default=0)
    status = CharField(max_length=16, default="draft")
    review_pending = BooleanField(default=False)
    pending_changes = TextField(null=True)
    review_note = CharField(max_length=500, default="")
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("merchant", "status", "id"), False),
            (("merchant", "status", "price_fen", "id"), False),
            (("merchant", "status", "sales_count", "id"), False),
            (("review_pending", "updated_at"), False),
            # The alliance-wide goods search (alliance.catalog.search), one per sort.
            (("status", "sales_count", "id"), False),
            (("status", "price_fen", "id"), False),
            (("status", "id"), False),
        )
