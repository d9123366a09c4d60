"""One row per backup the platform made into BACKUP_DIR (console, schedule or command)."""
from __future__ import annotations

from peewee import AutoField, BigIntegerField, CharField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow

RUNNING, SUCCEEDED, FAILED = "running", "succeeded", "failed"
CONSOLE, SCHEDULE, COMMAND, FOUND = "console", "schedule", "command", "found"


class Backup(BaseModel):
    """A backup file and how its writing went.

    ``running_lock`` is 1 while the backup runs and NULL otherwise: its unique index lets one
    backup run at a time across every process (NULLs never collide), whoever started it.
    ``heartbeat_at`` is renewed while it runs; a running row whose heartbeat stopped belongs
    to a process that died, and is marked failed by the next look at the backups.
    """

    id = AutoField()
    file_name = CharField(max_length=128, unique=True)
    status = CharField(max_length=16, default=RUNNING)  # running | succeeded | failed
    running_lock = IntegerField(null=True, unique=True)
    trigger = CharField(max_length=16)  # console | schedule | command | found
    started_by = IntegerField(null=True)  # the operator, for the console's backups
    host = CharField(max_length=128)  # where it was written (BACKUP_DIR is that host's)
    size_bytes = BigIntegerField(null=True)
    sha256 = CharField(max_length=64, null=True)  # of the whole file
    schema_migration = CharField(max_length=128, null=True)  # the latest migration it holds
    row_counts = TextField(default="{}")  # JSON: table -> rows
    rows_total = BigIntegerField(default=0)
    files = IntegerField(default=0)  # uploaded files in it
    tables_done = IntegerField(default=0)  # progress while running
    tables_total = IntegerField(default=0)
    error = TextField(null=True)
    started_at = UTCDateTimeField(default=utcnow)
    heartbeat_at = UTCDateTimeField(default=utcnow)
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        indexes = ((("status", "id"), False),)
