"""Points awarded at the counter for a purchase (by member code, or by user id for someone
already a member), funded by the merchant and counted as its purchase (``record_purchase``'s
bookkeeping, ``alliance.members.services``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.accounts.models import User
from alliance.db import db, transaction, utcnow
from alliance.errors import Conflict, PermissionDenied, ValidationFailed
from alliance.members.models import PointsAward
from alliance.members.services import MemberNotFound, credit_purchase, member_terms
from alliance.merchants.models import Merchant
from alliance.points import services as points
from alliance.points.rules import points_earned_for
from alliance.ports import Notifier

MAX_AWARD_FEN = 100_000_000  # one million yuan


class ReceiptAlreadyAwarded(Conflict):
    code = "RECEIPT_ALREADY_AWARDED"
    message = "该小票已经积过分"


class SelfAwardForbidden(PermissionDenied):
    code = "SELF_AWARD_FORBIDDEN"
    message = "不能给自己积分"


@dataclass(frozen=True)
class Award:
    award: PointsAward
    replayed: bool


class _DuplicateReceipt(Exception):
    """The receipt number was awarded already (looked up after the rollback)."""


def award_points(merchant_id: int, staff_user_id: int, user_id: int, amount_fen: int, *,
                 notifier: Notifier, shop_id: int | None = None, receipt_no: str | None = None,
                 now: dt.datetime | None = None, members_only: bool = False) -> Award:
    """Award points at the counter for a purchase of ``amount_fen`` (1 point per yuan times
    the member's multiplier at this merchant, times its member day's on a member day for a
    member of the level it asks: ``alliance.members.member_days``; funded by it). A repeated ``receipt_no`` of
    the merchant returns the first award; staff cannot award themselves.

    ``members_only``: the consumer is named by id, not by the member code they showed, so
    only an existing member of this merchant is awarded (MEMBER_NOT_FOUND otherwise, as for
    an unknown id): staff must not enrol strangers, or learn of them, by trying ids."""
    if (isinstance(amount_fen, bool) or not isinstance(amount_fen, int)
            or not 1 <= amount_fen <= MAX_AWARD_FEN):
        raise ValidationFailed("消费金额不正确", details={"field": "amount_fen", "issue": "range",
                                                         "minimum": 1, "maximum": MAX_AWARD_FEN})
    if staff_user_id == user_id:
        raise SelfAwardForbidden()
    try:
        return _award(merchant_id, staff_user_id, user_id, amount_fen, notifier=notifier,
                      shop_id=shop_id, receipt_no=receipt_no, now=now or utcnow(),
                      members_only=members_only)
    except _DuplicateReceipt:
        # Read after the rollback: a snapshot taken inside it may predate the first award.
        first = PointsAward.get(PointsAward.merchant == merchant_id,
                                PointsAward.receipt_no == receipt_no)
        if first.user_id != user_id or first.amount_fen != amount_fen:
            raise ReceiptAlreadyAwarded(details={"receipt_no": receipt_no,
                                                 "award_id": first.id}) from None
        return Award(first, True)


def _award(merchant_id: int, staff_user_id: int, user_id: int, amount_fen: int, *,
           notifier: Notifier, shop_id: int | None, receipt_no: str | None,
           now: dt.datetime, members_only: bool) -> Award:
    with transaction():
        terms = member_terms(user_id, merchant_id, now)
        member = terms.member
        if (members_only and not member) or not User.select().where(
                User.id == user_id, User.status == "active").exists():
            raise MemberNotFound(details={"user_id": user_id})
        multiplier = terms.benefits.points_multiplier_pct
        member_day_pct = terms.member_day_multiplier_pct
        earned = points_earned_for(amount_fen, multiplier, member_day_pct)
        try:
            with db.atomic():
                award = PointsAward.create(merchant=merchant_id, shop_id=shop_id,
                                           staff_user_id=staff_user_id, user_id=user_id,
                                           amount_fen=amount_fen, multiplier_pct=multiplier,
                                           member_day_multiplier_pct=member_day_pct,
                                           points=earned, receipt_no=receipt_no, created_at=now)
        except IntegrityError:
            if receipt_no is None:
                raise
            raise _DuplicateReceipt() from None
        credit_purchase(user_id, merchant_id, amount_fen, earned,
                         idempotency_key=f"points_award:{award.id}", ref_type="points_award",
                         ref_id=str(award.id), now=now, member=member)
        if earned > 0:
            notifier.notify("points.earned", user_id=user_id,
                            data={"points": earned, "merchant_id": merchant_id,
                                  "merchant_name": Merchant.get_by_id(merchant_id).name,
                                  "balance": points.balance_of(user_id)},
                            dedupe_key=f"points_award:{award.id}")
        return Award(award, False)
