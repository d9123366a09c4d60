"""Verified provider notices: recorded once, applied once by the domain's handler.

The capability that owns the trades (orders) registers one handler per kind at import:

    register_payment_handler(apply_payment)   # fn(PaymentNotice) -> str | None
    register_refund_handler(apply_refund)     # fn(RefundNotice) -> str | None

A handler runs inside the transaction that marks the notification processed, so its
changes and the mark commit together: a repeat, even a concurrent one, finds the mark and
changes nothing. It returns None when the notice was applied normally, or a short reason
(e.g. "AMOUNT_MISMATCH") that marks the notification abnormal; raising leaves the
notification received, to be applied by the provider's retry or by ``dispatch_pending``.
Without a handler a notice is still recorded (received) and acknowledged.

A handler registered with ``prepare`` is called ``handler(notice, prepare(notice))``:
``prepare`` runs just before the transaction, outside it, and reads what the handler would
otherwise read inside (rows it then changes only through guarded statements), so that the
transaction holds the database's write lock for less time (SQLite has one for everybody).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Callable

from peewee import IntegrityError

from alliance.db import pipelined_transaction, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.payments.models import (ABNORMAL, PROCESSED, RECEIVED, REJECTED,
                                      PaymentNotification)
from alliance.ports import PaymentNotice, RefundNotice

log = logging.getLogger("alliance.payments")

Notice = PaymentNotice | RefundNotice
PaymentHandler = Callable[[PaymentNotice], "str | None"]
RefundHandler = Callable[[RefundNotice], "str | None"]

_KINDS: dict[type, str] = {PaymentNotice: "payment", RefundNotice: "refund"}
_CLASSES = {kind: cls for cls, kind in _KINDS.items()}
_handlers: dict[str, "_Handler"] = {}


@dataclass(frozen=True)
class _Handler:
    apply: Callable
    prepare: Callable | None

    def run(self, notice: Notice, prepared) -> "str | None":
        return self.apply(notice) if self.prepare is None else self.apply(notice, prepared)

    def read(self, notice: Notice):
        return None if self.prepare is None else self.prepare(notice)


@dataclass(frozen=True)
class NoticeOutcome:
    record_id: int
    status: str  # received | processed | abnormal
    duplicate: bool  # a repeat that changed nothing


def register_payment_handler(handler: PaymentHandler | None,
                             prepare: Callable[[PaymentNotice], object] | None = None) -> None:
    """Make ``handler`` apply every payment notice (replaces the previous; None removes)."""
    _register("payment", handler, prepare)


def register_refund_handler(handler: RefundHandler | None,
                            prepare: Callable[[RefundNotice], object] | None = None) -> None:
    """Make ``handler`` apply every refund notice (replaces the previous; None removes)."""
    _register("refund", handler, prepare)


def _register(kind: str, handler: Callable | None, prepare: Callable | None) -> None:
    if handler is None:
        _handlers.pop(kind, None)
    else:
        _handlers[kind] = _Handler(handler, prepare)


def accept_notice(notice: Notice) -> NoticeOutcome:
    """Record a verified notice once and apply it once through the registered handler.

    Repeats of a notification (same channel and notification id) answer ``duplicate``
    and change nothing: a repeat of a handled notice only reads (providers send each one
    several times). A first arrival is recorded and applied in one transaction. A
    handler's exception propagates after the notice is recorded (received) with its reason.
    """
    kind = _KINDS[type(notice)]
    handler = _handlers.get(kind)
    known = _KNOWN.first(notice.channel, notice.notification_id)
    if known is None:
        outcome = _record_and_apply(notice, kind, handler)
        if outcome is not None:
            return outcome
        known = _KNOWN.first(notice.channel, notice.notification_id)  # a concurrent repeat's
    record_id, status = known
    if handler is None or status != RECEIVED:
        return NoticeOutcome(record_id, status, duplicate=True)
    return _apply(record_id, notice, handler)  # recorded before, its handler failed then


def record_rejection(channel: str, reason: str) -> None:
    """Keep a trace of a notification that failed verification (never applied)."""
    with transaction():
        PaymentNotification.create(channel=channel, kind="unknown", status=REJECTED,
                                   reason=reason[:255])


def dispatch_pending(limit: int = 100) -> int:
    """Apply the received notices that no handler has applied yet; how many were applied.

    They are notices recorded while no handler was registered, or whose handler failed
    after the provider stopped retrying. Each is applied at most once, as on arrival.
    """
    rows = list(PaymentNotification.select()
                .where(PaymentNotification.status == RECEIVED,
                       PaymentNotification.kind.in_(list(_CLASSES)))
                .order_by(PaymentNotification.id).limit(limit))
    applied = 0
    for row in rows:
        handler = _handlers.get(row.kind)
        if handler is None:
            continue
        try:
            outcome = _apply(row.id, _from_payload(row.kind, row.payload), handler)
        except Exception:  # recorded by _apply; the next sweep tries again
            log.exception("pending %s notice %s failed again", row.kind, row.id)
            continue
        applied += not outcome.duplicate
    return applied


_KNOWN = Prepared(lambda: PaymentNotification
                  .select(PaymentNotification.id, PaymentNotification.status)
                  .where(PaymentNotification.channel == Arg(0),
                         PaymentNotification.notification_id == Arg(1)).limit(1).tuples())
_NEW_RECORD = PreparedInsert(PaymentNotification)
_SETTLE = Prepared(lambda: PaymentNotification.update(
    status=Arg(1, PaymentNotification.status),
    processed_at=Arg(2, PaymentNotification.processed_at),
    reason=Arg(3, PaymentNotification.reason)).where(PaymentNotification.id == Arg(0)))


def _new_row(notice: Notice, kind: str, **state) -> PaymentNotification:
    refund = isinstance(notice, RefundNotice)
    return _NEW_RECORD.create(
        channel=notice.channel, notification_id=notice.notification_id, kind=kind,
        out_trade_no=notice.out_trade_no, transaction_id=notice.transaction_id or None,
        out_refund_no=notice.out_refund_no if refund else None,
        amount_fen=(notice.refund_fen if refund else notice.amount_fen),
        payload=_to_payload(notice), **state)


def _record_and_apply(notice: Notice, kind: str,
                      handler: _Handler | None) -> NoticeOutcome | None:
    """Record a notice seen for the first time and apply it, in one transaction: the
    record (its unique id) is the claim. None when a concurrent repeat recorded it first."""
    reads: list = []  # the handler's reads before the transaction, for its first run

    def record_and_run() -> NoticeOutcome | None:
        # Written processed when a handler applies it: it commits only with the handler's
        # changes (a failure takes the record back with them). Run again when the
        # pipeline's writes found otherwise than assumed: that run reads again.
        prepared = reads.pop() if reads else handler.read(notice) if handler is not None else None
        state = {} if handler is None else {"status": PROCESSED, "processed_at": utcnow()}
        try:
            row = _new_row(notice, kind, **state)
        except IntegrityError:
            return None
        if handler is None:
            return NoticeOutcome(row.id, RECEIVED, duplicate=False)
        note = handler.run(notice, prepared)
        if note:
            _SETTLE.execute(row.id, ABNORMAL, utcnow(), str(note)[:255])
        return NoticeOutcome(row.id, ABNORMAL if note else PROCESSED, duplicate=False)

    try:
        reads.append(handler.read(notice) if handler is not None else None)
        # On MySQL its writes go to the server together (one round trip, and the COMMIT).
        return pipelined_transaction(record_and_run)
    except Exception as exc:
        # The handler's changes went back with the record: keep the notice, received,
        # for the provider's retry or dispatch_pending.
        record_id, _ = _record(notice, kind)
        _note_failure(record_id, exc)
        raise


def _record(notice: Notice, kind: str) -> tuple[int, bool]:
    """The notification's row id, and whether this call created it."""
    try:
        with transaction():
            return _new_row(notice, kind).id, True
    except IntegrityError:
        row = PaymentNotification.get(PaymentNotification.channel == notice.channel,
                                      PaymentNotification.notification_id == notice.notification_id)
        return row.id, False


def _note_failure(record_id: int, exc: Exception) -> None:
    with transaction():
        (PaymentNotification.update(reason=f"handler failed: {type(exc).__name__}: {exc}"[:255])
         .where(PaymentNotification.id == record_id,
                PaymentNotification.status == RECEIVED).execute())


def _apply(record_id: int, notice: Notice, handler: _Handler) -> NoticeOutcome:
    try:
        prepared = handler.read(notice)
        with transaction():
            # The guarded UPDATE is the claim: a concurrent repeat waits on the row and
            # then finds it no longer received.
            claimed = (PaymentNotification
                       .update(status=PROCESSED, processed_at=utcnow(), reason=None)
                       .where(PaymentNotification.id == record_id,
                              PaymentNotification.status == RECEIVED).execute())
            if not claimed:
                status = PaymentNotification.get_by_id(record_id).status
                return NoticeOutcome(record_id, status, duplicate=True)
            note = handler.run(notice, prepared)
            if note:
                (PaymentNotification.update(status=ABNORMAL, reason=str(note)[:255])
                 .where(PaymentNotification.id == record_id).execute())
            return NoticeOutcome(record_id, ABNORMAL if note else PROCESSED, duplicate=False)
    except Exception as exc:
        _note_failure(record_id, exc)
        raise


def _to_payload(notice: Notice) -> str:
    def encode(value):
        if isinstance(value, dt.datetime):
            return value.isoformat()
        raise TypeError(f"cannot store {type(value).__name__}")

    # The fields as they are (no nested dataclasses): asdict would deep-copy the raw payload.
    fields = {f.name: getattr(notice, f.name) for f in dataclasses.fields(notice)}
    return json.dumps(fields, default=encode, ensure_ascii=False)


def _from_payload(kind: str, payload: str) -> Notice:
    data = json.loads(payload)
    for name in ("paid_at", "succeeded_at"):
        if data.get(name):
            data[name] = dt.datetime.fromisoformat(data[name])
    return _CLASSES[kind](**data)
