"""WeChat's server API, imitated: access tokens, jscode2session, phone numbers.

Codes: ``sandbox-<name>`` always logs in the stand-in user ``<name>``; codes minted through
``_control/login-codes`` behave as ``wx.login`` codes do (one use, five minutes: unknown or
expired -> 40029, reused -> 40163). ``sandbox-phone-<11 digits>`` is a getPhoneNumber code for
that number. ``_control/faults`` makes the next calls of an API fail with a given errcode
(45011 rate limit, -1 busy, 40226 high-risk user, 42001 token expired, ...).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets

from alliance.db import connection, transaction, utcnow
from alliance.prepared import Arg, Prepared
from sandbox.models import SandboxAccessToken, SandboxCode, SandboxFault
from sandbox.base import SandboxHandler

CODE_TTL = dt.timedelta(minutes=5)
TOKEN_TTL_S = 7200
STABLE_HANDOVER = dt.timedelta(minutes=5)
ERRMSG = {
    -1: "system error", 40001: "invalid credential, access_token is invalid or not latest",
    40013: "invalid appid", 40029: "invalid code", 40125: "invalid appsecret",
    40163: "code been used", 40226: "high risk user", 41001: "access_token missing",
    42001: "access_token expired", 45011: "api minute-quota reach limit mustslower retry next minute",
    40002: "invalid grant_type",
}
_PHONE_CODE = re.compile(r"^sandbox-phone-(1[3-9]\d{9})$")


def stand_in_id(prefix: str, name: str) -> str:
    """A stable 28-character WeChat-style id for a stand-in user."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(f"{prefix}:{name}".encode()).digest())
    return "o" + digest.decode()[:27]


def error(errcode: int) -> dict:
    return {"errcode": errcode, "errmsg": ERRMSG.get(errcode, "error")}


# Kept SQL (alliance.prepared.Prepared): the stand-ins answer every payment's message on the
# machine the server runs on, and peewee building these anew cost most of their time.
_PENDING_FAULT = Prepared(lambda: SandboxFault.select().where(
    SandboxFault.api == Arg(0), SandboxFault.remaining > 0).order_by(SandboxFault.id).limit(1))
_TAKE_FAULT = Prepared(lambda: SandboxFault.update(remaining=SandboxFault.remaining - 1)
                       .where(SandboxFault.id == Arg(0), SandboxFault.remaining > 0))
_TOKEN = Prepared(lambda: SandboxAccessToken.select().where(
    SandboxAccessToken.token == Arg(0)).limit(1))


def take_fault(api: str) -> int | None:
    """The errcode of a pending injected fault for ``api`` (consumed), or None."""
    # Read first: with no fault pending (every call but a test's) nothing is written, so no
    # write lock is taken; the guarded UPDATE alone decides who consumes a fault.
    with connection():
        fault = _PENDING_FAULT.first(api)
        if fault is None:
            return None
        taken = _TAKE_FAULT.execute(fault.id)
        return fault.errcode if taken else None


class WechatSandbox:
    """The behaviour behind the handlers, callable directly (tests, other sandboxes)."""

    def __init__(self, settings):
        self.apps = {settings.wechat_miniapp_appid: settings.wechat_miniapp_secret,
                     settings.wechat_oa_appid: settings.wechat_oa_secret}
        self.miniapp_appid = settings.wechat_miniapp_appid

    def issue_token(self, appid: str, secret: str) -> dict:
        if appid not in self.apps:
            return error(40013)
        if self.apps[appid] != secret:
            return error(40125)
        fault = take_fault("token")
        if fault is not None:
            return error(fault)
        token = secrets.token_urlsafe(96)
        with transaction():
            SandboxAccessToken.create(token=token, appid=appid,
                                      expires_at=utcnow() + dt.timedelta(seconds=TOKEN_TTL_S))
        return {"access_token": token, "expires_in": TOKEN_TTL_S}

    def stable_token(self, appid: str, secret: str, force_refresh: bool) -> dict:
        """``cgi-bin/stable_token``: in normal mode the app's current token while it has more
        than 5 minutes left (with its remaining lifetime), else a new one (the old one stays
        valid until it expires, as WeChat's hand-over guarantees)."""
        if not force_refresh and appid in self.apps and self.apps[appid] == secret:
            now = utcnow()
            current = (SandboxAccessToken.select()
                       .where(SandboxAccessToken.appid == appid,
                              SandboxAccessToken.expires_at > now + STABLE_HANDOVER)
                       .order_by(SandboxAccessToken.expires_at.desc()).first())
            if current is not None:
                return {"access_token": current.token,
                        "expires_in": int((current.expires_at - now).total_seconds())}
        return self.issue_token(appid, secret)

    def check_token(self, token: str | None) -> int | None:
        """None when ``token`` is valid, else the errcode WeChat answers."""
        if not token:
            return 41001
        row = _TOKEN.first(token)
        if row is None:
            return 40001
        if row.expires_at <= utcnow():
            return 42001
        return None

    def code_to_session(self, appid: str, secret: str, code: str, grant_type: str) -> dict:
        if appid != self.miniapp_appid:
            return error(40013)
        if self.apps[appid] != secret:
            return error(40125)
        if grant_type != "authorization_code":
            return error(40002)
        fault = take_fault("jscode2session")
        if fault is not None:
            return error(fault)
        if code.startswith("sandbox-") and len(code) > 8:
            name = code[len("sandbox-"):]
        else:
            name = self._redeem_code(code, "login")
            if isinstance(name, int):
                return error(name)
        return {"openid": stand_in_id(appid, name),
                "session_key": base64.b64encode(hashlib.sha256(name.encode()).digest()[:16]).decode(),
                "unionid": stand_in_id("union", name), "errcode": 0, "errmsg": "ok"}

    def phone_number(self, token: str | None, code: str | None) -> dict:
        token_error = self.check_token(token)
        if token_error:
            return error(token_error)
        fault = take_fault("getuserphonenumber")
        if fault is not None:
            return error(fault)
        match = _PHONE_CODE.match(code or "")
        phone = match.group(1) if match else self._redeem_code(code or "", "phone")
        if isinstance(phone, int):
            return error(phone)
        return {"errcode": 0, "errmsg": "ok", "phone_info": {
            "phoneNumber": phone, "purePhoneNumber": phone, "countryCode": 86,
            "watermark": {"timestamp": int(utcnow().timestamp()), "appid": self.miniapp_appid}}}

    @staticmethod
    def _redeem_code(code: str, kind: str) -> str | int:
        """The subject of a minted one-time code, or the errcode for it."""
        now = utcnow()
        with transaction():
            row = SandboxCode.get_or_none(SandboxCode.code == code, SandboxCode.kind == kind)
            if row is None or row.created_at < now - CODE_TTL:
                return 40029
            taken = (SandboxCode.update(used_at=now)
                     .where(SandboxCode.code == code, SandboxCode.used_at.is_null()).execute())
            return row.subject if taken else 40163

    @staticmethod
    def mint_code(kind: str, subject: str) -> str:
        code = secrets.token_hex(16)
        with transaction():
            SandboxCode.create(code=code, kind=kind, subject=subject)
        return code

    @staticmethod
    def add_fault(api: str, errcode: int, count: int) -> None:
        with transaction():
            SandboxFault.create(api=api, errcode=errcode, remaining=count)

    @staticmethod
    def expire_tokens() -> int:
        with transaction():
            now = utcnow()
            return (SandboxAccessToken.update(expires_at=now - dt.timedelta(seconds=1))
                    .where(SandboxAccessToken.expires_at > now).execute())


class _Handler(SandboxHandler):
    @property
    def sandbox(self) -> WechatSandbox:
        return self.ctx.extras["wechat_sandbox"]


class TokenHandler(_Handler):
    async def get(self):
        self.write_json(await self.run_sync(
            self.sandbox.issue_token, self.query("appid", ""), self.query("secret", "")))


class StableTokenHandler(_Handler):
    async def post(self):
        body = self.json_body()
        self.write_json(await self.run_sync(
            self.sandbox.stable_token, str(body.get("appid", "")), str(body.get("secret", "")),
            body.get("force_refresh") is True))


class JsCode2SessionHandler(_Handler):
    async def get(self):
        self.write_json(await self.run_sync(
            self.sandbox.code_to_session, self.query("appid", ""), self.query("secret", ""),
            self.query("js_code", ""), self.query("grant_type", "")))


class PhoneNumberHandler(_Handler):
    async def post(self):
        body = self.json_body()
        self.write_json(await self.run_sync(
            self.sandbox.phone_number, self.query("access_token"), body.get("code")))


class LoginCodeControl(_Handler):
    async def post(self):
        name = str(self.json_body().get("name") or "").strip()[:48] or "guest"
        code = await self.run_sync(self.sandbox.mint_code, "login", name)
        self.write_json({"code": code, "expires_in": int(CODE_TTL.total_seconds())}, 201)


class PhoneCodeControl(_Handler):
    async def post(self):
        phone = str(self.json_body().get("phone") or "")
        if not re.fullmatch(r"1[3-9]\d{9}", phone):
            self.write_json({"errcode": 40029, "errmsg": "phone must be a mainland mobile"}, 400)
            return
        code = await self.run_sync(self.sandbox.mint_code, "phone", phone)
        self.write_json({"code": code, "expires_in": int(CODE_TTL.total_seconds())}, 201)


class FaultControl(_Handler):
    async def post(self):
        body = self.json_body()
        try:
            api, errcode = str(body["api"]), int(body["errcode"])
            count = max(1, int(body.get("count", 1)))
        except (KeyError, TypeError, ValueError):
            self.write_json({"errcode": 40097, "errmsg": "api and errcode are required"}, 400)
            return
        await self.run_sync(self.sandbox.add_fault, api, errcode, count)
        self.write_json({"api": api, "errcode": errcode, "count": count}, 201)


class ExpireTokensControl(_Handler):
    async def post(self):
        self.write_json({"expired": await self.run_sync(self.sandbox.expire_tokens)})


def routes(prefix: str = "/_sandbox/wechat") -> list:
    return [
        (rf"{prefix}/cgi-bin/token", TokenHandler),
        (rf"{prefix}/cgi-bin/stable_token", StableTokenHandler),
        (rf"{prefix}/sns/jscode2session", JsCode2SessionHandler),
        (rf"{prefix}/wxa/business/getuserphonenumber", PhoneNumberHandler),
        (rf"{prefix}/_control/login-codes", LoginCodeControl),
        (rf"{prefix}/_control/phone-codes", PhoneCodeControl),
        (rf"{prefix}/_control/faults", FaultControl),
        (rf"{prefix}/_control/expire-tokens", ExpireTokensControl),
    ]
