"""Closing a period: one statement per merchant with events, and its payout.

``close_period(period, now)`` counts, for each merchant, every event of every registered
source (``sources.py``) that occurred before the period's end and that no statement of the
merchant counted yet, looking back ``LOOKBACK`` before the period's start: a payment applied
late with a time in a month already closed, or a refund that finished after its month was
closed, lands on the merchant's next statement, once. A merchant without such events gets
no statement.

Merchants are taken ``MERCHANTS_PER_PASS`` at a time (by id): each pass reads the sources'
events again and keeps those of its merchants, so that memory holds one pass's events, not a
month's. Each statement is one transaction: the statement (unique per merchant and period:
a second process closing the same period finds it there and skips the merchant), the
sources' ``on_counted`` work, its items (unique per event: an event counted meanwhile by
another statement rolls the transaction back, and it is built again without it), and its
lines and net summed from the items it inserted.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from typing import Iterator

from peewee import IntegrityError, chunked, fn

from alliance.clock import to_local_iso
from alliance.db import connection, transaction, utcnow
from alliance.errors import Conflict
from alliance.merchants.models import Merchant
from alliance.settlement.events import EventsWithdrawn, SettlementEvent
from alliance.settlement.models import (ISSUED, SettlementItem, SettlementLine,
                                        SettlementStatement)
from alliance.settlement.periods import Period, period_of
from alliance.settlement.sources import RegisteredSource, registered_sources

log = logging.getLogger(__name__)

LOOKBACK = dt.timedelta(days=62)
MERCHANTS_PER_PASS = 2000
BATCH = 500  # events per look-up of the counted ones
INSERT_ROWS = 80  # items per INSERT (11 values each: under SQLite's oldest limit of 999)
ATTEMPTS = 5


class PeriodNotClosed(Conflict):
    code = "PERIOD_NOT_CLOSED"
    message = "结算周期尚未结束，不能生成对账单"


Counted = dict[int, dict[tuple[str, str, int], tuple[str, SettlementEvent]]]


def close_period(period: str, now: dt.datetime | None = None) -> dict[str, int | str]:
    """Issue the statements of ``period`` (``YYYY-MM``) for every merchant with events not
    yet counted; idempotent, and safe with several processes at once. PERIOD_INVALID,
    PERIOD_NOT_CLOSED before the period's end. What it did: statements issued, their items,
    merchants skipped (another process issued theirs meanwhile)."""
    closing = period_of(period)
    now = now or utcnow()
    if now < closing.end:
        raise PeriodNotClosed(details={"period": period, "ends_at": to_local_iso(closing.end)})
    sources = registered_sources()
    issued = items = skipped = 0
    with connection():
        for low, high in _merchant_ranges():
            pending = _uncounted(sources, closing, low, high)
            for merchant_id in sorted(pending):
                statement = _issue(merchant_id, closing, pending.pop(merchant_id), sources, now)
                if statement is None:
                    skipped += 1
                else:
                    issued, items = issued + 1, items + statement.item_count
    log.info("period %s closed: %s statements, %s items", period, issued, items)
    return {"period": period, "statements": issued, "items": items, "skipped": skipped}


def _merchant_ranges() -> Iterator[tuple[int, int | None]]:
    """Ranges of merchant ids ``(low, high]`` of ``MERCHANTS_PER_PASS`` merchants each; the
    last is open (``high`` None), so that every id falls in one."""
    low = 0
    while True:
        ids = [row for row, in Merchant.select(Merchant.id).where(Merchant.id > low)
               .order_by(Merchant.id).limit(MERCHANTS_PER_PASS).tuples()]
        if len(ids) < MERCHANTS_PER_PASS:
            yield low, None
            return
        yield low, ids[-1]
        low = ids[-1]


def _uncounted(sources: list[RegisteredSource], closing: Period, low: int,
               high: int | None) -> Counted:
    """Per merchant in ``(low, high]`` without a statement of the period: the events (with
    their source's name) that occurred before the period's end and no statement counted."""
    done = _with_statement(closing.name, low, high)
    pending: Counted = defaultdict(dict)
    since = closing.start - LOOKBACK
    for source in sources:
        batch: list[SettlementEvent] = []
        for event in source.events(since, closing.end):
            merchant_id = event.merchant_id
            if merchant_id <= low or (high is not None and merchant_id > high) \
                    or merchant_id in done or not since <= event.occurred_at < closing.end:
                continue
            batch.append(event)
            if len(batch) == BATCH:
                _keep_uncounted(pending, source.name, batch)
                batch = []
        _keep_uncounted(pending, source.name, batch)
    return pending


def _with_statement(period: str, low: int, high: int | None) -> set[int]:
    query = SettlementStatement.select(SettlementStatement.merchant_id).where(
        SettlementStatement.period == period, SettlementStatement.merchant_id > low)
    if high is not None:
        query = query.where(SettlementStatement.merchant_id <= high)
    return {merchant_id for merchant_id, in query.tuples()}


def _keep_uncounted(pending: Counted, source: str, events: list[SettlementEvent]) -> None:
    counted = _counted_keys({event.key for event in events})
    for event in events:
        if event.key not in counted:
            pending[event.merchant_id].setdefault(event.key, (source, event))


def _counted_keys(keys: set[tuple[str, str, int]]) -> set[tuple[str, str, int]]:
    """Those of ``keys`` some statement counted (through the unique index of the items)."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for source_type, source_id, _ in keys:
        by_type[source_type].add(source_id)
    counted = set()
    for source_type, ids in by_type.items():
        for chunk in chunked(sorted(ids), BATCH):
            counted.update(SettlementItem.select(SettlementItem.source_type,
                                                 SettlementItem.source_id,
                                                 SettlementItem.merchant_id)
                           .where(SettlementItem.source_type == source_type,
                                  SettlementItem.source_id.in_(chunk)).tuples())
    return counted & keys


def _issue(merchant_id: int, closing: Period, events: dict, sources: list[RegisteredSource],
           now: dt.datetime) -> SettlementStatement | None:
    """The merchant's statement of ``closing`` counting ``events`` (key -> (source, event));
    None when another process issued it, or nothing is left to count."""
    for _ in range(ATTEMPTS):
        if not events:
            return None
        try:
            with transaction():
                return _write(merchant_id, closing, list(events.values()), sources, now)
        except EventsWithdrawn as withdrawn:
            events = {key: value for key, value in events.items() if key not in withdrawn.keys}
        except IntegrityError:
            if SettlementStatement.get_or_none(SettlementStatement.merchant_id == merchant_id,
                                               SettlementStatement.period == closing.name):
                return None  # another process issued it
            counted = _counted_keys(set(events))  # another statement counted some meanwhile
            events = {key: value for key, value in events.items() if key not in counted}
    raise RuntimeError(f"statement of merchant {merchant_id} for {closing.name} kept conflicting")


def _write(merchant_id: int, closing: Period, events: list[tuple[str, SettlementEvent]],
           sources: list[RegisteredSource], now: dt.datetime) -> SettlementStatement:
    statement = SettlementStatement.create(
        merchant_id=merchant_id, period=closing.name, period_start=closing.start,
        period_end=closing.end, status=ISSUED, issued_at=now)
    for source in sources:  # before any read of this transaction (see partner_commission)
        own = [event for name, event in events if name == source.name]
        if own and source.on_counted is not None:
            source.on_counted(own, now)
    rows = [{"statement": statement.id, "merchant_id": merchant_id,
             "source_type": event.source_type, "source_id": event.source_id,
             "line": event.line, "amount_fen": event.amount_fen, "basis_fen": event.basis_fen,
             "rate_bp": event.rate_bp, "counterparty_merchant_id": event.counterparty_merchant_id,
             "order_no": event.order_no, "occurred_at": event.occurred_at}
            for _, event in sorted(events, key=lambda pair: (pair[1].occurred_at, pair[1].key))]
    for chunk in chunked(rows, INSERT_ROWS):
        SettlementItem.insert_many(chunk).execute()
    lines = list(SettlementItem.select(SettlementItem.line, fn.SUM(SettlementItem.amount_fen),
                                       fn.COUNT(SettlementItem.id))
                 .where(SettlementItem.statement == statement.id)
                 .group_by(SettlementItem.line).tuples())
    SettlementLine.insert_many([{"statement": statement.id, "line": line,
                                 "amount_fen": int(amount), "item_count": count}
                                for line, amount, count in lines]).execute()
    statement.net_fen = sum(int(amount) for _, amount, _ in lines)
    statement.item_count = sum(count for *_, count in lines)
    (SettlementStatement.update(net_fen=statement.net_fen, item_count=statement.item_count)
     .where(SettlementStatement.id == statement.id).execute())
    return statement
