"""Tables of merchants, their shops, their staff and the history of their audit."""
from __future__ import annotations

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, DoubleField,
                    ForeignKeyField, IntegerField, TextField)

from alliance.accounts.models import User
from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants import geo

MERCHANT_STATUSES = ("pending", "approved", "rejected", "suspended")


class Merchant(BaseModel):
    """A company in the alliance: its application, audit state and browse aggregates.

    ``rating_sum``/``rating_count`` are fed by reviews (``record_rating``); the rating shown
    is their quotient, null until the first review. ``popularity`` orders the "popular"
    list; sales (``record_sale``) feed it and the operators' sales ranking.
    """

    id = AutoField()
    name = CharField(max_length=64)
    company_name = CharField(max_length=128)
    credit_code = CharField(max_length=18, unique=True)
    industry = CharField(max_length=32)
    intro = TextField(default="")
    legal_rep_name = CharField(max_length=64)
    legal_rep_id_cipher = CharField(max_length=255)  # AES-GCM, see alliance.protect
    legal_rep_id_hash = CharField(max_length=64, index=True)  # keyed hash, for lookups
    legal_rep_id_masked = CharField(max_length=32)
    licence_upload = CharField(max_length=32)
    id_front_upload = CharField(max_length=32)
    id_back_upload = CharField(max_length=32)
    contact_phone = CharField(max_length=20)
    owner = ForeignKeyField(User, backref="owned_merchants", on_delete="RESTRICT")
    status = CharField(max_length=16, default="pending")
    status_reason = CharField(max_length=500, default="")
    rating_sum = IntegerField(default=0)
    rating_count = IntegerField(default=0)
    popularity = IntegerField(default=0)
    sales_count = IntegerField(default=0)
    sales_fen = BigIntegerField(default=0)
    # The platform's commission on this merchant's orders, in basis points (None: the
    # platform's rate, ALLIANCE_PLATFORM_COMMISSION_BP); see alliance.settlement.
    commission_bp = IntegerField(null=True)
    submitted_at = UTCDateTimeField(default=utcnow)
    reviewed_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = (
            (("status", "popularity", "id"), False),
            (("status", "industry", "popularity", "id"), False),
            (("status", "sales_fen"), False),
        )


class MerchantStatusChange(BaseModel):
    """One step of a merchant's audit history: who moved it from what to what, and why."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="status_changes", on_delete="CASCADE")
    from_status = CharField(max_length=16, null=True)
    to_status = CharField(max_length=16)
    actor_kind = CharField(max_length=16)  # user | operator | system
    actor_id = IntegerField(null=True)
    reason = CharField(max_length=500, default="")
    created_at = UTCDateTimeField(default=utcnow)


class Shop(BaseModel):
    """A physical shop of a merchant; coordinates are GCJ-02 (what WeChat's maps use).

    ``listed`` is true while the merchant is approved and the shop open for business: the
    nearby search reads it, with ``lat_band`` (``geo.lat_band(lat)``, kept by ``save`` and by
    the shops service), through the (listed, lat_band, lng, lat, merchant) index alone.
    """

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="shops", on_delete="CASCADE")
    name = CharField(max_length=64)
    logo_upload = CharField(max_length=32, null=True)
    intro = TextField(default="")
    address = CharField(max_length=255)
    lat = DoubleField()
    lng = DoubleField()
    lat_band = IntegerField()
    phone = CharField(max_length=20, default="")
    opening_hours = TextField(default="{}")  # JSON: {"mon": [["09:00", "21:00"]], ...}
    photos = TextField(default="[]")  # JSON list of upload ids
    status = CharField(max_length=16, default="open")  # open | closed
    listed = BooleanField(default=False)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("listed", "lat_band", "lng", "lat", "merchant"), False),)

    def save(self, *args, **kwargs):
        self.lat_band = geo.lat_band(self.lat)
        return super().save(*args, **kwargs)


class StaffMembership(BaseModel):
    """A user's role at one merchant (owner, manager or clerk)."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="staff", on_delete="CASCADE")
    user = ForeignKeyField(User, backref="staff_memberships", on_delete="CASCADE")
    role = CharField(max_length=32)
    status = CharField(max_length=16, default="active")  # active | removed
    invited_by = IntegerField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    removed_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("merchant", "user"), True),)


class StaffInvite(BaseModel):
    """A single-use invitation (code or QR) to join a merchant's staff with a role."""

    id = AutoField()
    merchant = ForeignKeyField(Merchant, backref="invites", on_delete="CASCADE")
    role = CharField(max_length=32)
    code = CharField(max_length=32, unique=True)
    created_by = ForeignKeyField(User, on_delete="CASCADE")
    expires_at = UTCDateTimeField()
    accepted_by = IntegerField(null=True)
    accepted_at = UTCDateTimeField(null=True)
    revoked_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)

