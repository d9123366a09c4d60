"""The copies of one provider notification that reach this server process.

Providers send each notification until they get their answer, and sometimes several copies
at once. The first copy is applied on a worker thread (``alliance.payments.notices``); a copy
arriving while it is under way waits for it, and one arriving after it was settled here is
answered from memory: neither takes a worker thread, a connection or the write lock.

The server processes of one parent also share a board (``alliance.infra.sharedboard``,
made by ``share_between_processes`` before the fork): a process claims a notification there
before applying it and settles it after, so that a copy reaching another process waits for
the first on that process's loop and is answered from the board, as a copy reaching the same
process is. What the board cannot answer (a copy after ``WAIT_S``, an owner gone, a slot in
use) goes to the database, whose unique record decides there, as it does for every first
copy. Only settled (processed or abnormal) notifications are remembered: those never change
again. Everything here runs on the event loop.
"""
from __future__ import annotations

import asyncio
import dataclasses
from collections import OrderedDict
from typing import Awaitable, Callable

from alliance.infra import sharedboard
from alliance.infra.sharedboard import CLAIMED, UNAVAILABLE, SharedBoard
from alliance.payments.models import ABNORMAL, PROCESSED
from alliance.payments.notices import Notice, NoticeOutcome

SETTLED = frozenset({PROCESSED, ABNORMAL})
CODES = {PROCESSED: 1, ABNORMAL: 2}  # a settled status as the board keeps it
STATUSES = {code: status for status, code in CODES.items()}
REMEMBERED = 10_000  # settled notifications kept (a provider's retries come within hours)
WAIT_S = 10.0  # how long a copy waits for another process's first copy
POLL_S = (0.001, 0.002, 0.004, 0.008)  # the board is read after these sleeps, then every 8 ms

Key = tuple[str, str]
_shared: SharedBoard | None = None


def share_between_processes() -> None:
    """Give the processes forked after this call one board for their notifications."""
    global _shared
    _shared = SharedBoard()


class NoticeArrivals:
    def __init__(self, remembered: int = REMEMBERED, board: SharedBoard | None = None,
                 owner: int | None = None):
        self._under_way: dict[Key, asyncio.Future] = {}
        self._settled: OrderedDict[Key, NoticeOutcome] = OrderedDict()
        self._remembered = remembered
        self._board = board if board is not None else _shared
        self._owner = owner  # this process (its pid when None); tests stand in for others

    async def accept(self, notice: Notice,
                     apply: Callable[[], Awaitable[NoticeOutcome]]) -> NoticeOutcome:
        """The outcome of ``notice``: ``apply()``'s for the copy that applies it, a
        duplicate's for a copy that came while or after it was settled here. A copy that
        waited for one that failed applies it itself (its failure is the other's to answer)."""
        key = (notice.channel, notice.notification_id)
        board_key = None if self._board is None else sharedboard.digest(*key)
        loop = asyncio.get_running_loop()
        deadline, polls = loop.time() + WAIT_S, 0
        while True:
            settled = self._settled.get(key)
            if settled is not None:
                return dataclasses.replace(settled, duplicate=True)
            under_way = self._under_way.get(key)
            if under_way is not None:
                await under_way
                continue
            if board_key is None:
                break
            seen = self._board.claim(board_key, self._owner)
            if seen is UNAVAILABLE:
                board_key = None
                break
            if seen is CLAIMED:
                break
            if seen.state == sharedboard.SETTLED:
                self._remember(key, NoticeOutcome(seen.value, STATUSES[seen.code], False))
                continue
            if loop.time() >= deadline:
                board_key = None  # waited too long: the database decides
                break
            await asyncio.sleep(POLL_S[min(polls, len(POLL_S) - 1)])  # another process's
            polls += 1
        done = loop.create_future()
        self._under_way[key] = done
        settled_here = False
        try:
            outcome = await apply()
            if outcome.status in SETTLED:
                self._remember(key, outcome)
                if board_key is not None:
                    self._board.settle(board_key, outcome.record_id, CODES[outcome.status],
                                       self._owner)
                    settled_here = True
            return outcome
        finally:
            if board_key is not None and not settled_here:
                self._board.release(board_key, self._owner)
            del self._under_way[key]
            done.set_result(None)

    def _remember(self, key: Key, outcome: NoticeOutcome) -> None:
        self._settled[key] = outcome
        if len(self._settled) > self._remembered:
            self._settled.popitem(last=False)

    def __len__(self) -> int:
        """Notifications under way or remembered."""
        return len(self._under_way) + len(self._settled)
