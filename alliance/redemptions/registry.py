"""The registry of code kinds that counters can redeem, dispatched by the code's prefix.

Codes are Crockford base32 (what staff type is normalized: upper case, spaces and hyphens
dropped, I and L read as 1, O as 0), and each kind owns a prefix of that alphabet: ``C``
for coupons. Another domain adds its kind at import of its module::

    register_code_kind(ServiceCodeKind())   # e.g. prefix "S" for orders' service codes

A kind implements ``CodeKind``: ``redeem`` runs inside the redemption's transaction, marks
its code used with a guarded update (exactly one of two simultaneous scans succeeds) and
reports what was redeemed as ``Redeemed``; ``undo`` puts the code back when a manager
undoes the redemption. Both raise the errors below for the counter to show.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from alliance.errors import AllianceError, Conflict, NotFound, ValidationFailed
from alliance.redemptions.models import Redemption

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_RE = re.compile(f"^[{CODE_ALPHABET}]{{4,32}}$")
_READS_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})


class CodeNotFound(NotFound):
    code = "CODE_NOT_FOUND"
    message = "核销码不存在"


class CodeAlreadyRedeemed(Conflict):
    code = "CODE_ALREADY_REDEEMED"
    message = "该码已核销，不能重复使用"


class CodeInUse(Conflict):
    code = "CODE_IN_USE"
    message = "该券已被一笔待支付订单占用"


class CodeExpired(AllianceError):
    code = "CODE_EXPIRED"
    http_status = 410
    message = "该码已过期"


class CodeNotValidHere(AllianceError):
    code = "CODE_NOT_VALID_HERE"
    http_status = 422
    message = "该码不能在本店核销"


class CodeNotYetValid(AllianceError):
    code = "CODE_NOT_YET_VALID"
    http_status = 422
    message = "该码尚未到可使用时间"


@dataclass(frozen=True)
class RedeemRequest:
    """A normalized code presented at ``merchant_id``'s counter by ``staff_user_id``."""

    code: str
    merchant_id: int
    shop_id: int | None
    staff_user_id: int
    now: dt.datetime


@dataclass(frozen=True)
class Redeemed:
    """What a kind reports about the code it just marked used.

    ``ref_type``/``ref_id`` name the thing (``coupon``/id, ``order``/order_no); a
    ``distributor_merchant_id`` with ``commission_fen`` > 0 makes the issuer owe the
    distributor that commission; ``details`` is shown to the staff.
    """

    user_id: int | None
    ref_type: str
    ref_id: str
    title: str
    issuer_merchant_id: int | None = None
    distributor_merchant_id: int | None = None
    commission_fen: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class CodeKind(Protocol):
    """A kind of code the counter redeems (see the module docstring)."""

    name: str  # stored on the redemption (e.g. "coupon")
    prefix: str  # the first character(s) of its codes

    def redeem(self, request: RedeemRequest) -> Redeemed:
        """Mark the code used at the request's merchant, or raise a CODE_* error."""

    def undo(self, redemption: Redemption) -> None:
        """Make the code of an undone redemption usable again."""


_KINDS: dict[str, CodeKind] = {}


def register_code_kind(kind: CodeKind) -> None:
    """Add a code kind; its prefix may not overlap another kind's."""
    registered = _KINDS.get(kind.name)
    if registered is not None:
        if type(registered) is type(kind):
            return
        raise ValueError(f"code kind {kind.name!r} is already registered")
    if not kind.prefix or kind.prefix.translate(_READS_AS) != kind.prefix or any(
            c not in CODE_ALPHABET for c in kind.prefix):
        raise ValueError(f"prefix {kind.prefix!r} is not in the code alphabet")
    for other in _KINDS.values():
        if other.prefix.startswith(kind.prefix) or kind.prefix.startswith(other.prefix):
            raise ValueError(f"prefix {kind.prefix!r} overlaps {other.name!r}")
    _KINDS[kind.name] = kind


def normalize_code(raw: str) -> str:
    """The code as stored, from what was scanned or typed; VALIDATION_FAILED if it cannot be one."""
    code = re.sub(r"[\s-]", "", raw or "").upper().translate(_READS_AS)
    if not _CODE_RE.match(code):
        raise ValidationFailed("核销码格式不正确", details={"field": "code", "issue": "format"})
    return code


def kind_for(code: str) -> CodeKind:
    """The kind a normalized code belongs to, by its prefix; CODE_NOT_FOUND if none."""
    for kind in _KINDS.values():
        if code.startswith(kind.prefix):
            return kind
    raise CodeNotFound(details={"code": code})


def kind_named(name: str) -> CodeKind:
    return _KINDS[name]
