"""Tables of people and their sign-in state."""
from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow


class User(BaseModel):
    """A consumer (and possibly merchant staff): one person, one account."""

    id = AutoField()
    nickname = CharField(max_length=64, default="")
    avatar_url = CharField(max_length=512, default="")
    phone = CharField(max_length=20, null=True, unique=True)
    email = CharField(max_length=191, null=True, unique=True)  # lower-cased
    # active | disabled | deleted (personal data erased) | merged (into another account)
    status = CharField(max_length=16, default="active", index=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)


class WechatIdentity(BaseModel):
    """A WeChat openid of one of our apps (mini-program or official account), tied to a user."""

    id = AutoField()
    appid = CharField(max_length=32)
    openid = CharField(max_length=64)
    unionid = CharField(max_length=64, null=True, index=True)
    user = ForeignKeyField(User, backref="wechat_identities", on_delete="CASCADE")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("appid", "openid"), True),)


class RefreshFamily(BaseModel):
    """A chain of rotated refresh tokens from one login; revoked whole on reuse."""

    id = CharField(max_length=32, primary_key=True)
    subject_kind = CharField(max_length=16)  # user | operator
    subject_id = CharField(max_length=32, index=True)
    created_at = UTCDateTimeField(default=utcnow)
    revoked_at = UTCDateTimeField(null=True)
    revoked_reason = CharField(max_length=32, null=True)


class RefreshToken(BaseModel):
    """One refresh token of a family; ``used_at`` is set when it is rotated."""

    jti = CharField(max_length=32, primary_key=True)
    family = ForeignKeyField(RefreshFamily, backref="tokens", on_delete="CASCADE")
    issued_at = UTCDateTimeField(default=utcnow)
    expires_at = UTCDateTimeField()
    used_at = UTCDateTimeField(null=True)
    replaced_by = CharField(max_length=32, null=True)
    revoked = BooleanField(default=False)


class Operator(BaseModel):
    """A console account of the platform's staff (administrator, operator, customer service)."""

    id = AutoField()
    username = CharField(max_length=64, unique=True)
    display_name = CharField(max_length=64, default="")
    password_hash = CharField(max_length=255)
    role = CharField(max_length=32)
    status = CharField(max_length=16, default="active")  # active | disabled
    failed_attempts = IntegerField(default=0)
    locked_until = UTCDateTimeField(null=True)
    last_login_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=utcnow)


class OperatorAuditLog(BaseModel):
    """What an operator did, to what, when and why (append-only)."""

    id = AutoField()
    operator = ForeignKeyField(Operator, backref="audit_entries", on_delete="RESTRICT")
    action = CharField(max_length=64, index=True)
    target_type = CharField(max_length=32)
    target_id = CharField(max_length=64)
    reason = CharField(max_length=500, default="")
    details = TextField(default="{}")
    created_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        indexes = ((("target_type", "target_id"), False),)
class LoginCode(BaseModel):
    """The current one-time code sent to a phone number or an email address.

    One row per address, reused by every send: a new send replaces the code (the old one
    stops working), and the guarded updates on this row enforce the resend interval and
    the wrong-try budget on both databases.
    """

    id = AutoField()
    channel = CharField(max_length=8)  # sms | email
    target = CharField(max_length=191)  # normalised phone number or email address
    code_hash = CharField(max_length=64, default="")
    salt = CharField(max_length=32, default="")
    state = CharField(max_length=16, default="new")  # new | active | used | burnt | failed
    attempts = IntegerField(default=0)
    sent_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("channel", "target"), True),)


class AccountMerge(BaseModel):
    """The record of one account merged into another (one person, one account)."""

    id = AutoField()
    source_user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    target_user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    reason = CharField(max_length=16)  # phone | email | unionid
    moved = TextField(default="{}")  # JSON: rows moved per registered handler
    created_at = UTCDateTimeField(default=utcnow)
