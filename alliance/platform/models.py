"""The platform's settings (one row) and every version of its policies."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class PlatformSettings(BaseModel):
    """The one row (id 1) of the platform's settings; absent until an administrator first
    changes them, and the defaults (alliance.platform.settings) answer until then.

    ``revision`` is bumped by every change first of all: the row lock it takes orders two
    concurrent changes, so each bumps the policy version the other committed.
    """

    id = IntegerField(primary_key=True)
    name = CharField(max_length=64)
    logo_upload = CharField(max_length=32, null=True)
    contact_phone = CharField(max_length=32)
    contact_hours = CharField(max_length=64)
    privacy_policy_version = IntegerField(default=1)
    user_agreement_version = IntegerField(default=1)
    revision = IntegerField(default=0)
    updated_by = IntegerField(null=True)  # the operator
    updated_at = UTCDateTimeField(default=utcnow)


class PolicyVersion(BaseModel):
    """The text of one version of a policy (privacy_policy | user_agreement), kept for good:
    what a consumer agreed to can be shown later."""

    id = AutoField()
    kind = CharField(max_length=16)
    version = IntegerField()
    text = TextField()
    created_by = IntegerField(null=True)  # the operator; None: the built-in default
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "version"), True),)
