"""``python -m scheduler`` as operators run it: its own process, catch-up at start, SIGTERM."""
import datetime as dt
import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from alliance.db import connection, transaction, utcnow
from alliance.infra.models import IdempotencyRecord, KeyValue
from alliance.jobs.models import JobRun

ROOT = Path(__file__).resolve().parents[2]
from scheduler.jobs import JOBS

WECHAT = "wechat.refresh_access_token"
LOCAL_JOBS = set(JOBS.names()) - {WECHAT}


def _env(database, tmp_path, **schedules):
    # No WeChat here: the token job is turned off, and the sandbox port is one nobody serves.
    schedules = {WECHAT: "off", **schedules}
    return {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path),
            "PORT": "19398",
            "SCHEDULER_SCHEDULES": ";".join(f"{name}={value}" for name, value in schedules.items())}


def _seed_expired():
    with transaction():
        for _ in range(3):
            IdempotencyRecord.create(principal="user:1", key=uuid.uuid4().hex, fingerprint="f",
                                     created_at=utcnow() - dt.timedelta(hours=25))
            KeyValue.create(key=uuid.uuid4().hex, value="x",
                            expires_at=utcnow() - dt.timedelta(minutes=1))


def _ok_jobs():
    with connection():
        return {run.job for run in JobRun.select().where(JobRun.outcome == "ok")}


def _started(process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait for the scheduler's start line."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    line = process.stdout.readline() if ready else ""
    if "running" not in line:
        process.kill()
        raise AssertionError(f"scheduler did not start: {line!r} {process.communicate()}")


def _handles_sigterm(process: subprocess.Popen, timeout: float = 30) -> None:
    """Wait until the process has a SIGTERM handler (Linux: SigCgt in /proc/<pid>/status)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = int(next(line for line in status.splitlines()
                          if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)
    raise AssertionError("no SIGTERM handler")


def test_scheduler_process_catches_up_at_start_and_stops_on_sigterm(database, tmp_path):
    _seed_expired()
    process = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT,
                               env=_env(database, tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while _ok_jobs() != LOCAL_JOBS and time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            time.sleep(0.2)
        assert _ok_jobs() == LOCAL_JOBS
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"running {len(LOCAL_JOBS)} jobs" in out
    with connection():
        expiring = KeyValue.select().where(KeyValue.expires_at.is_null(False))
        assert IdempotencyRecord.select().count() == 0 and expiring.count() == 0


def test_two_scheduler_processes_run_each_slot_once(database, tmp_path):
    _seed_expired()
    only_purge_key_values = {name: "off" for name in LOCAL_JOBS}
    env = _env(database, tmp_path, **{**only_purge_key_values, "infra.purge_key_values": "1"})
    processes = [subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    for process in processes:  # both take part (one slow to start could miss every slot)
        _started(process)

    def ok_runs():
        with connection():
            return list(JobRun.select().where(JobRun.job == "infra.purge_key_values",
                                              JobRun.outcome == "ok"))

    try:
        deadline = time.monotonic() + 30
        while len(ok_runs()) < 4 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        errors = [process.communicate(timeout=30)[1] for process in processes]
    runs = ok_runs()
    assert len(runs) >= 4 and len({run.slot for run in runs}) == len(runs)
    assert [process.returncode for process in processes] == [0, 0], errors
    assert sum(json.loads(run.counts)["deleted"] for run in runs) == 3


def test_scheduler_once_runs_what_is_due_then_nothing(database, tmp_path):
    _seed_expired()
    command = [sys.executable, "-m", "scheduler", "--once"]
    # Daily slots, so that no new slot falls due between the two runs.
    env = _env(database, tmp_path, **{name: "86400" for name in LOCAL_JOBS
                                      if JOBS.get(name).schedule.every is not None})
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60)
    assert first.returncode == 0, first.stderr
    assert dict(line.split(": ") for line in first.stdout.splitlines()) == dict.fromkeys(LOCAL_JOBS, "ok")
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert second.returncode == 0 and second.stdout == ""


def test_scheduler_list_names_every_job(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scheduler", "--list"], cwd=ROOT,
                            env={**os.environ, "ALLIANCE_VAR_DIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "wechat.refresh_access_token" in result.stdout and "every 120s" in result.stdout


def test_scheduler_refuses_a_malformed_schedule(tmp_path):
    result = subprocess.run([sys.executable, "-m", "scheduler", "--list"], cwd=ROOT,
                            env={**os.environ, "ALLIANCE_VAR_DIR": str(tmp_path),
                                 "SCHEDULER_SCHEDULES": "no.such_job=60"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "no.such_job" in result.stderr


def test_a_sigterm_while_starting_ends_the_scheduler_cleanly(database, tmp_path):
    # A quick restart can stop the scheduler before it has started: exit 0, no job run.
    process = subprocess.Popen([sys.executable, "-m", "scheduler"], cwd=ROOT,
                               env=_env(database, tmp_path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _handles_sigterm(process)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "running" not in out
