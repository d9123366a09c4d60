"""Earning, spending, expiring and adjusting points: atomic, idempotent, never negative."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from peewee import IntegrityError, fn

from alliance.db import is_mysql, joined_transaction, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.errors import AllianceError, ValidationFailed
from alliance.points.models import PointsAccount, PointsAllocation, PointsEntry

DEFAULT_LIFETIME = dt.timedelta(days=365)


class InsufficientPoints(AllianceError):
    code = "POINTS_INSUFFICIENT"
    http_status = 409
    message = "积分不足"


class _LotMoved(Exception):
    """A lot changed between reading and expiring it; the expiry is rolled back."""


@dataclass(frozen=True)
class Posted:
    entry: PointsEntry
    replayed: bool  # True when the idempotency key had already been posted


# Every earn (each paid order) runs these: their SQL is built once (alliance.prepared.Prepared).
# A key is looked up narrow first: nearly always absent (PyMySQL parses a descriptor for
# every column of a result, even an empty one).
_ENTRY_ID_BY_KEY = Prepared(lambda: PointsEntry.select(PointsEntry.id)
                            .where(PointsEntry.idempotency_key == Arg(0)).limit(1).tuples())
_ENTRY_BY_ID = Prepared(lambda: PointsEntry.select().where(PointsEntry.id == Arg(0)).limit(1))
_BALANCE = Prepared(lambda: PointsAccount.select(PointsAccount.balance)
                    .where(PointsAccount.user_id == Arg(0)).limit(1).tuples())
# The account is created by its first credit: one upsert (MySQL names no conflict target).
_CREDIT = Prepared(lambda: PointsAccount.insert(
    user_id=Arg(0, PointsAccount.user_id), balance=Arg(1, PointsAccount.balance),
    lifetime_earned=Arg(1, PointsAccount.lifetime_earned),
    updated_at=Arg(2, PointsAccount.updated_at))
    .on_conflict(conflict_target=None if is_mysql() else [PointsAccount.user_id], update={
        PointsAccount.balance: PointsAccount.balance + Arg(1, PointsAccount.balance),
        PointsAccount.lifetime_earned: (PointsAccount.lifetime_earned
                                        + Arg(1, PointsAccount.lifetime_earned)),
        PointsAccount.updated_at: Arg(2, PointsAccount.updated_at)}))
_UNCREDIT = Prepared(lambda: PointsAccount.update(
    balance=PointsAccount.balance - Arg(1, PointsAccount.balance),
    lifetime_earned=PointsAccount.lifetime_earned - Arg(1, PointsAccount.lifetime_earned))
    .where(PointsAccount.user_id == Arg(0)))
# Every entry is inserted after its account row moved, in the same transaction, and reads
# the balance it leaves in the INSERT itself (no read, no second write of the entry).
_NEW_ENTRY = PreparedInsert(PointsEntry, computed={
    "balance_after": lambda arg: PointsAccount.select(PointsAccount.balance)
    .where(PointsAccount.user_id == arg("user_id"))}, returning=("id", "balance_after"))


def _existing(key: str) -> PointsEntry | None:
    found = _ENTRY_ID_BY_KEY.first(key)
    return None if found is None else _ENTRY_BY_ID.first(found[0])


def _balance(user_id: int) -> int:
    row = _BALANCE.first(user_id)
    return (row[0] if row else 0) or 0


def _post(idempotency_key: str, work) -> Posted:
    """Run ``work`` once per key; a repeat (or a racing duplicate) returns the first entry."""
    found = _existing(idempotency_key)
    if found is not None:
        return Posted(found, True)
    try:
        with transaction():
            return Posted(work(), False)
    except IntegrityError:
        found = _existing(idempotency_key)
        if found is None:
            raise
        return Posted(found, True)


def earn(user_id: int, amount: int, *, merchant_id: int | None, idempotency_key: str,
         ref_type: str = "", ref_id: str = "", memo: str = "",
         lifetime: dt.timedelta = DEFAULT_LIFETIME, now: dt.datetime | None = None) -> Posted:
    """Credit ``amount`` points funded by ``merchant_id`` (None: the platform).

    Two statements, no savepoint inside the caller's transaction (every paid order earns in
    the payment's): the account is credited (created by its first credit), then the entry
    claims its unique key with the balance it leaves. A repeat's entry is refused, and its
    credit taken back in the same transaction: it changes nothing. The account row is
    written first, as every debit writes it, so two postings of one user queue on it in one
    order on InnoDB.
    """
    if amount <= 0:
        raise ValidationFailed("积分数量必须大于 0", details={"field": "amount"})
    now = now or utcnow()
    with joined_transaction():
        _CREDIT.execute(user_id, amount, now)
        try:
            entry = _NEW_ENTRY.create(user_id=user_id, kind="earn", amount=amount,
                                      merchant_id=merchant_id, idempotency_key=idempotency_key,
                                      ref_type=ref_type, ref_id=ref_id, memo=memo,
                                      lot_remaining=amount, expires_at=now + lifetime,
                                      created_at=now)
        except IntegrityError:
            found = _existing(idempotency_key)
            if found is None:  # a concurrent first, committed after this snapshot began
                raise
            _UNCREDIT.execute(user_id, amount)
            return Posted(found, True)
        return Posted(entry, False)


def spend(user_id: int, amount: int, *, merchant_id: int | None, idempotency_key: str,
          ref_type: str = "", ref_id: str = "", memo: str = "", kind: str = "spend",
          now: dt.datetime | None = None, from_lot: str | None = None,
          unearn: bool = False) -> Posted:
    """Debit ``amount`` points received by ``merchant_id``; consumes the live lots (not past
    their date), soonest expiry first, after the lot earned under the key ``from_lot`` if
    given. Points taken back from an order that earned them (``unearn``) come out of its own
    lot, funded by its merchant, and out of the points ever earned (the growth value).

    Raises POINTS_INSUFFICIENT (and changes nothing) when the balance or the live lots are
    short.
    """
    if amount <= 0:
        raise ValidationFailed("积分数量必须大于 0", details={"field": "amount"})
    now = now or utcnow()
    changes = {"balance": PointsAccount.balance - amount, "updated_at": now}
    if unearn:
        changes["lifetime_earned"] = PointsAccount.lifetime_earned - amount

    def work() -> PointsEntry:
        taken = (PointsAccount.update(**changes)
                 .where(PointsAccount.user_id == user_id, PointsAccount.balance >= amount)
                 .execute())
        if taken != 1:
            raise InsufficientPoints(details={"requested": amount, "balance": _balance(user_id)})
        entry = _NEW_ENTRY.create(user_id=user_id, kind=kind, amount=-amount,
                                  merchant_id=merchant_id, idempotency_key=idempotency_key,
                                  ref_type=ref_type, ref_id=ref_id, memo=memo, created_at=now)
        first = _existing(from_lot) if from_lot else None
        _consume_lots(user_id, entry, amount, now,
                      first if first is not None and first.user_id == user_id else None)
        return entry

    return _post(idempotency_key, work)


def _consume_lots(user_id: int, debit: PointsEntry, amount: int, now: dt.datetime,
                  first: PointsEntry | None = None) -> None:
    """Take ``amount`` from the user's live lots, ``first`` first, then soonest expiry first,
    recording each take. A lot past its date is not live, though the expiry job may not have
    cleared it yet: its points are gone."""
    left = amount
    if first is not None and first.lot_remaining > 0 and first.expires_at > now:
        left -= _take_from(first, debit, left)
    while left > 0:
        lots = (PointsEntry.select()
                .where(PointsEntry.user_id == user_id, PointsEntry.lot_remaining > 0,
                       PointsEntry.expires_at > now)
                .order_by(PointsEntry.expires_at, PointsEntry.id).limit(20))
        progressed = False
        for lot in lots:
            taken = _take_from(lot, debit, left)
            left -= taken
            progressed = progressed or taken > 0
            if left == 0:
                break
        if not progressed:
            # The balance said yes but the lots disagree: refuse rather than go negative.
            raise InsufficientPoints(details={"requested": amount, "reason": "lots exhausted"})


def _take_from(lot: PointsEntry, debit: PointsEntry, wanted: int) -> int:
    """Take up to ``wanted`` from ``lot`` for ``debit`` by a guarded update, recording the
    take; what was taken (0 when the lot changed meanwhile)."""
    take = min(wanted, lot.lot_remaining)
    changed = (PointsEntry.update(lot_remaining=PointsEntry.lot_remaining - take)
               .where(PointsEntry.id == lot.id, PointsEntry.lot_remaining >= take).execute())
    if changed != 1:
        return 0
    PointsAllocation.create(debit=debit, lot=lot, amount=take, funding_merchant_id=lot.merchant_id)
    return take


def funders_of(debit_id: int) -> list[tuple[int | None, int]]:
    """(funding merchant, points) of the lots a debit consumed, one pair per funder (None:
    the platform), the platform first, then by merchant id."""
    rows = (PointsAllocation.select(PointsAllocation.funding_merchant_id,
                                    fn.SUM(PointsAllocation.amount))
            .where(PointsAllocation.debit == debit_id)
            .group_by(PointsAllocation.funding_merchant_id).tuples())
    return sorted(((funder, int(points)) for funder, points in rows),
                  key=lambda pair: (pair[0] is not None, pair[0] or 0))


def refund_spend(spend_key: str, *, idempotency_key: str, memo: str = "") -> Posted | None:
    """Give back the points of a spend (order cancelled or refunded) to the lots it took."""
    original = _existing(spend_key)
    if original is None or original.amount >= 0:
        return None
    amount = -original.amount

    def work() -> PointsEntry:
        (PointsAccount.update(balance=PointsAccount.balance + amount, updated_at=utcnow())
         .where(PointsAccount.user_id == original.user_id).execute())
        for allocation in PointsAllocation.select().where(PointsAllocation.debit == original):
            (PointsEntry.update(lot_remaining=PointsEntry.lot_remaining + allocation.amount)
             .where(PointsEntry.id == allocation.lot_id).execute())
        return _NEW_ENTRY.create(user_id=original.user_id, kind="refund", amount=amount,
                                 merchant_id=original.merchant_id,
                                 idempotency_key=idempotency_key, ref_type=original.ref_type,
                                 ref_id=original.ref_id, memo=memo)

    return _post(idempotency_key, work)


def adjust(user_id: int, amount: int, *, idempotency_key: str, memo: str,
           operator_id: int | None = None) -> Posted:
    """A manual correction by an operator: credit (a platform-funded lot) or debit."""
    if amount == 0:
        raise ValidationFailed("调整数量不能为 0", details={"field": "amount"})
    if amount > 0:
        return earn(user_id, amount, merchant_id=None, idempotency_key=idempotency_key,
                    ref_type="adjust", ref_id=str(operator_id or ""), memo=memo)
    return spend(user_id, -amount, merchant_id=None, idempotency_key=idempotency_key,
                 ref_type="adjust", ref_id=str(operator_id or ""), memo=memo, kind="adjust")


def expire_due(now: dt.datetime | None = None, batch: int = 500) -> int:
    """Expire what is left of every lot past its date; the number of lots expired. The lots
    are read ``batch`` at a time by id, so one that cannot expire now (spent meanwhile, or
    a balance that disagrees with it) never holds up those after it."""
    now = now or utcnow()
    expired, after = 0, 0
    while True:
        ids = [row[0] for row in PointsEntry.select(PointsEntry.id)
               .where(PointsEntry.expires_at <= now, PointsEntry.lot_remaining > 0,
                      PointsEntry.id > after)
               .order_by(PointsEntry.id).limit(batch).tuples()]
        expired += sum(_expire_lot(lot_id, now) for lot_id in ids)
        if len(ids) < batch:
            return expired
        after = ids[-1]


def _expiry_key(lot: PointsEntry) -> str:
    """The idempotency key of the lot's next expiry: ``expire:<lot>`` the first time.
    Points given back to a lot after it expired (a spend refunded once the lot was past its
    date) expire again, as ``expire:<lot>:2``, ``:3``... Runners that race compute the same
    key: one posts it, the others are refused."""
    before = (PointsEntry.select().where(PointsEntry.user_id == lot.user_id,
                                         PointsEntry.kind == "expire",
                                         PointsEntry.ref_type == "lot",
                                         PointsEntry.ref_id == str(lot.id)).count())
    return f"expire:{lot.id}" if before == 0 else f"expire:{lot.id}:{before + 1}"


def _expire_lot(lot_id: int, now: dt.datetime) -> bool:
    try:
        with transaction():
            lot = PointsEntry.get_by_id(lot_id)
            left = lot.lot_remaining
            if left <= 0:
                return False
            key = _expiry_key(lot)
            # The account row first, as spends do: one lock order, no deadlocks.
            taken = (PointsAccount.update(balance=PointsAccount.balance - left, updated_at=now)
                     .where(PointsAccount.user_id == lot.user_id, PointsAccount.balance >= left)
                     .execute())
            cleared = (PointsEntry.update(lot_remaining=0)
                       .where(PointsEntry.id == lot_id, PointsEntry.lot_remaining == left)
                       .execute())
            if taken != 1 or cleared != 1:
                raise _LotMoved()
            entry = _NEW_ENTRY.create(user_id=lot.user_id, kind="expire", amount=-left,
                                      merchant_id=lot.merchant_id, idempotency_key=key,
                                      ref_type="lot", ref_id=str(lot_id), memo="积分过期")
            PointsAllocation.create(debit=entry, lot=lot, amount=left,
                                    funding_merchant_id=lot.merchant_id)
            return True
    except (IntegrityError, _LotMoved):
        return False  # expired already, or spent meanwhile: the next run looks again


def balance_of(user_id: int) -> int:
    return _balance(user_id)
