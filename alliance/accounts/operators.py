"""Console accounts: creation, password sign-in with lockout, and the audit log of their acts."""
from __future__ import annotations

import datetime as dt
import json
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from peewee import IntegrityError

from alliance.accounts.models import Operator, OperatorAuditLog
from alliance.accounts.permissions import OPERATOR_ROLES
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, Conflict, NotFound, ValidationFailed

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")
# argon2id, memory-hard: 64 MiB, 3 passes.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=2)
# Verified against when the username is unknown, so that both cases cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


class InvalidCredentials(AllianceError):
    code = "INVALID_CREDENTIALS"
    http_status = 401
    message = "用户名或密码错误"


class AccountLocked(AllianceError):
    code = "ACCOUNT_LOCKED"
    http_status = 423
    message = "登录失败次数过多，账号已临时锁定，请稍后再试"


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH or password.isdigit() or password.isalpha():
        raise ValidationFailed(f"密码至少 {MIN_PASSWORD_LENGTH} 位，且须同时包含字母和数字",
                               details={"field": "password", "min_length": MIN_PASSWORD_LENGTH})


def create_operator(username: str, password: str, role: str, display_name: str = "",
                    created_by: int | None = None) -> Operator:
    """Create a console account with a memory-hard password hash; audited when an operator
    (``created_by``) creates it in the console."""
    if not _USERNAME.match(username or ""):
        raise ValidationFailed("用户名只能包含字母、数字和 _.@-，长度 3-64",
                               details={"field": "username"})
    if role not in OPERATOR_ROLES:
        raise ValidationFailed("角色不存在", details={"field": "role", "choices": list(OPERATOR_ROLES)})
    validate_password(password)
    password_hash = _hasher.hash(password)  # slow on purpose: not while holding a transaction
    try:
        with transaction():
            operator = Operator.create(username=username, display_name=display_name or username,
                                       password_hash=password_hash, role=role)
            if created_by is not None:
                record_audit(created_by, "operator.create", "operator", operator.id,
                             details={"after": {"username": username, "role": role,
                                                "display_name": operator.display_name}})
            return operator
    except IntegrityError:
        raise Conflict("用户名已存在", code="OPERATOR_EXISTS",
                       details={"field": "username"}) from None


def authenticate(username: str, password: str) -> Operator:
    """The operator for these credentials; counts failures and locks after five in a row."""
    now = utcnow()
    operator = Operator.get_or_none(Operator.username == username)
    if operator is None:
        _verify(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if operator.locked_until is not None and operator.locked_until > now:
        raise AccountLocked(details={"locked_until_utc": operator.locked_until.isoformat()})
    if not _verify(operator.password_hash, password) or operator.status != "active":
        with transaction():
            (Operator.update(failed_attempts=Operator.failed_attempts + 1)
             .where(Operator.id == operator.id).execute())
            (Operator.update(locked_until=now + LOCKOUT, failed_attempts=0)
             .where(Operator.id == operator.id, Operator.failed_attempts >= MAX_FAILURES)
             .execute())
        raise InvalidCredentials()
    with transaction():
        (Operator.update(failed_attempts=0, locked_until=None, last_login_at=now)
         .where(Operator.id == operator.id).execute())
        if _hasher.check_needs_rehash(operator.password_hash):
            (Operator.update(password_hash=_hasher.hash(password))
             .where(Operator.id == operator.id).execute())
    return operator


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_operator(operator_id: int) -> Operator:
    operator = Operator.get_or_none(Operator.id == operator_id)
    if operator is None:
        raise NotFound("账号不存在", code="OPERATOR_NOT_FOUND")
    return operator


def record_audit(operator_id: int, action: str, target_type: str, target_id: int | str,
                 reason: str = "", details: dict | None = None) -> None:
    """Append an entry to the operators' audit log (inside the caller's transaction)."""
    OperatorAuditLog.create(operator=operator_id, action=action, target_type=target_type,
                            target_id=str(target_id), reason=reason[:500],
                            details=json.dumps(details or {}, ensure_ascii=False, default=str))


def operator_view(operator: Operator) -> dict:
    from alliance.clock import to_local_iso

    return {"id": operator.id, "username": operator.username,
            "display_name": operator.display_name, "role": operator.role,
            "status": operator.status, "last_login_at": to_local_iso(operator.last_login_at),
            "created_at": to_local_iso(operator.created_at)}


def hash_password(password: str) -> str:
    """A new password's hash, once it meets the password rules."""
    validate_password(password)
    return _hasher.hash(password)
