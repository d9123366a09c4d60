"""SQLite writes run on the event loop in the writers' turn (``BaseHandler.run_write``)."""
from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from typing import Callable

from alliance.db import WriterBusy, writes_at_once

WRITE_PATIENCE_S = 0.1  # how long the loop tries for the writers' turn
TO_WORKER = object()  # the answer to a write left to a worker


class LoopWrites:
    """The writes of one event loop waiting for SQLite's writers' turn (``run_write``).

    The loop takes the turn if it is free within 2 ms (``writes_at_once``; another writer's
    short transaction), otherwise tries again after a short sleep while it serves other
    requests. The writes that arrive meanwhile wait with the first, and when the turn comes
    they all run one after another in it: with two server processes (and the delivery
    process) the turn passes between processes through a polled file lock, and each pass
    costs up to the poll's pause, so one pass per write was one pause per write. After
    ``WRITE_PATIENCE_S`` without the turn, the writes waiting go to workers, which wait in
    the queue. After-commit work that may block goes to a worker.
    """

    _by_loop: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()

    def __init__(self):
        self.waiting: list[tuple] = []  # (handler, fn, args, future, context)
        # The task waiting for the turn, while one is (held: the loop keeps only weak
        # references to tasks).
        self._drainer: asyncio.Task | None = None

    @classmethod
    def of_running_loop(cls) -> "LoopWrites":
        loop = asyncio.get_running_loop()
        writes = cls._by_loop.get(loop)
        if writes is None:
            writes = cls._by_loop[loop] = cls()
        return writes

    def run(self, handler, fn: Callable, args: tuple) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((handler, fn, args, future, contextvars.copy_context()))
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain())
        return future

    async def _drain(self) -> None:
        try:
            deadline, pause = time.monotonic() + WRITE_PATIENCE_S, 0.0002
            while self.waiting:
                try:
                    self._run_waiting()
                    deadline, pause = time.monotonic() + WRITE_PATIENCE_S, 0.0002
                except WriterBusy:
                    if time.monotonic() >= deadline:
                        self._settle_waiting(lambda future: future.set_result(TO_WORKER))
                        return
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 0.001)
        except Exception as exc:  # the turn or a connection failed: the writes waiting fail
            failure = exc  # the name `exc` is unbound when its except clause ends
            self._settle_waiting(lambda future: future.set_exception(failure))
        finally:
            self._drainer = None

    def _settle_waiting(self, settle: Callable[[asyncio.Future], None]) -> None:
        """Settle every waiting write's future that is still open, without running it."""
        waiting, self.waiting = self.waiting, []
        for *_, future, _context in waiting:
            if not future.done():
                settle(future)

    def _run_waiting(self) -> None:
        """Run every waiting write in one writers' turn (WriterBusy: none ran)."""
        handler = self.waiting[0][0]
        with writes_at_once(handler._after_commit_on_pool):
            waiting, self.waiting = self.waiting, []
            for _handler, fn, args, future, context in waiting:
                if future.done():  # its request went away
                    continue
                try:
                    result = context.run(fn, *args)
                except Exception as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
