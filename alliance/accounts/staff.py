"""The platform's staff in the console: list, create, change role or status, reset password.

Two guard rails keep the console governable: an administrator cannot disable or demote
themselves, and the last active administrator cannot be disabled or demoted. The second is
kept by the database: a change that could remove an active administrator first locks every
active administrator's row (an UPDATE, which reads the latest committed rows on MySQL and
takes SQLite's write lock), and counts them from what it matched: of two concurrent
demotions of the last two, the second waits for the first and then finds one left.

A role lives in the operator's access tokens: a change of role, a disable and a password
reset end the operator's logins at once (their refresh families are revoked).
"""
from __future__ import annotations

from alliance import checks
from alliance.accounts import operators
from alliance.accounts.models import Operator
from alliance.accounts.operators import get_operator, operator_view, record_audit
from alliance.accounts.permissions import (OPERATOR_ROLES, PERMISSION_LABELS, PERMISSIONS,
                                           ROLE_LABELS, ROLE_PERMISSIONS)
from alliance.accounts.tokens import TokenService
from alliance.db import transaction
from alliance.errors import Conflict, ValidationFailed

ADMINISTRATOR = "administrator"
STATUSES = ("active", "disabled")
EDITABLE = frozenset({"role", "display_name", "status"})
MAX_DISPLAY_NAME = 64


class SelfChangeRefused(Conflict):
    code = "OPERATOR_SELF_CHANGE"
    message = "不能停用自己的账号或取消自己的管理员角色"


class LastAdministrator(Conflict):
    code = "LAST_ADMINISTRATOR"
    message = "至少需要保留一名启用中的管理员"


def list_operators() -> list[dict]:
    """Every console account, administrators first, then by creation."""
    order = {role: i for i, role in enumerate(OPERATOR_ROLES)}
    rows = sorted(Operator.select().order_by(Operator.id),
                  key=lambda o: (o.status != "active", order.get(o.role, 9)))
    return [operator_view(o) for o in rows]


def roles_view() -> list[dict]:
    """Each console role with its permissions, labelled for operators."""
    return [{"role": role, "label": ROLE_LABELS[role],
             "permissions": [{"permission": p, "label": PERMISSION_LABELS.get(p, p),
                              "description": PERMISSIONS[p]}
                             for p in PERMISSIONS if p in ROLE_PERMISSIONS[role]]}
            for role in OPERATOR_ROLES]


def create_operator(actor_id: int, body: dict) -> dict:
    """A new console account from the console (username, display name, role, password)."""
    checks.refuse_unknown(body, {"username", "display_name", "role", "password"})
    display_name = checks.text(body.get("display_name", ""), "display_name", MAX_DISPLAY_NAME)
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str):
        raise ValidationFailed("缺少用户名", details={"field": "username"})
    if not isinstance(password, str):
        raise ValidationFailed("缺少初始密码", details={"field": "password"})
    operator = operators.create_operator(username.strip(), password, body.get("role"),
                                         display_name, created_by=actor_id)
    return operator_view(operator)


def _changes(body: dict) -> dict:
    checks.refuse_unknown(body, EDITABLE)
    if not body:
        raise ValidationFailed("没有要修改的内容", details={"fields": sorted(EDITABLE)})
    changes = {}
    if "role" in body:
        if body["role"] not in OPERATOR_ROLES:
            raise ValidationFailed("角色不存在", details={"field": "role",
                                                          "choices": list(OPERATOR_ROLES)})
        changes["role"] = body["role"]
    if "status" in body:
        if body["status"] not in STATUSES:
            raise ValidationFailed("状态只能是 active 或 disabled",
                                   details={"field": "status", "choices": list(STATUSES)})
        changes["status"] = body["status"]
    if "display_name" in body:
        changes["display_name"] = checks.text(body["display_name"], "display_name",
                                              MAX_DISPLAY_NAME, required=True)
    return changes


def _guard_administrators(actor_id: int, operator_id: int) -> None:
    """Refuse a change that may leave no active administrator, or that the actor makes to
    their own administrator account. Runs before anything else in its transaction reads."""
    if operator_id == actor_id:
        raise SelfChangeRefused()
    active = (Operator.role == ADMINISTRATOR) & (Operator.status == "active")
    held = Operator.update(role=Operator.role).where(active).execute()
    target_is_one = Operator.update(role=Operator.role).where(
        active, Operator.id == operator_id).execute()
    if target_is_one and held <= 1:
        raise LastAdministrator()


def update_operator(actor_id: int, operator_id: int, body: dict) -> dict:
    """Change an account's role, display name or status (guarded, audited); a change of
    role or a disable ends its logins."""
    changes = _changes(body)
    with transaction():
        if changes.get("role", ADMINISTRATOR) != ADMINISTRATOR or changes.get("status") == "disabled":
            _guard_administrators(actor_id, operator_id)
        target = get_operator(operator_id)
        changed = {k: v for k, v in changes.items() if getattr(target, k) != v}
        if not changed:
            return operator_view(target)
        updates = dict(changed)
        if changed.get("status") == "active":
            updates.update(failed_attempts=0, locked_until=None)
        Operator.update(**updates).where(Operator.id == operator_id).execute()
        record_audit(actor_id, "operator.update", "operator", operator_id,
                     details={"before": {k: getattr(target, k) for k in changed},
                              "after": changed})
        if "role" in changed or changed.get("status") == "disabled":
            TokenService.revoke_subject("operator", operator_id,
                                        "disabled" if "status" in changed else "role_changed")
        return operator_view(get_operator(operator_id))


def reset_password(actor_id: int, operator_id: int, body: dict,
                   actor_family: str | None = None) -> dict:
    """Set a new password (meeting the rules) and end the account's other logins."""
    checks.refuse_unknown(body, {"password"})
    password = body.get("password")
    if not isinstance(password, str):
        raise ValidationFailed("缺少新密码", details={"field": "password"})
    password_hash = operators.hash_password(password)
    with transaction():
        get_operator(operator_id)
        (Operator.update(password_hash=password_hash, failed_attempts=0, locked_until=None)
         .where(Operator.id == operator_id).execute())
        record_audit(actor_id, "operator.password_reset", "operator", operator_id)
        ended = TokenService.revoke_subject(
            "operator", operator_id, "password_reset",
            keep_family=actor_family if operator_id == actor_id else None)
    return {"operator": operator_view(get_operator(operator_id)), "sessions_ended": ended}
