"""One person, one account: merging two accounts, and what each domain does on a merge or
an account's deletion.

Every domain whose tables hold rows of a user registers a handler here, from its
``models.py`` (imported by ``alliance/models.py``, so every handler is known before the
first merge):

    register_user_data("coupons", models=(Coupon,), move=move_coupons, erase=None)

``move(source_id, target_id)`` moves the domain's rows from the absorbed account to the
surviving one, inside the merge's transaction (balances are added with guarded updates,
unique rows reconciled), and answers how many rows it touched. ``erase(user_id)`` removes
the personal data the domain keeps when an account is deleted; a domain without personal
data (ledgers, orders) registers ``erase=None``: its rows stay, pointing at an account
whose personal data is gone. A test checks that every table referring to a user is
covered by some handler.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from peewee import Model

from alliance.accounts.models import (AccountMerge, LoginCode, RefreshFamily, RefreshToken,
                                      User, WechatIdentity)
from alliance.accounts.tokens import ACTIVE_FAMILIES
from alliance.db import transaction, utcnow
from alliance.errors import Conflict

Move = Callable[[int, int], int]
Erase = Callable[[int], int]


@dataclass(frozen=True)
class UserDataHandler:
    name: str
    models: tuple[type[Model], ...]
    move: Move | None  # None: the rows stay with the absorbed account (records about it)
    erase: Erase | None  # None: kept on deletion, anonymised by the account's erasure


_HANDLERS: dict[str, UserDataHandler] = {}


class MergeConflict(Conflict):
    code = "ACCOUNT_MERGE_CONFLICT"
    message = "账号状态已变化，无法合并，请重试"


def register_user_data(name: str, *, models: tuple[type[Model], ...],
                       move: Move | None = None, erase: Erase | None = None) -> None:
    """Declare what happens to ``models``' rows of a user on a merge and on deletion."""
    handler = UserDataHandler(name, tuple(models), move, erase)
    if _HANDLERS.get(name, handler) != handler:
        raise ValueError(f"user-data handler {name!r} registered twice")
    _HANDLERS[name] = handler


def user_data_handlers() -> list[UserDataHandler]:
    """Every registered handler (each domain's models module registers its own)."""
    import alliance.models  # noqa: F401  (imports every domain's models, hence handlers)

    return list(_HANDLERS.values())


def merge_users(source_id: int, target_id: int, reason: str) -> AccountMerge:
    """Merge account ``source_id`` into ``target_id`` in one transaction, and record it.

    Both must be active. Every registered handler moves its rows; the target keeps its own
    profile and contacts and takes the source's where it has none; the source is left
    ``merged``, without personal data, and its logins are revoked.
    """
    if source_id == target_id:
        raise ValueError("an account cannot be merged into itself")
    with transaction():
        now = utcnow()
        # Touch both rows in id order: two merges of one pair queue instead of deadlocking.
        for user_id in sorted((source_id, target_id)):
            touched = (User.update(updated_at=now)
                       .where(User.id == user_id, User.status == "active").execute())
            if touched != 1:
                raise MergeConflict(details={"user_id": user_id})
        source, target = User.get_by_id(source_id), User.get_by_id(target_id)
        moved = {handler.name: handler.move(source_id, target_id)
                 for handler in user_data_handlers() if handler.move is not None}
        (User.update(status="merged", phone=None, email=None, nickname="", avatar_url="")
         .where(User.id == source_id).execute())
        taken = {name: getattr(source, name) for name in ("nickname", "avatar_url", "phone",
                                                          "email")
                 if getattr(source, name) and not getattr(target, name)}
        if taken:
            User.update(**taken).where(User.id == target_id).execute()
        return AccountMerge.create(source_user=source_id, target_user=target_id,
                                   reason=reason, moved=json.dumps(moved, sort_keys=True))


# -- the accounts domain's own rows ---------------------------------------------------------

def _move_identities(source_id: int, target_id: int) -> int:
    return (WechatIdentity.update(user=target_id)
            .where(WechatIdentity.user == source_id).execute())


def _erase_identities(user_id: int) -> int:
    return WechatIdentity.delete().where(WechatIdentity.user == user_id).execute()


def revoke_user_sessions(user_id: int, reason: str) -> int:
    """Revoke every login of a user (all refresh families); how many were live."""
    live = (RefreshFamily.subject_kind == "user") & (RefreshFamily.subject_id == str(user_id)) \
        & RefreshFamily.revoked_at.is_null()
    with transaction():
        family_ids = [f for (f,) in RefreshFamily.select(RefreshFamily.id).where(live).tuples()]
        RefreshToken.update(revoked=True).where(RefreshToken.family.in_(family_ids)).execute()
        revoked = (RefreshFamily.update(revoked_at=utcnow(), revoked_reason=reason)
                   .where(live, RefreshFamily.id.in_(family_ids)).execute())
        for family_id in family_ids:  # after the writes: a read between sees them revoked
            ACTIVE_FAMILIES.forget(family_id)
        return revoked


def _erase_login_codes(user_id: int) -> int:
    user = User.get_by_id(user_id)
    erased = 0
    for channel, target in (("sms", user.phone), ("email", user.email)):
        if target:
            erased += (LoginCode.delete()
                       .where(LoginCode.channel == channel, LoginCode.target == target)
                       .execute())
    return erased


register_user_data("wechat_identities", models=(WechatIdentity,),
                   move=_move_identities, erase=_erase_identities)
register_user_data("sessions", models=(RefreshFamily, RefreshToken),
                   move=lambda source_id, _target_id: revoke_user_sessions(source_id, "merged"),
                   erase=lambda user_id: revoke_user_sessions(user_id, "deleted"))
register_user_data("login_codes", models=(LoginCode,), erase=_erase_login_codes)
register_user_data("account_merges", models=(AccountMerge,))
