"""Taking a job's lease for one slot, and recording how the run ended.

Exactly once per slot across scheduler processes: ``claim`` takes the lease row by a guarded
UPDATE (free or expired, and the slot not yet done), which one transaction at a time can
win on SQLite and on MySQL alike. A holder that dies keeps the lease only until it expires;
the next claim after that marks its unfinished run failed and runs the slot again, so every
job must be idempotent (re-running a slot whose effects were committed changes nothing).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Mapping

from alliance.db import transaction, utcnow
from alliance.jobs.models import FAILED, OK, RUNNING, SKIPPED, JobLease, JobRun

MAX_ERROR_CHARS = 4000
TAKEN, DONE, ELSEWHERE = "taken", "done", "elsewhere"


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: ``taken`` (run it, as ``run_id``), ``done`` (this slot already
    finished), ``elsewhere`` (another holder runs this very slot) or ``skipped`` (another
    holder still runs an earlier slot; recorded as a skipped run)."""

    status: str
    run_id: int | None = None


def claim(name: str, slot: dt.datetime, holder: str, lease_ttl: dt.timedelta,
          now: dt.datetime | None = None) -> Claim:
    """Take ``name``'s lease for ``slot`` if it is free or expired and the slot not done."""
    now = now or utcnow()
    previous = JobLease.get_or_none(JobLease.name == name)
    if previous is None:
        # Its own transaction: INSERT IGNORE takes a shared lock that, held into the UPDATE
        # below, would deadlock two claimants on MySQL.
        with transaction():
            JobLease.insert(name=name).on_conflict_ignore().execute()
    with transaction():
        taken = (JobLease.update(holder=holder, slot=slot, acquired_at=now,
                                 expires_at=now + lease_ttl)
                 .where(JobLease.name == name,
                        JobLease.holder.is_null() | (JobLease.expires_at < now),
                        JobLease.done_slot.is_null() | (JobLease.done_slot < slot))
                 .execute())
        if taken:
            if previous is not None and previous.run_id is not None:
                # Still "running" means its holder's lease expired first: the holder died.
                (JobRun.update(outcome=FAILED, finished_at=now,
                               error="abandoned: the holder's lease expired before it finished")
                 .where(JobRun.id == previous.run_id, JobRun.outcome == RUNNING).execute())
            run = JobRun.create(job=name, slot=slot, holder=holder, started_at=now)
            JobLease.update(run_id=run.id).where(JobLease.name == name).execute()
            return Claim(TAKEN, run.id)
        lease = JobLease.get(JobLease.name == name)
        if lease.done_slot is not None and lease.done_slot >= slot:
            return Claim(DONE)
        if lease.slot == slot:
            return Claim(ELSEWHERE)
        run = JobRun.create(job=name, slot=slot, holder=holder, outcome=SKIPPED,
                            started_at=now, finished_at=now,
                            error=f"lease held by {lease.holder} for the slot {lease.slot} "
                                  f"until {lease.expires_at}")
        return Claim(SKIPPED, run.id)


def finish(run_id: int, name: str, holder: str, slot: dt.datetime,
           counts: Mapping[str, int] | None = None, now: dt.datetime | None = None) -> None:
    """Record the run ok, mark its slot done and release the lease (if still held)."""
    now = now or utcnow()
    with transaction():
        (JobLease.update(holder=None, slot=None, run_id=None, acquired_at=None,
                         expires_at=None, done_slot=slot, done_at=now)
         .where(JobLease.name == name, JobLease.holder == holder, JobLease.slot == slot)
         .execute())
        (JobRun.update(outcome=OK, finished_at=now, error=None,
                       counts=json.dumps(dict(counts or {}), sort_keys=True, default=str))
         .where(JobRun.id == run_id).execute())


def fail(run_id: int, name: str, holder: str, error: str,
         now: dt.datetime | None = None) -> None:
    """Record the run failed and release the lease; the slot stays due for the next run."""
    now = now or utcnow()
    with transaction():
        (JobLease.update(holder=None, slot=None, run_id=None, acquired_at=None,
                         expires_at=None)
         .where(JobLease.name == name, JobLease.holder == holder).execute())
        (JobRun.update(outcome=FAILED, finished_at=now, error=error[:MAX_ERROR_CHARS])
         .where(JobRun.id == run_id).execute())


def purge_runs(older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete finished runs older than ``older_than``; the count deleted."""
    cutoff = (now or utcnow()) - older_than
    with transaction():
        return (JobRun.delete()
                .where(JobRun.finished_at < cutoff, JobRun.outcome != RUNNING).execute())
