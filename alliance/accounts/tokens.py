"""Access and refresh tokens (JWT, HS256 pinned).

Access tokens live two hours and carry the principal; refresh tokens live thirty days, are
single-use and rotate. Presenting a refresh token that was already rotated means it leaked:
the whole family (every token descended from that login) is revoked.
"""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

import jwt

from alliance.accounts.models import RefreshFamily, RefreshToken
from alliance.accounts.permissions import Principal
from alliance.db import pipelined_transaction, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.errors import TokenExpired, TokenInvalid, Unauthenticated
from alliance.infra.localcache import LocalCache

ALGORITHM = "HS256"
ISSUER = "alliance"
AUDIENCES = {"user": "alliance:user", "operator": "alliance:operator"}
_REQUIRED = ["exp", "iat", "sub", "iss", "aud", "typ", "jti"]


# Every authenticated request reads this: its SQL is built once (alliance.prepared.Prepared).
_FAMILY_STATE = Prepared(lambda: RefreshFamily.select(RefreshFamily.id, RefreshFamily.revoked_at)
                         .where(RefreshFamily.id == Arg(0)).limit(1))
# Every login and every refresh writes these.
_NEW_FAMILY = PreparedInsert(RefreshFamily)
_NEW_REFRESH = PreparedInsert(RefreshToken)
# Logins found active, per process: every revocation forgets its family in its transaction,
# so the revoking process refuses the login at once and the others within about a second
# (alliance.infra.localcache's feed); if the feed cannot be read, within the lifetime.
ACTIVE_FAMILIES = LocalCache(30, max_entries=100_000, name="login_family")


class RefreshTokenReused(Unauthenticated):
    code = "REFRESH_TOKEN_REUSED"
    message = "登录凭证已失效，请重新登录"


class FamilyRevoked(Unauthenticated):
    code = "SESSION_REVOKED"
    message = "登录已失效，请重新登录"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int

    def as_dict(self) -> dict:
        return {"access_token": self.access_token, "refresh_token": self.refresh_token,
                "token_type": "Bearer", "expires_in": self.expires_in}


class TokenService:
    """Issues, verifies and rotates tokens with one secret."""

    def __init__(self, secret: str, access_ttl_s: int = 7200, refresh_ttl_s: int = 30 * 86400):
        if len(secret.encode()) < 32:
            raise ValueError("SECRET_KEY must be at least 32 bytes")
        self._secret = secret
        self.access_ttl_s = access_ttl_s
        self.refresh_ttl_s = refresh_ttl_s

    # -- encoding ---------------------------------------------------------------------
    def _encode(self, typ: str, kind: str, subject_id: int | str, ttl_s: int, **claims) -> str:
        now = dt.datetime.now(dt.timezone.utc)
        payload = {"iss": ISSUER, "aud": AUDIENCES[kind], "sub": str(subject_id), "typ": typ,
                   "iat": now, "exp": now + dt.timedelta(seconds=ttl_s),
                   "jti": secrets.token_hex(16), **claims}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def _decode(self, token: str, kind: str, typ: str) -> dict:
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                audience=AUDIENCES[kind], issuer=ISSUER,
                                options={"require": _REQUIRED,
                                         "enforce_minimum_key_length": True})
        except jwt.ExpiredSignatureError:
            raise TokenExpired() from None
        except jwt.PyJWTError as exc:
            raise TokenInvalid(details={"reason": type(exc).__name__}) from None
        if claims.get("typ") != typ:
            raise TokenInvalid(details={"reason": "wrong token type"})
        return claims

    # -- issuing ----------------------------------------------------------------------
    def issue(self, kind: str, subject_id: int, roles: list[str] | tuple[str, ...] = ()) -> TokenPair:
        """Start a new family (a login) and return its first pair. On MySQL its two INSERTs
        go to the server together, before the COMMIT (one round trip, not three)."""
        family_id = secrets.token_hex(16)

        def start() -> TokenPair:
            _NEW_FAMILY.create(id=family_id, subject_kind=kind, subject_id=str(subject_id))
            return self._pair(kind, subject_id, roles, family_id)[0]

        return pipelined_transaction(start)

    def _pair(self, kind: str, subject_id: int, roles, family_id: str) -> tuple[TokenPair, str]:
        """A new pair in ``family_id`` and the id of its refresh token."""
        refresh_jti = secrets.token_hex(16)
        _NEW_REFRESH.create(jti=refresh_jti, family=family_id,
                            expires_at=utcnow() + dt.timedelta(seconds=self.refresh_ttl_s))
        access = self._encode("access", kind, subject_id, self.access_ttl_s,
                              roles=list(roles), fam=family_id)
        refresh = self._encode("refresh", kind, subject_id, self.refresh_ttl_s,
                               fam=family_id, rjti=refresh_jti, roles=list(roles))
        return TokenPair(access, refresh, self.access_ttl_s), refresh_jti

    # -- verifying --------------------------------------------------------------------
    def verify_access(self, token: str, kind: str = "user") -> Principal:
        """The principal of a valid access token (signature, expiry, audience, type)."""
        claims = self._decode(token, kind, "access")
        try:
            subject = int(claims["sub"])
        except ValueError:
            raise TokenInvalid(details={"reason": "bad subject"}) from None
        return Principal(kind=kind, id=subject, roles=frozenset(claims.get("roles") or ()),
                         family_id=claims.get("fam"))

    @staticmethod
    def known_active(principal: Principal) -> bool:
        """Whether this process knows the principal's login to be active (no database)."""
        return ACTIVE_FAMILIES.get(principal.family_id) is not None

    @staticmethod
    def ensure_family_active(principal: Principal) -> None:
        """Raise when the login behind this principal was revoked (logout, reuse)."""
        if ACTIVE_FAMILIES.get(principal.family_id) is not None:
            return
        ticket = ACTIVE_FAMILIES.ticket()
        family = _FAMILY_STATE.first(principal.family_id)
        if family is None or family.revoked_at is not None:
            raise FamilyRevoked()
        ACTIVE_FAMILIES.put(principal.family_id, True, ticket)

    def rotate(self, refresh_token: str, kind: str = "user") -> TokenPair:
        """Exchange a refresh token for a new pair; a reused token revokes its family."""
        claims = self._decode(refresh_token, kind, "refresh")
        jti, family_id = claims.get("rjti"), claims.get("fam")
        now = utcnow()
        with transaction():
            family = RefreshFamily.get_or_none(RefreshFamily.id == family_id)
            if family is None or family.revoked_at is not None:
                raise FamilyRevoked()
            taken = (RefreshToken.update(used_at=now)
                     .where(RefreshToken.jti == jti, RefreshToken.family == family_id,
                            RefreshToken.used_at.is_null(), RefreshToken.revoked == False,  # noqa: E712
                            RefreshToken.expires_at > now)
                     .execute())
            if taken == 1:
                pair, new_jti = self._pair(kind, int(claims["sub"]), claims.get("roles") or (),
                                           family_id)
                RefreshToken.update(replaced_by=new_jti).where(RefreshToken.jti == jti).execute()
                return pair
        # Not taken: either unknown/expired, or already used (a replay): revoke the family.
        token = RefreshToken.get_or_none(RefreshToken.jti == jti)
        if token is not None and token.used_at is not None:
            self.revoke_family(family_id, "reuse")  # commits before we answer
            raise RefreshTokenReused()
        raise TokenInvalid(details={"reason": "refresh token unknown or expired"})

    @staticmethod
    def revoke_family(family_id: str, reason: str) -> None:
        with transaction():
            (RefreshFamily.update(revoked_at=utcnow(), revoked_reason=reason)
             .where(RefreshFamily.id == family_id, RefreshFamily.revoked_at.is_null())
             .execute())
            ACTIVE_FAMILIES.forget(family_id)
            RefreshToken.update(revoked=True).where(RefreshToken.family == family_id).execute()

    @staticmethod
    def revoke_subject(kind: str, subject_id: int, reason: str,
                       keep_family: str | None = None) -> int:
        """End every login of one subject (a disabled operator), but ``keep_family``; how
        many. Inside the caller's transaction when one is open."""
        with transaction():
            families = [row.id for row in RefreshFamily.select(RefreshFamily.id).where(
                RefreshFamily.subject_kind == kind, RefreshFamily.subject_id == str(subject_id),
                RefreshFamily.revoked_at.is_null(), RefreshFamily.id != (keep_family or ""))]
            if not families:
                return 0
            (RefreshFamily.update(revoked_at=utcnow(), revoked_reason=reason)
             .where(RefreshFamily.id.in_(families), RefreshFamily.revoked_at.is_null())
             .execute())
            RefreshToken.update(revoked=True).where(RefreshToken.family.in_(families)).execute()
            for family_id in families:
                ACTIVE_FAMILIES.forget(family_id)
            return len(families)
