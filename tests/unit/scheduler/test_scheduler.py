"""Scheduler instances over one database: each slot once, failures leave nothing, catch-up."""
import datetime as dt
import json
import time
import uuid

from alliance.db import connection, transaction, utcnow
from alliance.infra import kv
from alliance.infra.models import IdempotencyRecord, KeyValue
from alliance.jobs.models import FAILED, OK, JobLease, JobRun
from alliance.jobs import services
from scheduler.jobs import JOBS
from scheduler.registry import Registry
from scheduler.runner import Scheduler
from server.app import build_context
from tests.scheduling import fire_together, scheduler_instances
from tests.support import make_settings

HOUR = dt.timedelta(hours=1)


def _context(database, **env):
    return build_context(make_settings(database, **env))


def _runs(job):
    with connection():
        return list(JobRun.select().where(JobRun.job == job).order_by(JobRun.id))


def _wait_for(predicate, timeout=8.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _effect_registry(every):
    """A job with an effect that is not idempotent: one row per run reveals any double run."""
    registry = Registry()

    @registry.job("test.effect", every=every)
    def effect(ctx):
        kv.put(f"effect:{uuid.uuid4().hex}", "ran")
        return {"inserted": 1}

    registry.job("infra.purge_idempotency", every=every)(JOBS.get("infra.purge_idempotency").fn)
    return registry


def _seed_expired_idempotency(count):
    with transaction():
        for _ in range(count):
            IdempotencyRecord.create(principal="user:1", key=uuid.uuid4().hex, fingerprint="f",
                                     created_at=utcnow() - dt.timedelta(hours=25))


def test_concurrent_schedulers_run_each_slot_exactly_once(database):
    ctx = _context(database)
    registry = _effect_registry(HOUR)
    clock = {"now": dt.datetime(2026, 11, 28, 3, 0, 1)}
    instances = scheduler_instances(ctx, registry, 3, lambda: clock["now"])
    for hour in range(5):
        clock["now"] = dt.datetime(2026, 11, 28, 3, 0, 1) + hour * HOUR
        _seed_expired_idempotency(7)
        for name in ("test.effect", "infra.purge_idempotency"):
            outcomes = fire_together(instances, name)
            assert outcomes.count(OK) == 1, outcomes
            assert set(outcomes) <= {OK, services.DONE, services.ELSEWHERE}, outcomes

    with connection():
        effects = KeyValue.select().where(KeyValue.key.startswith("effect:")).count()
        remaining = IdempotencyRecord.select().count()
    assert effects == 5 and remaining == 0
    for name in ("test.effect", "infra.purge_idempotency"):
        ok = [run for run in _runs(name) if run.outcome == OK]
        assert len(ok) == len({run.slot for run in ok}) == 5
    purged = [json.loads(run.counts)["deleted"] for run in _runs("infra.purge_idempotency")]
    assert purged == [7] * 5  # each expired record deleted once, by one run


def test_two_running_schedulers_fire_each_slot_once(database):
    ctx = _context(database)
    registry = _effect_registry(dt.timedelta(seconds=1))
    first = Scheduler(ctx, registry, holder="first")
    second = Scheduler(ctx, registry, holder="second")
    first.start()
    second.start()
    try:
        assert _wait_for(lambda: len([r for r in _runs("test.effect") if r.outcome == OK]) >= 3)
    finally:
        first.shutdown()
        second.shutdown()
    ok = [run for run in _runs("test.effect") if run.outcome == OK]
    assert len({run.slot for run in ok}) == len(ok) >= 3
    with connection():
        assert KeyValue.select().where(KeyValue.key.startswith("effect:")).count() == len(ok)
    assert all(run.outcome in (OK, "skipped") for run in _runs("test.effect"))


def test_job_killed_half_way_leaves_no_partial_effect_and_next_run_completes_it(database):
    registry, attempts = Registry(), []

    @registry.job("test.purge", every=dt.timedelta(minutes=1))
    def purge(ctx):
        deleted = 0
        with transaction():
            for row in KeyValue.select().where(KeyValue.expires_at < utcnow()).order_by(KeyValue.key):
                deleted += KeyValue.delete().where(KeyValue.key == row.key).execute()
                if deleted == 2 and not attempts:
                    attempts.append(deleted)
                    raise RuntimeError("killed half-way through the purge")
        return {"deleted": deleted}

    with transaction():
        for i in range(5):
            KeyValue.create(key=f"old:{i}", value="x", expires_at=utcnow() - HOUR)
    clock = {"now": dt.datetime(2026, 11, 28, 3, 0, 1)}
    instance = Scheduler(_context(database), registry, holder="a", clock=lambda: clock["now"])
    spec = instance.specs[0]

    assert instance.run_slot(spec) == FAILED
    with connection():
        assert KeyValue.select().count() == 5
        lease = JobLease.get_by_id("test.purge")
    assert lease.holder is None and lease.done_slot is None
    [failed] = _runs("test.purge")
    assert failed.outcome == FAILED and "killed half-way" in failed.error

    clock["now"] += dt.timedelta(minutes=1)
    assert instance.run_slot(spec) == OK
    with connection():
        assert KeyValue.select().count() == 0
    assert json.loads(_runs("test.purge")[-1].counts) == {"deleted": 5}


def test_slot_of_a_dead_holder_is_run_once_its_lease_expires(database):
    registry = _effect_registry(HOUR)
    now = dt.datetime(2026, 11, 28, 3, 0, 1)
    clock = {"now": now}
    survivor = Scheduler(_context(database), registry, holder="survivor", clock=lambda: clock["now"])
    spec = next(s for s in survivor.specs if s.name == "test.effect")
    with connection():
        dead = services.claim("test.effect", now.replace(second=0), "dead", spec.lease, now)

    assert survivor.run_slot(spec) == services.ELSEWHERE
    clock["now"] = now + spec.lease + dt.timedelta(seconds=1)
    assert survivor.run_slot(spec) == OK
    runs = {run.id: run for run in _runs("test.effect")}
    assert runs[dead.run_id].outcome == FAILED and "abandoned" in runs[dead.run_id].error
    assert [run.holder for run in runs.values() if run.outcome == OK] == ["survivor"]


def test_start_catches_up_slots_missed_during_downtime(database):
    registry = Registry()
    registry.job("test.missed", every=HOUR)(lambda ctx: {"ran": 1})
    registry.job("test.current", every=HOUR)(lambda ctx: {"ran": 1})
    ctx = _context(database, SCHEDULER_MISFIRE_GRACE_S="120")
    latest = registry.get("test.missed").schedule.latest_slot(utcnow())
    with transaction():
        JobLease.create(name="test.missed", done_slot=latest - 3 * HOUR)
        JobLease.create(name="test.current", done_slot=latest)
    instance = Scheduler(ctx, registry, holder="restarted")
    assert [spec.name for spec in instance.due()] == ["test.missed"]

    instance.start()
    try:
        assert _wait_for(lambda: any(r.outcome == OK for r in _runs("test.missed")))
        jobs = {job.id: job for job in instance.scheduled}
    finally:
        instance.shutdown()
    [run] = _runs("test.missed")
    assert run.slot == latest and run.holder == "restarted"
    assert _runs("test.current") == []
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 120)


def test_failed_run_error_never_shows_a_secret(database):
    registry = Registry()
    ctx = _context(database)

    @registry.job("test.leaky", every=HOUR)
    def leaky(ctx):
        raise RuntimeError(f"upstream refused secret={ctx.settings.wechat_miniapp_secret}")

    instance = Scheduler(ctx, registry, holder="a")
    assert instance.run_slot(instance.specs[0]) == FAILED
    [run] = _runs("test.leaky")
    assert ctx.settings.wechat_miniapp_secret not in run.error and "secret=***" in run.error


def test_points_expiry_job_expires_each_lot_once_across_instances(database):
    from alliance.points import services as points
    from alliance.points.models import PointsEntry

    long_ago = utcnow() - dt.timedelta(days=400)
    for user_id in (1, 2, 3):
        points.earn(user_id, 100, merchant_id=None, idempotency_key=f"earn:{user_id}",
                    lifetime=dt.timedelta(days=1), now=long_ago)
    instances = scheduler_instances(_context(database), JOBS, 2)
    outcomes = fire_together(instances, "points.expire")
    assert outcomes.count(OK) == 1
    with connection():
        expiries = PointsEntry.select().where(PointsEntry.kind == "expire").count()
    assert expiries == 3
    assert [json.loads(run.counts) for run in _runs("points.expire")] == [{"expired": 3}]


def test_member_code_purge_job_forgets_expired_nonces(database):
    from alliance.members.member_code import UsedMemberCode

    with transaction():
        UsedMemberCode.create(nonce="old", expires_at=utcnow() - HOUR)
        UsedMemberCode.create(nonce="live", expires_at=utcnow() + HOUR)
    outcomes = fire_together(scheduler_instances(_context(database), JOBS, 2),
                             "members.purge_used_codes")
    assert outcomes.count(OK) == 1
    with connection():
        assert [row.nonce for row in UsedMemberCode.select()] == ["live"]
