"""One-time verification codes sent by SMS or email, and their limits.

A code is six digits, valid five minutes, and burnt by five wrong tries. A new code for
the same address can be sent sixty seconds after the last one (it replaces the old code);
each address and each client IP may ask for a limited number of codes per day (a day is a
calendar day in Asia/Shanghai). Every limit answers 429 ``RATE_LIMITED`` with
``retry_after``. The limits are guarded updates and counters in the database, so they hold
across server processes on SQLite and MySQL alike.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Callable

from alliance.accounts.models import LoginCode
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, RateLimited
from alliance.infra import ratelimit

SMS = "sms"
EMAIL = "email"
CHANNELS = (SMS, EMAIL)

CODE_TTL = dt.timedelta(minutes=5)
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_WRONG_TRIES = 5
_DAY_S = 86400
_SHANGHAI_OFFSET_S = 8 * 3600  # China keeps no daylight saving time


class CodeInvalid(AllianceError):
    code = "VERIFICATION_CODE_INVALID"
    http_status = 400
    message = "验证码错误"


class CodeExpired(AllianceError):
    code = "VERIFICATION_CODE_EXPIRED"
    http_status = 400
    message = "验证码已过期，请重新获取"


class CodeBurnt(AllianceError):
    code = "VERIFICATION_CODE_BURNT"
    http_status = 400
    message = "验证码错误次数过多，请重新获取"


@dataclass(frozen=True)
class CodeLimits:
    """How many codes one address and one client IP may ask for per day."""

    per_address_daily: int = 10
    per_ip_daily: int = 30


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    resend_after: int

    def as_dict(self) -> dict:
        return {"expires_in": self.expires_in, "resend_after": self.resend_after}


def _hash(salt: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _digest(target: str) -> str:
    """An address as it may appear in counter names (no personal data in plain text)."""
    return hashlib.sha256(target.encode()).hexdigest()[:24]


def _count_daily(bucket: str, limit: int, scope: str) -> None:
    # Windows of one day aligned on Shanghai midnight: the counter's clock is shifted by
    # the offset, which also keeps its row 8 h past the real end of the day (harmless).
    hits, retry_after = ratelimit.db_hit(bucket, _DAY_S, now=time.time() + _SHANGHAI_OFFSET_S)
    if hits > limit:
        raise RateLimited(retry_after, message="今日获取验证码次数已达上限，请明天再试",
                          details={"scope": scope, "limit": limit, "period": "day"})


def send_code(channel: str, target: str, client_ip: str, deliver: Callable[[str], object],
              limits: CodeLimits) -> CodeSent:
    """Issue a new code for ``target`` and hand it to ``deliver`` once recorded.

    The code is committed before it is delivered; a delivery that fails marks it unusable
    and lets the address ask again at once (the daily counts keep the attempt).
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    code = f"{secrets.randbelow(10 ** 6):06d}"
    salt = secrets.token_hex(8)
    code_hash = _hash(salt, code)
    now = utcnow()
    # The address's row exists before the transaction that takes it: on InnoDB a refused
    # INSERT IGNORE keeps a shared lock on the row until its transaction ends, and two
    # requests each holding one then wanting to UPDATE it deadlock (a double-tapped "send").
    with transaction():
        LoginCode.insert(channel=channel, target=target).on_conflict_ignore().execute()
    with transaction():
        taken = (LoginCode.update(code_hash=code_hash, salt=salt, state="active", attempts=0,
                                  sent_at=now, expires_at=now + CODE_TTL)
                 .where(LoginCode.channel == channel, LoginCode.target == target,
                        LoginCode.sent_at.is_null() | (LoginCode.sent_at <= now - RESEND_AFTER))
                 .execute())
        if not taken:
            row = LoginCode.get(LoginCode.channel == channel, LoginCode.target == target)
            wait = math.ceil((row.sent_at + RESEND_AFTER - now).total_seconds())
            raise RateLimited(wait, message="验证码发送太频繁，请稍后再试",
                              details={"scope": "resend",
                                       "interval_s": int(RESEND_AFTER.total_seconds())})
        _count_daily(f"code-{channel}:{_digest(target)}", limits.per_address_daily, "address")
        _count_daily(f"code-{channel}-ip:{client_ip}", limits.per_ip_daily, "ip")
    try:
        deliver(code)
    except Exception:
        with transaction():
            (LoginCode.update(state="failed", sent_at=None)
             .where(LoginCode.channel == channel, LoginCode.target == target,
                    LoginCode.code_hash == code_hash).execute())
        raise
    return CodeSent(expires_in=int(CODE_TTL.total_seconds()),
                    resend_after=int(RESEND_AFTER.total_seconds()))


def consume_code(channel: str, target: str, code: str) -> None:
    """Accept ``code`` for ``target`` once, or raise why not.

    Call it outside any transaction: a wrong try must be counted even though the call then
    fails. Five wrong tries burn the code; so does nothing else but a new send.
    """
    now = utcnow()
    row = LoginCode.get_or_none(LoginCode.channel == channel, LoginCode.target == target)
    if row is not None and row.state == "burnt":
        raise CodeBurnt(details={"max_tries": MAX_WRONG_TRIES})
    if row is None or row.state != "active":
        raise CodeInvalid(details={"reason": "no code was sent, or it was used"})
    if row.expires_at <= now:
        raise CodeExpired(details={"ttl_s": int(CODE_TTL.total_seconds())})
    where = (LoginCode.id == row.id, LoginCode.state == "active",
             LoginCode.code_hash == row.code_hash)
    if not hmac.compare_digest(row.code_hash, _hash(row.salt, code)):
        with transaction():
            LoginCode.update(attempts=LoginCode.attempts + 1).where(*where).execute()
            burnt = (LoginCode.update(state="burnt")
                     .where(*where, LoginCode.attempts >= MAX_WRONG_TRIES).execute())
        tries = LoginCode.select(LoginCode.attempts).where(LoginCode.id == row.id).scalar() or 0
        if burnt or tries >= MAX_WRONG_TRIES:
            raise CodeBurnt(details={"max_tries": MAX_WRONG_TRIES})
        raise CodeInvalid(details={"tries_left": MAX_WRONG_TRIES - tries})
    with transaction():
        taken = (LoginCode.update(state="used")
                 .where(*where, LoginCode.attempts < MAX_WRONG_TRIES,
                        LoginCode.expires_at > now).execute())
    if not taken:
        raise CodeInvalid(details={"reason": "the code changed or was used meanwhile"})
