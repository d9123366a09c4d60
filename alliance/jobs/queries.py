"""Reads for operators: each job's lease and latest run, and a job's runs page by page."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

from peewee import fn

from alliance.clock import to_local_iso
from alliance.jobs.models import JobLease, JobRun
from alliance.paging import newest_first


@dataclass(frozen=True)
class JobState:
    lease: JobLease | None
    last_run: JobRun | None


def job_states(names: Iterable[str]) -> dict[str, JobState]:
    """The lease row and the latest run of each named job (None where there is none yet)."""
    names = list(names)
    leases = {row.name: row for row in JobLease.select().where(JobLease.name.in_(names))}
    latest = (JobRun.select(fn.MAX(JobRun.id)).where(JobRun.job.in_(names))
              .group_by(JobRun.job))
    runs = {row.job: row for row in JobRun.select().where(JobRun.id.in_(latest))}
    return {name: JobState(leases.get(name), runs.get(name)) for name in names}


def runs_page(name: str, cursor: str | None, limit: int) -> tuple[list[JobRun], str | None]:
    """``name``'s runs, newest first."""
    return newest_first(JobRun.select().where(JobRun.job == name), JobRun.id, cursor, limit)


def run_view(run: JobRun) -> dict:
    """A run as the console shows it (times in Asia/Shanghai, counts as an object)."""
    return {
        "id": run.id, "job": run.job, "slot": to_local_iso(run.slot), "holder": run.holder,
        "outcome": run.outcome, "counts": json.loads(run.counts or "{}"), "error": run.error,
        "started_at": to_local_iso(run.started_at), "finished_at": to_local_iso(run.finished_at),
    }


def lease_view(lease: JobLease | None) -> dict | None:
    """Who holds the lease now, or None when nobody does."""
    if lease is None or lease.holder is None:
        return None
    return {"holder": lease.holder, "slot": to_local_iso(lease.slot),
            "acquired_at": to_local_iso(lease.acquired_at),
            "expires_at": to_local_iso(lease.expires_at)}
