"""The lease row: one holder per slot, expiry after a crash, runs recorded."""
import datetime as dt
import json

from alliance.db import connection
from alliance.jobs import services
from alliance.jobs.models import FAILED, OK, RUNNING, SKIPPED, JobLease, JobRun

SLOT = dt.datetime(2026, 11, 28, 3, 0)
NOW = SLOT + dt.timedelta(seconds=2)
LEASE = dt.timedelta(minutes=5)


def _claim(holder, slot=SLOT, now=NOW):
    with connection():
        return services.claim("test.job", slot, holder, LEASE, now)


def test_claim_of_a_free_lease_is_taken_and_recorded_running(database):
    claim = _claim("a")
    assert claim.status == services.TAKEN
    with connection():
        run = JobRun.get_by_id(claim.run_id)
        lease = JobLease.get_by_id("test.job")
    assert (run.outcome, run.holder, run.slot) == (RUNNING, "a", SLOT)
    assert (lease.holder, lease.slot, lease.expires_at) == ("a", SLOT, NOW + LEASE)


def test_claim_of_a_slot_another_holder_runs_is_elsewhere(database):
    _claim("a")
    assert _claim("b").status == services.ELSEWHERE


def test_claim_of_a_finished_slot_is_done(database):
    claim = _claim("a")
    with connection():
        services.finish(claim.run_id, "test.job", "a", SLOT, {"deleted": 3})
    assert _claim("b").status == services.DONE
    with connection():
        run = JobRun.get_by_id(claim.run_id)
        lease = JobLease.get_by_id("test.job")
    assert run.outcome == OK and json.loads(run.counts) == {"deleted": 3}
    assert lease.holder is None and lease.done_slot == SLOT


def test_claim_while_an_earlier_slot_runs_is_recorded_skipped(database):
    _claim("a")
    later = SLOT + dt.timedelta(minutes=1)
    claim = _claim("b", slot=later, now=later)
    assert claim.status == SKIPPED
    with connection():
        run = JobRun.get_by_id(claim.run_id)
    assert run.outcome == SKIPPED and "lease held by a" in run.error


def test_expired_lease_is_retaken_and_the_dead_holders_run_failed(database):
    dead = _claim("a")
    after_expiry = NOW + LEASE + dt.timedelta(seconds=1)
    claim = _claim("b", now=after_expiry)
    assert claim.status == services.TAKEN
    with connection():
        abandoned = JobRun.get_by_id(dead.run_id)
        lease = JobLease.get_by_id("test.job")
    assert abandoned.outcome == FAILED and "abandoned" in abandoned.error
    assert lease.holder == "b"


def test_failed_run_releases_the_lease_and_leaves_the_slot_due(database):
    claim = _claim("a")
    with connection():
        services.fail(claim.run_id, "test.job", "a", "RuntimeError: boom")
        run = JobRun.get_by_id(claim.run_id)
        lease = JobLease.get_by_id("test.job")
    assert run.outcome == FAILED and run.error == "RuntimeError: boom"
    assert lease.holder is None and lease.done_slot is None
    assert _claim("b").status == services.TAKEN


def test_purge_runs_deletes_only_old_finished_runs(database):
    old = _claim("a", now=NOW - dt.timedelta(days=40))
    with connection():
        services.finish(old.run_id, "test.job", "a", SLOT, now=NOW - dt.timedelta(days=40))
        recent = services.claim("test.job", SLOT + dt.timedelta(hours=1), "a", LEASE, NOW)
        assert services.purge_runs(dt.timedelta(days=30), now=NOW) == 1
        assert [r.id for r in JobRun.select()] == [recent.run_id]
