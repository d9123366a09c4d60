"""The uploads table: what was stored, by whom, for what."""
from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField

from alliance.accounts.models import User
from alliance.db import BaseModel, UTCDateTimeField, utcnow


class Upload(BaseModel):
    """An uploaded image. Public ones (logos, shop photos, item images) are served to anyone
    by their unguessable id; private ones (licences, ID cards) only by signed short-lived URL.
    """

    id = CharField(max_length=32, primary_key=True)
    # A consumer's or merchant staff's upload has an owner; an operator's (the platform's
    # logo) has none and names the operator instead.
    owner = ForeignKeyField(User, backref="uploads", on_delete="CASCADE", null=True)
    operator_id = IntegerField(null=True)
    purpose = CharField(max_length=16)
    storage_key = CharField(max_length=128)
    content_type = CharField(max_length=32)
    size_bytes = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)

