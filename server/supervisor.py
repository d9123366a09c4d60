"""Several server processes on one listening socket, supervised by their parent.

The parent forks the workers (and the helpers: the delivery process), restarts one that dies
unexpectedly (at most a few times a minute), and passes SIGTERM/SIGINT on to every child so
that stopping the parent stops the server (each worker then finishes its requests and
exits).
"""
from __future__ import annotations

import logging
import os
import signal
import time
from typing import Callable, NoReturn

log = logging.getLogger("alliance.supervisor")
MAX_RESTARTS_PER_MINUTE = 10


def run(count: int, serve: Callable[[], None],
        helpers: tuple[Callable[[], None], ...] = ()) -> int:
    """Run ``serve`` in ``count`` child processes, and each of ``helpers`` in one, until told
    to stop; the exit status."""
    targets = [serve] * count + list(helpers)
    children: dict[int, int] = {}
    stopping = False
    restarts: list[float] = []

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            run_child(targets[slot], slot)
        children[pid] = slot

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(len(targets)):
        spawn(slot)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        slot = children.pop(pid, None)
        if slot is None or stopping:
            continue
        log.error("server process %d (pid %d) exited with status %d", slot, pid, status)
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < 60] + [now]
        if len(restarts) > MAX_RESTARTS_PER_MINUTE:
            log.error("server processes keep dying: stopping")
            stop(signal.SIGTERM, None)
            continue
        spawn(slot)
    return 0


def run_child(target: Callable[[], None], slot: int) -> NoReturn:
    """A forked child's life: ``target``, then exit without returning into the parent's
    loop (its exit status: 1 when ``target`` raised)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    code = 0
    try:
        target()
    except BaseException:
        log.exception("server process %d failed", slot)
        code = 1
    logging.shutdown()  # os._exit runs no atexit hook: write the log lines still pending
    os._exit(code)
