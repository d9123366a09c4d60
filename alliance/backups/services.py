"""Backups into BACKUP_DIR, recorded: start one (one at a time across every process), write
it while its record shows progress, mark those whose process died failed, and prune.

A backup is begun (its row inserted ``running``: the unique ``running_lock`` refuses a
second while one runs) and then written, usually on a thread of its own, by ``write``: the
file itself is ``alliance.infra.backup``'s. While it is written a heartbeat thread renews
the row's ``heartbeat_at`` (and its progress); a running row whose heartbeat is older than
``STALE_AFTER`` belongs to a process that stopped, and ``expire_stale`` marks it failed.
File names are made here, never taken from a request.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import socket
import threading
from pathlib import Path

from peewee import IntegrityError

from alliance.accounts.operators import record_audit
from alliance.backups.models import (COMMAND, FAILED, FOUND, RUNNING, SCHEDULE, SUCCEEDED,
                                     Backup)
from alliance.db import connection, transaction, utcnow
from alliance.errors import Conflict, NotFound
from alliance.infra import backup as snapshot
from alliance.infra.backup import BackupError, BackupSummary

log = logging.getLogger("alliance.backups")

HEARTBEAT_EVERY = dt.timedelta(seconds=5)
STALE_AFTER = dt.timedelta(minutes=5)
MAX_ERROR_CHARS = 2000
# alliance-20261207-220500-a1b2c3.tar.gz: UTC time, then random (two in one second differ)
FILE_NAME = re.compile(r"^alliance-[0-9]{8}-[0-9]{6}-[0-9a-f]{6}\.tar\.gz$")


class BackupRunning(Conflict):
    code = "BACKUP_RUNNING"
    message = "已有备份正在进行，请等它完成后再试"


class BackupNotFound(NotFound):
    code = "BACKUP_NOT_FOUND"
    message = "备份不存在"


class BackupNotReady(Conflict):
    code = "BACKUP_NOT_READY"
    message = "该备份没有成功完成，没有可下载的文件"


class BackupFileMissing(NotFound):
    code = "BACKUP_FILE_MISSING"
    message = "备份文件已不在备份目录中"


def new_file_name(now: dt.datetime) -> str:
    return f"alliance-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}.tar.gz"


def file_path(directory: Path, file_name: str) -> Path:
    """The file of a recorded backup: names we made only, directly inside ``directory``."""
    if not FILE_NAME.match(file_name):
        raise BackupFileMissing(details={"file_name": file_name})
    return Path(directory) / file_name


def expire_stale(now: dt.datetime | None = None) -> int:
    """Mark failed the running backups whose heartbeat stopped (their process died); how many."""
    now = now or utcnow()
    with transaction():
        return (Backup.update(status=FAILED, running_lock=None, finished_at=now,
                              error="interrupted: the process writing it stopped (no heartbeat "
                                    f"for {int(STALE_AFTER.total_seconds()) // 60} minutes)")
                .where(Backup.status == RUNNING,
                       Backup.heartbeat_at < now - STALE_AFTER).execute())


def begin(trigger: str, operator_id: int | None = None,
          now: dt.datetime | None = None) -> Backup:
    """Record a new backup as running (audited when an operator asked for it); BackupRunning
    while another runs anywhere. The caller then ``write``s it."""
    now = now or utcnow()
    expire_stale(now)
    try:
        with transaction():
            row = Backup.create(file_name=new_file_name(now), status=RUNNING, running_lock=1,
                                trigger=trigger, started_by=operator_id,
                                host=socket.gethostname()[:128], started_at=now,
                                heartbeat_at=now)
            if operator_id is not None:
                record_audit(operator_id, "backup.start", "backup", row.id,
                             details={"file_name": row.file_name})
    except IntegrityError:
        running = Backup.get_or_none(Backup.status == RUNNING)
        raise BackupRunning(details={"backup_id": running.id if running else None}) from None
    return row


class _Heartbeat:
    """Renews a running backup's heartbeat (and progress) from a thread of its own: the
    writing thread is inside its snapshot's read transaction, which cannot write."""

    def __init__(self, backup_id: int, every: dt.timedelta = HEARTBEAT_EVERY) -> None:
        self.backup_id, self.every = backup_id, every.total_seconds()
        self.done, self.total = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"backup-{backup_id}-heartbeat",
                                        daemon=True)

    def progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                with transaction():
                    (Backup.update(heartbeat_at=utcnow(), tables_done=self.done,
                                   tables_total=self.total)
                     .where(Backup.id == self.backup_id, Backup.status == RUNNING).execute())
            except Exception:  # the next beat tries again; the backup goes on
                log.warning("backup %s: heartbeat failed", self.backup_id, exc_info=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _succeeded(summary: BackupSummary, path: Path) -> dict:
    return {"status": SUCCEEDED, "running_lock": None, "size_bytes": path.stat().st_size,
            "sha256": file_sha256(path), "schema_migration": summary.migrations[-1],
            "row_counts": json.dumps(summary.tables, sort_keys=True),
            "rows_total": sum(summary.tables.values()), "files": len(summary.files),
            "tables_done": len(summary.tables), "tables_total": len(summary.tables),
            "error": None}


def write(backup_id: int, directory: Path, uploads: Path | None) -> Backup:
    """Write the file of the running backup ``backup_id`` into ``directory`` (with the
    files under ``uploads``) and record how it ended; the record after. Never raises for a
    backup that fails: the record says why."""
    with connection():
        row = Backup.get_by_id(backup_id)
    path = file_path(directory, row.file_name)
    try:
        with _Heartbeat(backup_id) as heartbeat:
            summary = snapshot.backup(path, uploads, progress=heartbeat.progress)
        outcome = _succeeded(summary, path)
    except Exception as exc:  # recorded: the console shows it; the log has the trace
        log.exception("backup %s failed", backup_id)
        path.with_name(path.name + ".partial").unlink(missing_ok=True)
        outcome = {"status": FAILED, "running_lock": None,
                   "error": f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]}
    with transaction():
        # Not guarded on ``running``: had it been taken for dead meanwhile, this is its truth.
        Backup.update(**outcome, finished_at=utcnow()).where(Backup.id == backup_id).execute()
        return Backup.get_by_id(backup_id)


def prune(directory: Path, keep: int) -> int:
    """Delete the backups beyond the newest ``keep`` successful ones (never the newest), and
    the failed ones older than the oldest kept; each file first, then its record. Failed
    backups' leftover files go too. Files no record names are left alone. How many records
    were deleted."""
    keep = max(keep, 1)
    rows = list(Backup.select(Backup.id, Backup.file_name, Backup.status)
                .where(Backup.status != RUNNING).order_by(Backup.id.desc()))
    kept_successes, doomed = 0, []
    for row in rows:
        if kept_successes >= keep:
            doomed.append(row)
        elif row.status == SUCCEEDED:
            kept_successes += 1
    for row in rows:
        if row.status == FAILED and FILE_NAME.match(row.file_name):
            path = file_path(directory, row.file_name)
            path.unlink(missing_ok=True)
            path.with_name(path.name + ".partial").unlink(missing_ok=True)
    for row in doomed:
        if FILE_NAME.match(row.file_name):
            file_path(directory, row.file_name).unlink(missing_ok=True)
        with transaction():
            Backup.delete().where(Backup.id == row.id).execute()
    return len(doomed)


def downloadable(backup_id: int, directory: Path, operator_id: int) -> tuple[Path, str]:
    """The path and name of a successful backup's file, its download audited."""
    row = Backup.get_or_none(Backup.id == backup_id)
    if row is None:
        raise BackupNotFound(details={"backup_id": backup_id})
    if row.status != SUCCEEDED:
        raise BackupNotReady(details={"backup_id": backup_id, "status": row.status})
    path = file_path(directory, row.file_name)
    if not path.is_file():
        raise BackupFileMissing(details={"backup_id": backup_id, "host": row.host})
    with transaction():
        record_audit(operator_id, "backup.download", "backup", row.id,
                     details={"file_name": row.file_name})
    return path, row.file_name


def run_now(directory: Path, uploads: Path | None, trigger: str = COMMAND) -> Backup:
    """Begin and write a backup on this thread (the command line, the daily job)."""
    with connection():
        row = begin(trigger)
    return write(row.id, directory, uploads)


def _modified_at(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.timezone.utc)


def scheduled(directory: Path, uploads: Path | None, keep: int) -> dict:
    """The daily backup, then pruning to ``keep``; BackupError when the backup failed (the
    job's run says why). A backup already running (an operator's) stands for this one."""
    try:
        with connection():
            row = begin(SCHEDULE)
    except BackupRunning:
        written = None
    else:
        written = write(row.id, directory, uploads)
        if written.status == FAILED:
            raise BackupError(f"backup {written.id} failed: {written.error}")
    with connection():
        pruned = prune(directory, keep)
    return {"written": int(written is not None), "bytes": written.size_bytes if written else 0,
            "pruned": pruned}


def after_restore(directory: Path, restored: Path, summary: BackupSummary) -> dict:
    """Bring the records of a database just restored (from ``restored``, which ``summary``
    describes) in step with ``directory``.

    The restored backup was taken while its own record said ``running``: that record is the
    file restored, now known whole. Other backups running at that moment never finished in
    this history. And backups made after the restored one are files without records: they
    are recorded (``found``) once their checksums verify, so that they are listed, can be
    downloaded, and are pruned in their turn.
    """
    counts = {"restored": 0, "found": 0, "unreadable": 0}
    with transaction():
        counts["restored"] = (Backup.update(**_succeeded(summary, restored),
                                            finished_at=_modified_at(restored))
                              .where(Backup.file_name == restored.name,
                                     Backup.status == RUNNING).execute())
        (Backup.update(status=FAILED, running_lock=None, finished_at=utcnow(),
                       error="interrupted: the database was restored from a backup taken "
                             "while this one ran")
         .where(Backup.status == RUNNING).execute())
    known = {name for (name,) in Backup.select(Backup.file_name).tuples()}
    for path in sorted(Path(directory).glob("alliance-*.tar.gz")):
        if path.name in known or not FILE_NAME.match(path.name):
            continue
        try:
            manifest = snapshot.verify(path)
        except BackupError:
            counts["unreadable"] += 1
            continue
        finished = _modified_at(path)
        summary = BackupSummary(manifest["migrations"], manifest["tables"], manifest["files"])
        with transaction():
            Backup.create(file_name=path.name, trigger=FOUND, host=socket.gethostname()[:128],
                          started_at=finished, heartbeat_at=finished, finished_at=finished,
                          **_succeeded(summary, path))
        counts["found"] += 1
    return counts
