"""The job registry: a job is one function and one ``@job(...)`` line.

    @job("infra.purge_idempotency", every=timedelta(hours=1))
    def purge_idempotency(ctx: AppContext) -> dict:
        \"\"\"Delete idempotency records older than 24 h.\"\"\"
        return {"deleted": idempotency.purge_expired()}

``every`` slots are aligned to the Unix epoch (UTC), so every process computes the same
slots; ``cron`` is a five-field crontab in Asia/Shanghai (APScheduler 3 numbering: write
weekdays as names, ``mon``-``sun``). ``SCHEDULER_SCHEDULES`` overrides a job's schedule or
turns it off without a code change.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Callable, Mapping

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alliance.clock import SHANGHAI
from config.settings import ConfigurationError, Settings

UTC = dt.timezone.utc
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LEASE = dt.timedelta(minutes=10)
# Windows searched backwards for a cron schedule's latest slot, smallest first.
_CRON_LOOKBACK = tuple(dt.timedelta(days=d) for d in (1 / 1440, 1 / 24, 1, 32, 367, 367 * 8))

JobFunction = Callable[..., Mapping[str, int] | None]


@dataclass(frozen=True)
class Schedule:
    """When a job is due: every ``every`` (epoch-aligned), or on a ``cron`` expression."""

    every: dt.timedelta | None = None
    cron: str | None = None

    def __post_init__(self):
        if (self.every is None) == (self.cron is None):
            raise ValueError("a schedule is either every= or cron=")
        if self.every is not None and (self.every.total_seconds() < 1
                                       or self.every.total_seconds() % 1):
            raise ValueError("every= must be a whole number of seconds, at least one")
        if self.cron is not None:
            self.trigger()  # raises ValueError on a malformed expression

    @classmethod
    def parse(cls, value: str) -> "Schedule":
        """``SECONDS`` or ``cron:M H DOM MON DOW`` (the SCHEDULER_SCHEDULES syntax)."""
        if value.startswith("cron:"):
            return cls(cron=value[len("cron:"):].strip())
        return cls(every=dt.timedelta(seconds=int(value)))

    def trigger(self) -> BaseTrigger:
        if self.every is not None:
            return IntervalTrigger(seconds=int(self.every.total_seconds()), start_date=EPOCH,
                                   timezone=UTC)
        return CronTrigger.from_crontab(self.cron, timezone=SHANGHAI)

    def describe(self) -> str:
        if self.every is not None:
            return f"every {int(self.every.total_seconds())}s"
        return f"cron {self.cron} (Asia/Shanghai)"

    def latest_slot(self, now: dt.datetime) -> dt.datetime | None:
        """The latest scheduled time at or before ``now`` (naive UTC), None if none yet."""
        aware = now.replace(tzinfo=UTC)
        if self.every is not None:
            step = int(self.every.total_seconds())
            seconds = int((aware - EPOCH).total_seconds()) // step * step
            return (EPOCH + dt.timedelta(seconds=seconds)).replace(tzinfo=None)
        trigger = self.trigger()
        for back in _CRON_LOOKBACK:
            slot = trigger.get_next_fire_time(None, aware - back)
            if slot is None or slot > aware:
                continue
            while True:
                later = trigger.get_next_fire_time(None, slot + dt.timedelta(microseconds=1))
                if later is None or later > aware:
                    return slot.astimezone(UTC).replace(tzinfo=None)
                slot = later
        return None

    def next_slot(self, now: dt.datetime) -> dt.datetime | None:
        """The first scheduled time after ``now`` (naive UTC)."""
        if self.every is not None:
            return self.latest_slot(now) + self.every
        aware = now.replace(tzinfo=UTC) + dt.timedelta(microseconds=1)
        slot = self.trigger().get_next_fire_time(None, aware)
        return slot.astimezone(UTC).replace(tzinfo=None) if slot else None


@dataclass(frozen=True)
class JobSpec:
    """A registered job: its name, function, schedule and lease."""

    name: str
    fn: JobFunction
    schedule: Schedule
    lease: dt.timedelta
    description: str

    def is_due(self, done_slot: dt.datetime | None, now: dt.datetime) -> bool:
        """True when the latest slot at ``now`` has not finished ok (it should run now)."""
        latest = self.schedule.latest_slot(now)
        return latest is not None and (done_slot is None or done_slot < latest)

    def next_due(self, done_slot: dt.datetime | None, now: dt.datetime) -> dt.datetime | None:
        """When this job runs next: its latest slot if that is not done yet, else the next."""
        if self.is_due(done_slot, now):
            return self.schedule.latest_slot(now)
        return self.schedule.next_slot(now)


class Registry:
    """Jobs by name; ``job`` is the decorator that registers one."""

    def __init__(self) -> None:
        self._specs: dict[str, JobSpec] = {}

    def job(self, name: str, *, every: dt.timedelta | None = None, cron: str | None = None,
            lease: dt.timedelta = DEFAULT_LEASE) -> Callable[[JobFunction], JobFunction]:
        """Register the decorated ``fn(ctx) -> counts`` as job ``name``.

        ``lease`` must exceed the job's longest run: past it another process may take over.
        """

        def register(fn: JobFunction) -> JobFunction:
            if name in self._specs:
                raise ValueError(f"job {name!r} is registered twice")
            doc = (fn.__doc__ or "").strip().splitlines()
            self._specs[name] = JobSpec(name, fn, Schedule(every=every, cron=cron), lease,
                                        doc[0] if doc else name)
            return fn

        return register

    def get(self, name: str) -> JobSpec | None:
        """The job as registered in code (before SCHEDULER_SCHEDULES)."""
        return self._specs.get(name)

    def names(self) -> list[str]:
        return sorted(self._specs)

    def specs(self, settings: Settings | None = None) -> list[JobSpec]:
        """The registered jobs with SCHEDULER_SCHEDULES applied (jobs turned off left out);
        ConfigurationError when it names an unknown job or a schedule that does not parse."""
        specs, problems = self.resolve(settings)
        if problems:
            raise ConfigurationError("SCHEDULER_SCHEDULES: " + "; ".join(
                f"{name}: {problem}" for name, problem in sorted(problems.items())))
        return specs

    def resolve(self, settings: Settings | None = None) -> tuple[list[JobSpec], dict[str, str]]:
        """Like ``specs``, without refusing: the jobs whose overrides are valid (a job whose
        override is not keeps its registered schedule), and each problem by job name."""
        overrides = dict(settings.scheduler_schedules) if settings else {}
        problems = {name: "unknown job" for name in set(overrides) - set(self._specs)}
        specs = []
        for name, spec in sorted(self._specs.items()):
            value = overrides.get(name)
            if value == "off":
                continue
            if value is not None:
                try:
                    spec = replace(spec, schedule=Schedule.parse(value))
                except ValueError as exc:
                    problems[name] = str(exc)
            specs.append(spec)
        return specs, problems

JOBS = Registry()
job = JOBS.job
