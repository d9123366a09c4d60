"""Several server processes, supervised by their parent.

The parent forks the workers (and the helpers: the delivery process), restarts one that dies
unexpectedly (at most a few times a minute), and passes SIGTERM/SIGINT on to every child so
that stopping the parent stops the server (each worker then finishes its requests and
exits). With a ``Dealer`` the parent also accepts the connections and deals them to the
workers in turn (``server.dealer``); each worker gets its channel as ``serve``'s argument.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from typing import Callable, NoReturn

from server.dealer import Dealer

log = logging.getLogger("alliance.supervisor")
MAX_RESTARTS_PER_MINUTE = 10


def run(count: int, serve: Callable[[object], None],
        helpers: tuple[Callable[[], None], ...] = (), dealer: Dealer | None = None) -> int:
    """Run ``serve`` in ``count`` child processes, and each of ``helpers`` in one, until told
    to stop; the exit status. ``serve`` is called with the process's channel from
    ``dealer``, or None without one."""
    children: dict[int, int] = {}
    stopping = False
    restarts: list[float] = []

    def spawn(slot: int) -> None:
        channel = dealer.channel(slot) if dealer is not None and slot < count else None
        pid = os.fork()
        if pid == 0:
            if dealer is not None:
                dealer.in_child(channel)
            run_child((lambda: serve(channel)) if slot < count else helpers[slot - count], slot)
        if channel is not None:
            channel.close()  # the child's end
        children[pid] = slot

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if dealer is not None:
            dealer.stop()  # no new connections; the workers finish the ones they have
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for slot in range(count + len(helpers)):
        spawn(slot)
    if dealer is not None:
        dealer.start()
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
        if dealer is not None:
            dealer.close(slot)
        log.error("server process %d (pid %d) exited with status %d", slot, pid, status)
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < 60] + [now]
        if len(restarts) > MAX_RESTARTS_PER_MINUTE:
            log.error("server processes keep dying: stopping")
            stop(signal.SIGTERM, None)
            continue
        spawn(slot)
    if dealer is not None:
        dealer.stop()
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
