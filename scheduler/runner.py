"""The Scheduler: APScheduler fires each job on its schedule; the lease decides who runs it.

Every process computes the same slots (epoch-aligned intervals, cron times), so when two
scheduler processes fire the same slot the lease row lets exactly one run it. APScheduler's
in-memory job store is per process (never shared: LIBRARIES.md); what survives a restart is
in the database, so at start every job whose latest slot is not done runs at once (catch-up
after downtime), and misfires during a run are coalesced into one.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from typing import Callable

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from alliance.db import connection, utcnow
from alliance.jobs import queries, services
from alliance.jobs.models import FAILED, OK
from scheduler.registry import UTC, JobSpec, Registry
from server.context import AppContext

log = logging.getLogger("alliance.scheduler")


def default_holder() -> str:
    """A name unique to this scheduler instance: host, process, and a random tag."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Scheduler:
    """Runs ``registry``'s jobs with ``ctx`` (the server's adapters) on APScheduler."""

    def __init__(self, ctx: AppContext, registry: Registry, *, holder: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, threads: int = 4):
        self.ctx = ctx
        self.specs = registry.specs(ctx.settings)
        self.holder = holder or default_holder()
        self.clock = clock
        self._aps = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": ctx.settings.scheduler_misfire_grace_s})

    def run_slot(self, spec: JobSpec) -> str:
        """Run ``spec``'s latest slot if this instance wins the lease; the claim's outcome
        (``ok``, ``failed``, or why it did not run: ``done``, ``elsewhere``, ``skipped``)."""
        now = self.clock()
        slot = spec.schedule.latest_slot(now)
        if slot is None:
            return "done"
        with connection():
            claim = services.claim(spec.name, slot, self.holder, spec.lease, now)
            if claim.status != services.TAKEN:
                return claim.status
            log.info("job %s: running slot %s", spec.name, slot.isoformat())
            try:
                counts = spec.fn(self.ctx)
            except Exception as exc:
                log.exception("job %s failed", spec.name)
                services.fail(claim.run_id, spec.name, self.holder,
                              self.ctx.settings.redact(f"{type(exc).__name__}: {exc}"))
                return FAILED
            services.finish(claim.run_id, spec.name, self.holder, slot, counts)
            log.info("job %s: ok %s", spec.name, dict(counts or {}))
            return OK

    def due(self) -> list[JobSpec]:
        """The jobs whose latest slot has not finished ok (after downtime: all missed)."""
        now = self.clock()
        with connection():
            states = queries.job_states(spec.name for spec in self.specs)
        return [spec for spec in self.specs
                if spec.is_due(_done_slot(states[spec.name]), now)]

    def start(self) -> None:
        """Schedule every job (those due run at once) and start firing in the background."""
        due = {spec.name for spec in self.due()}
        for spec in self.specs:
            catch_up = {"next_run_time": dt.datetime.now(UTC)} if spec.name in due else {}
            self._aps.add_job(self.run_slot, trigger=spec.schedule.trigger(), args=[spec],
                              id=spec.name, name=spec.name, **catch_up)
        self._aps.start()
        log.info("scheduler %s started: %s (catching up: %s)", self.holder,
                 ", ".join(s.name for s in self.specs) or "no jobs",
                 ", ".join(sorted(due)) or "none")

    def shutdown(self, wait: bool = True) -> None:
        """Stop firing; with ``wait``, let running jobs finish first."""
        self._aps.shutdown(wait=wait)

    @property
    def scheduled(self) -> list:
        """APScheduler's jobs (for inspection)."""
        return self._aps.get_jobs()


def _done_slot(state: queries.JobState) -> dt.datetime | None:
    return state.lease.done_slot if state.lease else None
