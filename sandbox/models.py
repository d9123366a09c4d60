"""The sandbox's own state (created on start in sandbox mode; never in production)."""
from __future__ import annotations

from peewee import AutoField, BooleanField, CharField, IntegerField, TextField

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


class SandboxApiCall(BaseModel):
    """How often each imitated API was called (tests check that caches spare WeChat)."""

    api = CharField(max_length=64, primary_key=True)
    count = IntegerField(default=0)


class SandboxOaUser(BaseModel):
    """A stand-in person as the official account knows them."""

    openid = CharField(max_length=64, primary_key=True)
    name = CharField(max_length=64)
    unionid = CharField(max_length=64)
    subscribed = BooleanField(default=True)


class SandboxOaQrCode(BaseModel):
    """A parametric QR code the official account issued."""

    ticket = CharField(max_length=128, primary_key=True)
    scene = CharField(max_length=64)
    url = CharField(max_length=255)
    expires_at = UTCDateTimeField(null=True)


class SandboxSentMessage(BaseModel):
    """A subscribe or template message WeChat accepted (an inbox for tests and demos)."""

    id = AutoField()
    kind = CharField(max_length=16)  # subscribe | template
    touser = CharField(max_length=64, index=True)
    template_id = CharField(max_length=128)
    client_msg_id = CharField(max_length=64, null=True, unique=True)
    body = TextField()
    created_at = UTCDateTimeField(default=utcnow)


SANDBOX_MODELS = [SandboxCode, SandboxAccessToken, SandboxFault, SandboxApiCall, SandboxOaUser,
                  SandboxOaQrCode, SandboxSentMessage]


def install() -> None:
    """Create the sandbox's tables if they are missing."""
    with db.connection_context():
        db.create_tables(SANDBOX_MODELS, safe=True)
