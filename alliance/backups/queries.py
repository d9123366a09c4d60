"""Reads of the backups for operators: pages newest first, one backup, how to restore it."""
from __future__ import annotations

import json
import shlex
from pathlib import Path

from alliance.accounts.models import Operator
from alliance.backups.models import SUCCEEDED, Backup
from alliance.backups.services import BackupNotFound, expire_stale, file_path
from alliance.clock import to_local_iso
from alliance.paging import newest_first


def restore_command(directory: Path, file_name: str) -> str:
    """The command that restores this backup over the current data (servers stopped)."""
    return "python -m server restore " + shlex.quote(str(file_path(directory, file_name))) \
        + " --force"


def view(row: Backup, directory: Path, names: dict[int, str] | None = None) -> dict:
    """A backup as the console shows it."""
    done = row.status == SUCCEEDED
    return {
        "id": row.id, "file_name": row.file_name, "status": row.status,
        "trigger": row.trigger, "started_by": row.started_by,
        "started_by_name": (names or {}).get(row.started_by), "host": row.host,
        "size_bytes": row.size_bytes, "sha256": row.sha256,
        "schema_migration": row.schema_migration,
        "row_counts": json.loads(row.row_counts or "{}"), "rows_total": row.rows_total,
        "files": row.files,
        "progress": {"tables_done": row.tables_done, "tables_total": row.tables_total},
        "error": row.error,
        "started_at": to_local_iso(row.started_at), "finished_at": to_local_iso(row.finished_at),
        "download_url": f"/api/admin/v1/backups/{row.id}/download" if done else None,
        "restore_command": restore_command(directory, row.file_name) if done else None,
    }


def _names(rows: list[Backup]) -> dict[int, str]:
    ids = {r.started_by for r in rows if r.started_by is not None}
    if not ids:
        return {}
    return {id_: display or username for id_, display, username
            in Operator.select(Operator.id, Operator.display_name, Operator.username)
            .where(Operator.id.in_(ids)).tuples()}


def page(directory: Path, cursor: str | None, limit: int) -> tuple[list[dict], str | None]:
    """Backups newest first (those whose process died are marked failed first)."""
    expire_stale()
    rows, next_cursor = newest_first(Backup.select(), Backup.id, cursor, limit)
    names = _names(rows)
    return [view(r, directory, names) for r in rows], next_cursor


def detail(backup_id: int, directory: Path) -> dict:
    """One backup; BackupNotFound."""
    expire_stale()
    row = Backup.get_or_none(Backup.id == backup_id)
    if row is None:
        raise BackupNotFound(details={"backup_id": backup_id})
    return view(row, directory, _names([row]))
