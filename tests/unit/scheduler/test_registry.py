"""Schedules and the registry: aligned slots, cron in Shanghai time, overrides by settings."""
import datetime as dt

import pytest

from config.settings import ConfigurationError
from scheduler.jobs import JOBS
from scheduler.registry import Registry, Schedule
from tests.support import make_settings

NOW = dt.datetime(2026, 11, 28, 3, 17, 42, 500000)  # 11:17:42 in Shanghai


def test_interval_slots_are_aligned_to_the_epoch():
    every = Schedule(every=dt.timedelta(minutes=5))
    assert every.latest_slot(NOW) == dt.datetime(2026, 11, 28, 3, 15)
    assert every.next_slot(NOW) == dt.datetime(2026, 11, 28, 3, 20)
    assert every.latest_slot(dt.datetime(2026, 11, 28, 3, 20)) == dt.datetime(2026, 11, 28, 3, 20)


def test_cron_slots_are_in_shanghai_time():
    daily = Schedule(cron="30 0 * * *")  # 00:30 in Shanghai is 16:30 UTC the day before
    assert daily.latest_slot(NOW) == dt.datetime(2026, 11, 27, 16, 30)
    assert daily.next_slot(NOW) == dt.datetime(2026, 11, 28, 16, 30)
    monthly = Schedule(cron="0 9 1 * *")
    assert monthly.latest_slot(NOW) == dt.datetime(2026, 11, 1, 1, 0)


def test_malformed_schedules_are_refused():
    for bad in (dict(), dict(every=dt.timedelta(seconds=1), cron="* * * * *"),
                dict(every=dt.timedelta(milliseconds=500)), dict(cron="61 * * * *")):
        with pytest.raises(ValueError):
            Schedule(**bad)


def test_a_job_name_registers_once():
    registry = Registry()
    registry.job("x.y", every=dt.timedelta(seconds=5))(lambda ctx: None)
    with pytest.raises(ValueError):
        registry.job("x.y", every=dt.timedelta(seconds=5))(lambda ctx: None)


def test_job_is_due_until_its_latest_slot_is_done():
    spec = JOBS.get("infra.purge_idempotency")
    latest = dt.datetime(2026, 11, 28, 3, 0)
    assert spec.is_due(None, NOW) and spec.next_due(None, NOW) == latest
    assert spec.is_due(latest - dt.timedelta(hours=3), NOW)
    assert not spec.is_due(latest, NOW) and spec.next_due(latest, NOW) == latest + dt.timedelta(hours=1)


def test_scheduler_schedules_override_and_turn_off_jobs(database):
    settings = make_settings(database, SCHEDULER_SCHEDULES=(
        "infra.purge_idempotency=60; infra.purge_key_values=off;"
        " jobs.purge_runs=cron:0 4 * * sun"))
    specs = {spec.name: spec for spec in JOBS.specs(settings)}
    assert specs["infra.purge_idempotency"].schedule.describe() == "every 60s"
    assert "infra.purge_key_values" not in specs
    assert specs["jobs.purge_runs"].schedule.cron == "0 4 * * sun"


def test_scheduler_schedules_naming_an_unknown_job_is_refused(database):
    with pytest.raises(ConfigurationError, match="no.such_job"):
        JOBS.specs(make_settings(database, SCHEDULER_SCHEDULES="no.such_job=60"))


@pytest.mark.parametrize("value", ["infra.purge_idempotency", "Bad Name=60", "x=0", "x=cron:1 2"])
def test_malformed_scheduler_schedules_are_a_configuration_error(database, value):
    with pytest.raises(ConfigurationError, match="SCHEDULER_SCHEDULES"):
        make_settings(database, SCHEDULER_SCHEDULES=value)
