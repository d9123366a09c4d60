"""The sandbox's own state (created on start in sandbox mode; never in production)."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField, TextField

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


class SandboxSmsMessage(BaseModel):
    """A text message the Aliyun SMS stand-in accepted (one row per number)."""

    id = AutoField()
    phone = CharField(max_length=20, index=True)
    sign_name = CharField(max_length=64)
    template_code = CharField(max_length=32)
    template_param = TextField()
    content = TextField()
    biz_id = CharField(max_length=64)
    created_at = UTCDateTimeField(default=utcnow)


class SandboxSmsNonce(BaseModel):
    """A ``SignatureNonce`` already seen (Aliyun refuses a nonce twice)."""

    nonce = CharField(max_length=64, primary_key=True)
    created_at = UTCDateTimeField(default=utcnow)


class SandboxSmsFault(BaseModel):
    """An Aliyun error ``Code`` to answer the next ``remaining`` SendSms calls with."""

    id = AutoField()
    code = CharField(max_length=64)
    remaining = IntegerField(default=1)


class SandboxMailMessage(BaseModel):
    """A mail the sandbox's SMTP server received (one row per recipient)."""

    id = AutoField()
    mail_from = CharField(max_length=191)
    rcpt_to = CharField(max_length=191, index=True)
    subject = TextField()
    text = TextField()
    raw = TextField()
    created_at = UTCDateTimeField(default=utcnow)


SANDBOX_MODELS = [SandboxCode, SandboxAccessToken, SandboxFault, SandboxSmsMessage,
                  SandboxSmsNonce, SandboxSmsFault, SandboxMailMessage]


def install() -> None:
    """Create the sandbox's tables if they are missing."""
    with db.connection_context():
        db.create_tables(SANDBOX_MODELS, safe=True)
