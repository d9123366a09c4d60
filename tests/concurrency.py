"""Running work from many real threads at once, for the concurrency tests."""
from __future__ import annotations

import threading
from typing import Any, Callable


def run_at_once(count: int, work: Callable[[int], Any]) -> list:
    """Start ``count`` threads together on ``work(i)``; each one's result or the exception it
    raised (the tests count them, and what the database holds)."""
    barrier, outcomes = threading.Barrier(count), []

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes.append(work(i))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test counts
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
