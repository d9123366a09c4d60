"""The copies of one provider notification that reach this server process.

Providers send each notification until they get their answer, and sometimes several copies
at once. The first copy is applied on a worker thread (``alliance.payments.notices``); a copy
arriving while it is under way waits for it, and one arriving after it was settled here is
answered from memory: neither takes a worker thread, a connection or the write lock. A copy
that reaches another process goes to the database, whose unique record decides there, as it
does for every first copy. Only settled (processed or abnormal) notifications are
remembered: those never change again. Everything here runs on the event loop.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from typing import Awaitable, Callable

from alliance.payments.models import ABNORMAL, PROCESSED
from alliance.payments.notices import Notice, NoticeOutcome

SETTLED = frozenset({PROCESSED, ABNORMAL})
REMEMBERED = 10_000  # settled notifications kept (a provider's retries come within hours)

Key = tuple[str, str]


class NoticeArrivals:
    def __init__(self, remembered: int = REMEMBERED):
        self._under_way: dict[Key, asyncio.Future] = {}
        self._settled: OrderedDict[Key, NoticeOutcome] = OrderedDict()
        self._remembered = remembered

    async def accept(self, notice: Notice,
                     apply: Callable[[], Awaitable[NoticeOutcome]]) -> NoticeOutcome:
        """The outcome of ``notice``: ``apply()``'s for the copy that applies it, a
        duplicate's for a copy that came while or after it was settled here. A copy that
        waited for one that failed applies it itself (its failure is the other's to answer)."""
        key = (notice.channel, notice.notification_id)
        while True:
            settled = self._settled.get(key)
            if settled is not None:
                return dataclasses.replace(settled, duplicate=True)
            under_way = self._under_way.get(key)
            if under_way is None:
                break
            await under_way
        done = asyncio.get_running_loop().create_future()
        self._under_way[key] = done
        try:
            outcome = await apply()
            if outcome.status in SETTLED:
                self._remember(key, outcome)
            return outcome
        finally:
            del self._under_way[key]
            done.set_result(None)

    def _remember(self, key: Key, outcome: NoticeOutcome) -> None:
        self._settled[key] = outcome
        if len(self._settled) > self._remembered:
            self._settled.popitem(last=False)

    def __len__(self) -> int:
        """Notifications under way or remembered."""
        return len(self._under_way) + len(self._settled)
