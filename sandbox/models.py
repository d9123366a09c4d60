"""The sandbox's own state (created on start in sandbox mode; never in production)."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, BooleanField, CharField, IntegerField, TextField

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


SANDBOX_MODELS = [SandboxCode, SandboxAccessToken, SandboxFault, SandboxApiCall, SandboxOaUser,
                  SandboxOaQrCode, SandboxSentMessage, SandboxTrade, SandboxRefund,
                  SandboxSmsMessage, SandboxSmsNonce, SandboxSmsFault, SandboxMailMessage]


def install() -> None:
    """Create the sandbox's tables if they are missing."""
    with db.connection_context():
        db.create_tables(SANDBOX_MODELS, safe=True)
