"""The sandbox's own state (created on start in sandbox mode; never in production)."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField

from alliance.db import BaseModel, UTCDateTimeField, db, utcnow


class SandboxCode(BaseModel):
    """A one-time code as WeChat issues them (wx.login, getPhoneNumber)."""

    code = CharField(max_length=64, primary_key=True)
    kind = CharField(max_length=16)  # login | phone
    subject = CharField(max_length=64)  # the stand-in user name, or the phone number
    created_at = UTCDateTimeField(default=utcnow)
    used_at = UTCDateTimeField(null=True)


class SandboxAccessToken(BaseModel):
    token = CharField(max_length=128, primary_key=True)
    appid = CharField(max_length=32, index=True)
    expires_at = UTCDateTimeField()


class SandboxFault(BaseModel):
    """A failure to answer the next ``remaining`` calls of ``api`` with."""

    id = AutoField()
    api = CharField(max_length=64, index=True)
    errcode = IntegerField()
    remaining = IntegerField(default=1)


SANDBOX_MODELS = [SandboxCode, SandboxAccessToken, SandboxFault]


def install() -> None:
    """Create the sandbox's tables if they are missing."""
    with db.connection_context():
        db.create_tables(SANDBOX_MODELS, safe=True)
