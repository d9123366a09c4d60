"""The tables of scheduled work: one lease row per job, one row per run."""
from __future__ import annotations

from peewee import AutoField, CharField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow

RUNNING, OK, FAILED, SKIPPED = "running", "ok", "failed", "skipped"
OUTCOMES = (RUNNING, OK, FAILED, SKIPPED)


class JobLease(BaseModel):
    """Who runs ``name`` now (``holder`` until ``expires_at``), and the last slot done.

    A scheduler process takes the lease for one scheduled slot by a guarded UPDATE; a holder
    that dies keeps it only until ``expires_at``, after which another process retakes it.
    """

    name = CharField(max_length=64, primary_key=True)
    holder = CharField(max_length=128, null=True)
    slot = UTCDateTimeField(null=True)  # the slot the holder runs
    run_id = IntegerField(null=True)  # the holder's JobRun
    acquired_at = UTCDateTimeField(null=True)
    expires_at = UTCDateTimeField(null=True)
    done_slot = UTCDateTimeField(null=True)  # the latest slot that finished ok
    done_at = UTCDateTimeField(null=True)


class JobRun(BaseModel):
    """One attempt at one slot of a job: when, by whom, how it ended, what it did."""

    id = AutoField()
    job = CharField(max_length=64)
    slot = UTCDateTimeField()
    holder = CharField(max_length=128)
    outcome = CharField(max_length=16, default=RUNNING)  # running | ok | failed | skipped
    counts = TextField(default="{}")  # JSON object of what the job did, e.g. {"deleted": 3}
    error = TextField(null=True)
    started_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True, index=True)

    class Meta:
        indexes = ((("job", "id"), False), (("job", "outcome"), False))
