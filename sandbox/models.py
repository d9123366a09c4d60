"""The sandbox's own state (created on start in sandbox mode; never in production)."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, IntegerField

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


class SandboxTrade(BaseModel):
    """A trade as a payment provider keeps it. States use WeChat Pay's words (NOTPAY,
    SUCCESS, REFUND, CLOSED); the Alipay stand-in translates them."""

    id = AutoField()
    provider = CharField(max_length=16)  # wechatpay | wechatpay_v2 | alipay
    out_trade_no = CharField(max_length=64)
    appid = CharField(max_length=32)
    description = CharField(max_length=256)
    amount_fen = BigIntegerField()
    refunded_fen = BigIntegerField(default=0)
    payer = CharField(max_length=64, null=True)
    notify_url = CharField(max_length=512, default="")
    sign_type = CharField(max_length=16, null=True)  # v2: MD5 | HMAC-SHA256
    prepay_id = CharField(max_length=64)
    transaction_id = CharField(max_length=64, null=True, unique=True)
    notify_id = CharField(max_length=64, null=True)
    state = CharField(max_length=16, default="NOTPAY")
    created_at = UTCDateTimeField(default=utcnow)
    paid_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("provider", "out_trade_no"), True),)


class SandboxRefund(BaseModel):
    id = AutoField()
    trade = IntegerField(index=True)
    provider = CharField(max_length=16)
    out_trade_no = CharField(max_length=64)
    out_refund_no = CharField(max_length=64)
    refund_id = CharField(max_length=64, unique=True)
    amount_fen = BigIntegerField()
    notify_url = CharField(max_length=512, default="")
    status = CharField(max_length=16, default="PROCESSING")  # PROCESSING | SUCCESS
    created_at = UTCDateTimeField(default=utcnow)
    succeeded_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("provider", "out_trade_no", "out_refund_no"), True),)


SANDBOX_MODELS = [SandboxCode, SandboxAccessToken, SandboxFault, SandboxTrade, SandboxRefund]


def install() -> None:
    """Create the sandbox's tables if they are missing."""
    with db.connection_context():
        db.create_tables(SANDBOX_MODELS, safe=True)
