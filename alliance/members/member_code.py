"""The dynamic member code: a short-lived, HMAC-signed, single-use payload for a QR code.

Format ``MC1.<user_id>.<expires_epoch>.<nonce>.<signature>`` where the signature is
HMAC-SHA256 (key derived from SECRET_KEY for this purpose only) over everything before it,
base64url without padding. A code is accepted once, before it expires; both the expiry and
the single use are checked by the counter that scans it.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from peewee import CharField, IntegrityError

from alliance.db import BaseModel, UTCDateTimeField, transaction, utcnow
from alliance.errors import AllianceError

PREFIX = "MC1"
MAX_TTL_S = 60


class MemberCodeInvalid(AllianceError):
    code = "MEMBER_CODE_INVALID"
    http_status = 400
    message = "会员码无效，请让顾客刷新会员码"


class MemberCodeExpired(AllianceError):
    code = "MEMBER_CODE_EXPIRED"
    http_status = 400
    message = "会员码已过期，请让顾客刷新会员码"


class MemberCodeUsed(AllianceError):
    code = "MEMBER_CODE_USED"
    http_status = 409
    message = "会员码已被使用，请让顾客刷新会员码"


class UsedMemberCode(BaseModel):
    """Nonces of codes already scanned (kept until the code would have expired anyway)."""

    nonce = CharField(max_length=32, primary_key=True)
    expires_at = UTCDateTimeField(index=True)


@dataclass(frozen=True)
class MemberCode:
    payload: str
    expires_at: dt.datetime  # naive UTC


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class MemberCodeSigner:
    """Issues and checks member codes with a key derived from the server secret."""

    def __init__(self, secret_key: str, ttl_s: int = MAX_TTL_S):
        if not 5 <= ttl_s <= MAX_TTL_S:
            raise ValueError(f"member code lifetime must be 5..{MAX_TTL_S} s")
        self._key = hmac.new(secret_key.encode(), b"alliance member code v1", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest()[:18])

    def issue(self, user_id: int, now: dt.datetime | None = None) -> MemberCode:
        """A fresh code for ``user_id``, valid ``ttl_s`` seconds."""
        now = now or utcnow()
        expires = now.replace(microsecond=0) + dt.timedelta(seconds=self.ttl_s)
        epoch = int(expires.replace(tzinfo=dt.timezone.utc).timestamp())
        body = f"{PREFIX}.{user_id}.{epoch}.{secrets.token_hex(8)}"
        return MemberCode(f"{body}.{self._sign(body)}", expires)

    def verify(self, payload: str, now: dt.datetime | None = None) -> tuple[int, str, dt.datetime]:
        """(user_id, nonce, expires_at) of an authentic, unexpired code (not yet consumed)."""
        parts = (payload or "").strip().split(".")
        if len(parts) != 5 or parts[0] != PREFIX or not parts[4].isascii():
            raise MemberCodeInvalid(details={"reason": "format"})
        body = ".".join(parts[:4])
        if not hmac.compare_digest(self._sign(body), parts[4]):
            raise MemberCodeInvalid(details={"reason": "signature"})
        try:
            user_id, epoch = int(parts[1]), int(parts[2])
        except ValueError:
            raise MemberCodeInvalid(details={"reason": "format"}) from None
        expires = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).replace(tzinfo=None)
        if expires <= (now or utcnow()):
            raise MemberCodeExpired()
        return user_id, parts[3], expires

    def consume(self, payload: str, now: dt.datetime | None = None) -> int:
        """Verify the code and mark it used; the member's user id. Replays are refused."""
        user_id, nonce, expires = self.verify(payload, now)
        try:
            with transaction():
                UsedMemberCode.create(nonce=nonce, expires_at=expires)
        except IntegrityError:
            raise MemberCodeUsed() from None
        return user_id


def purge_used(now: dt.datetime | None = None) -> int:
    """Forget nonces of codes that have expired (they can no longer be replayed)."""
    with transaction():
        return UsedMemberCode.delete().where(UsedMemberCode.expires_at < (now or utcnow())).execute()
