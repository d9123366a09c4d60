"""The redemption table: one row per code redeemed at a counter."""
from __future__ import annotations

from peewee import AutoField, CharField, ForeignKeyField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant


class Redemption(BaseModel):
    """A code redeemed by ``staff_user_id`` at ``merchant`` (and ``shop_id``).

    ``ref_type``/``ref_id`` name what the code stood for (a coupon, an order); the issuer and
    distributor merchants are kept for settlement. ``status`` done -> undone (by a manager,
    within the undo window).
    """

    id = AutoField()
    kind = CharField(max_length=16)  # the registered code kind: coupon, ...
    code = CharField(max_length=32, index=True)
    merchant = ForeignKeyField(Merchant, backref="redemptions", on_delete="RESTRICT")
    shop_id = IntegerField(null=True)
    staff_user_id = IntegerField()
    user_id = IntegerField(null=True, index=True)  # the member who presented the code
    ref_type = CharField(max_length=16)
    ref_id = CharField(max_length=64)
    title = CharField(max_length=128, default="")
    issuer_merchant_id = IntegerField(null=True)
    distributor_merchant_id = IntegerField(null=True)
    status = CharField(max_length=16, default="done")  # done | undone
    created_at = UTCDateTimeField(default=utcnow)
    undone_at = UTCDateTimeField(null=True)
    undone_by = IntegerField(null=True)

    class Meta:
        indexes = ((("merchant", "id"), False),
                   (("ref_type", "ref_id"), False))
