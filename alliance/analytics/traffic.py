"""Views of merchants' public detail pages: counted in memory, added to the database in batches.

The detail page is served from a per-process cache on the event loop, so counting a view
must cost no more than a dict increment there: no I/O, no lock. Each server process keeps a
``ViewCounter``; about every ``FLUSH_SECONDS`` the event loop swaps its pending counts out
(``take``, on the loop, so nothing races the increments) and a worker thread adds the batch
to ``merchant_daily_traffic`` with one upsert-add statement (``add_views``). Rows only grow
by additions, so any number of processes add up.

What can be lost: a process that dies without its shutdown flush loses the views it counted
since its last flush, at most one interval (plus a batch whose flush was in flight). A flush
that fails is handed back (``give_back``) and goes with the next one. A view belongs to the
Asia/Shanghai day it happened on, whenever it is flushed.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable

from peewee import EXCLUDED, fn

from alliance.analytics.models import MerchantDailyTraffic
from alliance.clock import SHANGHAI
from alliance.db import is_mysql, single_write, utcnow

FLUSH_SECONDS = 10
# Rows per statement: a batch holds at most one row per merchant viewed and day, so it stays
# small; a very busy interval is split rather than sent as one huge statement.
ROWS_PER_STATEMENT = 500

log = logging.getLogger(__name__)

Batch = dict[tuple[int, dt.date], list[int]]  # (merchant id, day) -> [views, signed-in views]


class ViewCounter:
    """One process's uncommitted view counts. ``count``, ``take`` and ``give_back`` run on
    the event loop only; the batches they hand out are flushed elsewhere."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: Batch = {}
        self._day: dt.date | None = None
        self._day_ends = 0.0  # epoch seconds of the next Shanghai midnight

    def count(self, merchant_id: int, signed_in: bool) -> None:
        """One view of ``merchant_id``'s detail page (by a logged-in consumer or not)."""
        now = self._clock()
        if now >= self._day_ends:
            self._turn_day(now)
        counts = self._pending.get((merchant_id, self._day))
        if counts is None:
            self._pending[(merchant_id, self._day)] = [1, 1 if signed_in else 0]
        else:
            counts[0] += 1
            if signed_in:
                counts[1] += 1

    def _turn_day(self, now: float) -> None:
        local = dt.datetime.fromtimestamp(now, SHANGHAI)
        self._day = local.date()
        midnight = dt.datetime.combine(self._day + dt.timedelta(days=1), dt.time(), SHANGHAI)
        self._day_ends = midnight.timestamp()

    def take(self) -> Batch:
        """The counts since the last take, which this counter forgets."""
        batch, self._pending = self._pending, {}
        return batch

    def give_back(self, batch: Batch) -> None:
        """Add the counts of a batch whose flush failed back to the pending ones."""
        for key, (views, signed_in) in batch.items():
            counts = self._pending.setdefault(key, [0, 0])
            counts[0] += views
            counts[1] += signed_in

    @property
    def pending_views(self) -> int:
        return sum(views for views, _ in self._pending.values())


def add_views(batch: Batch, now: dt.datetime | None = None) -> int:
    """Add a batch of view counts to ``merchant_daily_traffic``: one upsert-add statement per
    ROWS_PER_STATEMENT rows, each atomic by itself; the rows written. Rows go in (merchant,
    day) order, so two processes adding at once lock them in the same order (no deadlock)."""
    if not batch:
        return 0
    now = now or utcnow()
    rows = [{"merchant": merchant_id, "day": day, "views": views,
             "signed_in_views": signed_in, "updated_at": now}
            for (merchant_id, day), (views, signed_in) in sorted(batch.items())]
    table = MerchantDailyTraffic
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        query = table.insert_many(rows[start:start + ROWS_PER_STATEMENT])
        if is_mysql():  # MySQL names no conflict target; VALUES() is the row's new values
            added = {table.views: table.views + fn.VALUES(table.views),
                     table.signed_in_views: table.signed_in_views + fn.VALUES(table.signed_in_views),
                     table.updated_at: fn.VALUES(table.updated_at)}
            query = query.on_conflict(update=added)
        else:
            added = {table.views: table.views + EXCLUDED.views,
                     table.signed_in_views: table.signed_in_views + EXCLUDED.signed_in_views,
                     table.updated_at: EXCLUDED.updated_at}
            query = query.on_conflict(conflict_target=[table.merchant, table.day], update=added)
        with single_write():
            query.execute()
    return len(rows)


def flush(counter_batch: Batch) -> bool:
    """``add_views`` for a worker thread: True when the batch was added, False (logged) when
    it could not be, so that the caller gives it back to its counter."""
    try:
        add_views(counter_batch)
        return True
    except Exception:  # the database is away: the counts wait for the next flush
        log.warning("merchant views not flushed; kept for the next flush", exc_info=True)
        return False


def views_by_merchant(merchant_ids, first: dt.date, last: dt.date) -> dict[int, tuple[int, int]]:
    """(views, signed-in views) of each of ``merchant_ids`` (None: every merchant) over the
    days first..last, summed in the database; merchants without views are absent."""
    table = MerchantDailyTraffic
    query = (table.select(table.merchant, fn.SUM(table.views), fn.SUM(table.signed_in_views))
             .where(table.day.between(first, last)).group_by(table.merchant))
    if merchant_ids is not None:
        query = query.where(table.merchant.in_(list(merchant_ids)))
    return {merchant_id: (int(views or 0), int(signed_in or 0))
            for merchant_id, views, signed_in in query.tuples()}
