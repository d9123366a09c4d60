"""Test helpers for scheduled jobs: several scheduler instances firing one slot together.

    instances = scheduler_instances(build_context(make_settings(database)), JOBS, 2, clock)
    outcomes = fire_together(instances, "orders.close_unpaid")
    assert outcomes.count("ok") == 1
"""
from __future__ import annotations

import datetime as dt
import threading
from typing import Callable

from alliance.db import utcnow
from scheduler.registry import Registry
from scheduler.runner import Scheduler
from server.context import AppContext


def scheduler_instances(ctx: AppContext, registry: Registry, count: int = 2,
                        clock: Callable[[], dt.datetime] = utcnow) -> list[Scheduler]:
    """``count`` schedulers over one database, each its own holder (as separate processes)."""
    return [Scheduler(ctx, registry, holder=f"instance-{i}", clock=clock) for i in range(count)]


def fire_together(instances: list[Scheduler], name: str) -> list[str]:
    """Every instance runs job ``name``'s current slot at the same moment, on its own thread;
    the outcomes (exactly one ``ok`` when the lease works)."""
    barrier, outcomes = threading.Barrier(len(instances)), []

    def fire(instance: Scheduler) -> None:
        spec = next(s for s in instance.specs if s.name == name)
        barrier.wait()
        outcomes.append(instance.run_slot(spec))

    threads = [threading.Thread(target=fire, args=(instance,)) for instance in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == len(instances), "an instance raised instead of answering"
    return outcomes
