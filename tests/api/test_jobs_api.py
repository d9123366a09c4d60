"""The console's view of scheduled jobs: schedules, leases, runs page by page, who may see."""
import datetime as dt

from alliance.db import connection
from alliance.jobs import services
from config.settings import ConfigurationError
from scheduler.jobs import JOBS
from scheduler.runner import Scheduler
from tests.support import ApiTestCase

SLOT = dt.datetime(2026, 11, 28, 3, 0)


class JobsApiTest(ApiTestCase):
    env = {"SCHEDULER_SCHEDULES": "infra.purge_key_values=off"}

    def _run_purge_idempotency(self):
        scheduler = Scheduler(self.app.settings["ctx"], JOBS, holder="host-a:1:abc")
        spec = next(s for s in scheduler.specs if s.name == "infra.purge_idempotency")
        assert scheduler.run_slot(spec) == "ok"

    def _finished_runs(self, count):
        with connection():
            for i in range(count):
                slot = SLOT + dt.timedelta(hours=i)
                claim = services.claim("infra.purge_rate_counters", slot, "host-b:2:def",
                                       dt.timedelta(minutes=5), slot)
                services.finish(claim.run_id, "infra.purge_rate_counters", "host-b:2:def",
                                slot, {"deleted": i}, slot)

    def test_jobs_list_shows_schedule_last_run_next_due_and_lease(self):
        self._run_purge_idempotency()
        with connection():
            services.claim("wechat.refresh_access_token", SLOT, "host-c:3:fed",
                           dt.timedelta(days=3650), dt.datetime(2026, 11, 28, 3, 0, 5))
        response = self.api("GET", "/api/admin/v1/jobs", token=self.operator_token("operator"))
        assert response.status == 200
        jobs = {item["name"]: item for item in response.json["items"]}
        assert set(jobs) == set(JOBS.names())

        purge = jobs["infra.purge_idempotency"]
        assert purge["schedule"] == "every 3600s" and purge["enabled"] is True
        assert purge["last_run"]["outcome"] == "ok" and purge["last_run"]["counts"] == {"deleted": 0}
        assert purge["last_run"]["holder"] == "host-a:1:abc" and purge["lease"] is None
        assert purge["last_ok_slot"].endswith("+08:00")
        assert purge["next_due_at"] > purge["last_ok_slot"]

        held = jobs["wechat.refresh_access_token"]
        assert held["lease"]["holder"] == "host-c:3:fed"
        assert held["last_run"]["outcome"] == "running"

        off = jobs["infra.purge_key_values"]
        assert (off["schedule"], off["enabled"], off["next_due_at"]) == ("off", False, None)
        never = jobs["jobs.purge_runs"]
        assert never["last_run"] is None and never["next_due_at"] is not None

    def test_job_runs_are_paged_newest_first(self):
        self._finished_runs(5)
        token = self.operator_token("operator")
        seen, cursor = [], None
        while True:
            query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
            response = self.api("GET", f"/api/admin/v1/jobs/infra.purge_rate_counters/runs?{query}",
                                token=token)
            assert response.status == 200 and len(response.json["items"]) <= 2
            seen += response.json["items"]
            cursor = response.json["next_cursor"]
            if cursor is None:
                break
        assert [run["counts"]["deleted"] for run in seen] == [4, 3, 2, 1, 0]
        assert {run["outcome"] for run in seen} == {"ok"}
        assert seen[0]["slot"] == "2026-11-28T15:00:00+08:00"

    def test_runs_of_an_unknown_job_are_not_found(self):
        response = self.api("GET", "/api/admin/v1/jobs/no.such_job/runs",
                            token=self.operator_token())
        self.assert_error(response, 404, "JOB_NOT_FOUND")

    def test_forged_cursor_is_a_validation_error(self):
        response = self.api("GET", "/api/admin/v1/jobs/infra.purge_idempotency/runs?cursor=zzz",
                            token=self.operator_token())
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_limit_out_of_range_is_a_validation_error(self):
        response = self.api("GET", "/api/admin/v1/jobs/infra.purge_idempotency/runs?limit=500",
                            token=self.operator_token())
        self.assert_error(response, 400, "VALIDATION_FAILED")

    def test_consumer_token_is_refused(self):
        for path in ("/api/admin/v1/jobs", "/api/admin/v1/jobs/infra.purge_idempotency/runs"):
            self.assert_error(self.api("GET", path, token=self.token("alice")), 401,
                              "TOKEN_INVALID")

    def test_operator_without_admin_jobs_is_forbidden(self):
        response = self.api("GET", "/api/admin/v1/jobs",
                            token=self.operator_token("customer_service"))
        self.assert_error(response, 403, "FORBIDDEN")

    def test_anonymous_request_is_unauthenticated(self):
        self.assert_error(self.api("GET", "/api/admin/v1/jobs"), 401, "UNAUTHENTICATED")


class JobsApiWithWrongSchedulesTest(ApiTestCase):
    """SCHEDULER_SCHEDULES names a job that does not exist and a cron that does not parse: the
    scheduler refuses to start, the list still answers and says what is wrong."""

    env = {"SCHEDULER_SCHEDULES": "no.such_job=60;jobs.purge_runs=cron:99 * * * *;"
                                  "infra.purge_key_values=off"}

    def test_jobs_list_reports_the_unknown_job_and_the_bad_schedule(self):
        response = self.api("GET", "/api/admin/v1/jobs", token=self.operator_token("operator"))
        assert response.status == 200, response.body
        jobs = {item["name"]: item for item in response.json["items"]}
        assert set(jobs) == set(JOBS.names())
        assert jobs["infra.purge_key_values"]["enabled"] is False
        assert jobs["jobs.purge_runs"]["schedule"] == "cron 15 3 * * * (Asia/Shanghai)"
        errors = {e["job"]: e["error"] for e in response.json["configuration_errors"]}
        assert set(errors) == {"no.such_job", "jobs.purge_runs"}
        assert errors["no.such_job"] == "unknown job"

    def test_the_scheduler_refuses_the_same_settings(self):
        with self.assertRaisesRegex(ConfigurationError, "no.such_job.*unknown job"):
            Scheduler(self.app.settings["ctx"], JOBS)
