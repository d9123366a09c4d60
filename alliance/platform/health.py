"""System health for operators: what can be read cheaply (indexed counts, one row each).

The database and its migration level, the outbox's backlog, payment notifications not yet
applied, the scheduled jobs' recent failures and the latest backups; the caller adds what the process knows
(its version, each job's schedule).
"""
from __future__ import annotations

import datetime as dt
import sqlite3

from peewee import fn

from alliance.backups.models import FAILED, RUNNING, SUCCEEDED, Backup
from alliance.clock import to_local_iso
from alliance.db import db, is_mysql, utcnow
from alliance.jobs.models import JobRun
from alliance.migrate import MIGRATIONS_DIR, migration_names
from alliance.notifications.models import OutboxMessage
from alliance.payments.models import ABNORMAL, RECEIVED, PaymentNotification

FAILURE_WINDOW = dt.timedelta(hours=24)
# A notification recorded this long ago and still not applied is overdue (the sweep that
# applies them again runs every few minutes).
NOTIFICATION_OVERDUE = dt.timedelta(minutes=15)
# Without a successful backup this long, the daily one (backups.daily) has been missed.
BACKUP_OVERDUE = dt.timedelta(hours=26)


def database() -> dict:
    """Which database answers, its server version, and the migrations applied to it."""
    from playhouse.migrations import Runner

    if is_mysql():
        kind, version = "mysql", db.execute_sql("SELECT VERSION()").fetchone()[0]
    else:
        kind, version = "sqlite", sqlite3.sqlite_version
    applied = sorted(Runner(db.obj, str(MIGRATIONS_DIR)).applied())
    known = migration_names()
    return {"kind": kind, "server_version": version,
            "migration": applied[-1] if applied else None,
            "latest_migration": known[-1] if known else None,
            "pending_migrations": [name for name in known if name not in set(applied)]}


def outbox() -> dict:
    """Notifications waiting to be delivered, retried, or given up on."""
    counts = dict(OutboxMessage.select(OutboxMessage.status, fn.COUNT(OutboxMessage.id))
                  .where(OutboxMessage.status.in_(("pending", "sending", "failed")))
                  .group_by(OutboxMessage.status).tuples())
    oldest = (OutboxMessage.select(fn.MIN(OutboxMessage.next_attempt_at))
              .where(OutboxMessage.status == "pending").scalar())
    return {"pending": counts.get("pending", 0), "sending": counts.get("sending", 0),
            "failed": counts.get("failed", 0), "oldest_pending_due_at": to_local_iso(oldest)}


def payment_notifications() -> dict:
    """Payment and refund notifications recorded and not yet applied (and the abnormal)."""
    counts = dict(PaymentNotification.select(PaymentNotification.status,
                                             fn.COUNT(PaymentNotification.id))
                  .where(PaymentNotification.status.in_((RECEIVED, ABNORMAL)))
                  .group_by(PaymentNotification.status).tuples())
    oldest = (PaymentNotification.select(fn.MIN(PaymentNotification.received_at))
              .where(PaymentNotification.status == RECEIVED).scalar())
    return {"unapplied": counts.get(RECEIVED, 0), "abnormal": counts.get(ABNORMAL, 0),
            "oldest_unapplied_at": to_local_iso(oldest),
            "overdue": oldest is not None and oldest < utcnow() - NOTIFICATION_OVERDUE}


def job_failures(names: list[str]) -> dict[str, dict]:
    """Per job: its failures of the last 24 hours and when it last failed."""
    since = utcnow() - FAILURE_WINDOW
    failed = ((JobRun.job.in_(names)) & (JobRun.outcome == "failed"))
    recent = dict(JobRun.select(JobRun.job, fn.COUNT(JobRun.id))
                  .where(failed, JobRun.started_at >= since).group_by(JobRun.job).tuples())
    last_ids = JobRun.select(fn.MAX(JobRun.id)).where(failed).group_by(JobRun.job)
    last = {job: at for job, at in JobRun.select(JobRun.job, JobRun.started_at)
            .where(JobRun.id.in_(last_ids)).tuples()}
    return {name: {"failures_24h": recent.get(name, 0),
                   "last_failed_at": to_local_iso(last.get(name))} for name in names}


def backups() -> dict:
    """When the latest backup succeeded and the latest failed, whether one runs now, and
    whether the daily one is overdue (none succeeded for BACKUP_OVERDUE)."""
    def latest(status: str):
        return Backup.select(fn.MAX(Backup.finished_at)).where(Backup.status == status).scalar()

    succeeded = latest(SUCCEEDED)
    return {"last_succeeded_at": to_local_iso(succeeded),
            "last_failed_at": to_local_iso(latest(FAILED)),
            "running": Backup.select().where(Backup.status == RUNNING).exists(),
            "overdue": succeeded is None or succeeded < utcnow() - BACKUP_OVERDUE}
