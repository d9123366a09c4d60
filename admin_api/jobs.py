"""Scheduled jobs for operators: each job's schedule, lease and latest run; a job's runs."""
from __future__ import annotations

import datetime as dt

from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.errors import NotFound
from alliance.jobs import queries
from scheduler.jobs import JOBS
from scheduler.registry import JobSpec
from server import validation as v
from server.base import BaseHandler, authenticated

JOB_NAME = r"[a-z0-9_.]{1,64}"


class JobNotFound(NotFound):
    code = "JOB_NOT_FOUND"
    message = "任务不存在"


def job_item(name: str, spec: JobSpec | None, state: queries.JobState, now: dt.datetime) -> dict:
    """One job as operators see it; ``spec`` is None when SCHEDULER_SCHEDULES turned it off."""
    done_slot = state.lease.done_slot if state.lease else None
    registered = JOBS.get(name)
    return {
        "name": name,
        "description": registered.description,
        "schedule": spec.schedule.describe() if spec else "off",
        "enabled": spec is not None,
        "last_ok_slot": to_local_iso(done_slot),
        "next_due_at": to_local_iso(spec.next_due(done_slot, now)) if spec else None,
        "last_run": queries.run_view(state.last_run) if state.last_run else None,
        "lease": queries.lease_view(state.lease),
    }


class JobsHandler(BaseHandler):
    @authenticated("admin:jobs", kind="operator")
    async def get(self):
        # The scheduler refuses to start on a wrong SCHEDULER_SCHEDULES; the list still
        # answers, and names what is wrong.
        specs, problems = JOBS.resolve(self.ctx.settings)
        active = {spec.name: spec for spec in specs}

        def items():
            states = queries.job_states(JOBS.names())
            now = utcnow()
            return [job_item(name, active.get(name), states[name], now) for name in JOBS.names()]

        self.write_page({"items": await self.run_sync(items),
                         "configuration_errors": [{"job": name, "error": problem}
                                                  for name, problem in sorted(problems.items())]})


class JobRunsHandler(BaseHandler):
    @authenticated("admin:jobs", kind="operator")
    async def get(self, name: str):
        if JOBS.get(name) is None:
            raise JobNotFound(details={"job": name})
        limit = v.query_int(self.query("limit"), "limit", default=20, minimum=1, maximum=100)
        runs, next_cursor = await self.run_sync(queries.runs_page, name, self.query("cursor"),
                                                limit)
        self.write_json({"items": [queries.run_view(run) for run in runs],
                         "next_cursor": next_cursor})


def routes() -> list:
    return [
        (r"/api/admin/v1/jobs", JobsHandler),
        (rf"/api/admin/v1/jobs/({JOB_NAME})/runs", JobRunsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import BOOL, INT, STR, TIME, obj, ref

    nullable_time = {**TIME, "nullable": True}
    return {
        "JobRun": obj({
            "id": INT, "job": STR, "slot": TIME,
            "holder": {**STR, "description": "the scheduler instance (host:pid:tag)"},
            "outcome": {"type": "string", "enum": ["running", "ok", "failed", "skipped"]},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"},
                       "description": "what the run did, e.g. {\"deleted\": 3}"},
            "error": {**STR, "nullable": True},
            "started_at": TIME, "finished_at": nullable_time,
        }, ["id", "job", "slot", "holder", "outcome", "counts", "started_at"]),
        "JobLease": obj({"holder": STR, "slot": TIME, "acquired_at": TIME, "expires_at": TIME}),
        "Job": obj({
            "name": STR, "description": STR,
            "schedule": {**STR, "description": "every Ns, cron ... (Asia/Shanghai), or off"},
            "enabled": BOOL,
            "last_ok_slot": {**nullable_time, "description": "the latest slot that finished ok"},
            "next_due_at": {**nullable_time,
                            "description": "in the past when a slot is due (catch-up)"},
            "last_run": {**ref("JobRun"), "nullable": True},
            "lease": {**ref("JobLease"), "nullable": True,
                      "description": "who runs it now; null when nobody does"},
        }, ["name", "schedule", "enabled"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import PAGING, STR, list_of, obj, op, path_param, ref

    tags = ["admin jobs"]
    return {
        "/api/admin/v1/jobs": {"get": op(
            "Scheduled jobs: schedule, last run, next due time, lease holder (admin:jobs)",
            tags=tags, errors=(400, 403), params=PAGING, ok={"allOf": [list_of(ref("Job")), obj({
                "configuration_errors": {
                    "type": "array", "items": obj({"job": STR, "error": STR}),
                    "description": "what is wrong with SCHEDULER_SCHEDULES (the scheduler "
                                   "refuses to start): unknown jobs, schedules that do not parse"},
            })]})},
        "/api/admin/v1/jobs/{name}/runs": {"get": op(
            "A job's runs, newest first (admin:jobs)", tags=tags, errors=(400, 403, 404),
            params=[path_param("name", description="job name, e.g. infra.purge_idempotency"),
                    *PAGING],
            ok=list_of(ref("JobRun")))},
    }


OPENAPI = _openapi()
