"""Restoring a backup (the format is described in ``alliance.infra.backup``).

A restore checks every checksum before it writes anything, refuses a database that holds
data (``force`` replaces it), migrates the database to the backup's schema version, loads
every row in one transaction and compares the counts before committing, then applies the
migrations the backup predates, and writes the files back.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path
from typing import IO, Iterator

from peewee import Table

from alliance.db import db, is_mysql
from alliance.infra.backup import (MIGRATION_TABLE, BackupError, BackupSummary, decode, member,
                                   verify)
from alliance.migrate import applied_migrations, migrate, migration_names

BATCH_ROWS = 200
BATCH_BYTES = 4 * 1024 * 1024  # well under MySQL's max_allowed_packet


def _data_tables() -> list[str]:
    return [t for t in db.get_tables() if not t.startswith("sandbox_") and t != MIGRATION_TABLE]


def tables_with_rows() -> list[str]:
    """The tables of the database that hold data (the sandbox's state does not count)."""
    with db.connection_context():
        return [t for t in _data_tables() if Table(t).bind(db).select().exists()]


def _drop_data_tables() -> None:
    """Drop every table but the sandbox's, schema history included (a clean slate)."""
    with db.connection_context():
        off, on = (("SET FOREIGN_KEY_CHECKS = 0", "SET FOREIGN_KEY_CHECKS = 1") if is_mysql()
                   else ("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"))
        db.execute_sql(off)
        try:
            for table in _data_tables() + [MIGRATION_TABLE]:
                db.execute_sql(f"DROP TABLE IF EXISTS {db.quote[0]}{table}{db.quote[1]}")
        finally:
            db.execute_sql(on)


def _records(handle: IO[bytes]) -> Iterator[tuple[str, list[str], Iterator[list]]]:
    """(table, columns, rows) of data.jsonl, streamed; the header line is skipped."""
    lines = iter(handle)
    next(lines)
    pending = next(lines, None)
    while pending is not None:
        head = json.loads(pending)
        if not isinstance(head, dict) or "table" not in head:
            raise BackupError("malformed data.jsonl: a table header was expected")
        state = {"next": None}

        def rows(state=state) -> Iterator[list]:
            for raw in lines:
                value = json.loads(raw)
                if isinstance(value, dict):
                    state["next"] = raw
                    return
                yield value

        yield head["table"], head["columns"], rows()
        pending = state["next"]


def _load(table: str, columns: list[str], rows: Iterator[list]) -> int:
    present = [c.name for c in db.get_columns(table)]
    if sorted(present) != sorted(columns):
        raise BackupError(f"table {table}: the backup's columns {columns} differ from the "
                          f"database's {present}")
    t = Table(table, columns).bind(db)
    fields = [getattr(t, c) for c in columns]
    count, batch, size = 0, [], 0
    for row in rows:
        if len(row) != len(columns):
            raise BackupError(f"table {table}: a row has {len(row)} values, not {len(columns)}")
        batch.append(tuple(decode(v) for v in row))
        size += sum(len(v) for v in batch[-1] if isinstance(v, (str, bytes)))
        if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
            t.insert(batch, columns=fields).execute()
            count, batch, size = count + len(batch), [], 0
    if batch:
        t.insert(batch, columns=fields).execute()
        count += len(batch)
    return count


def restore(path: Path, uploads: Path | None = None, force: bool = False) -> BackupSummary:
    """Restore the backup at ``path`` into the bound database (and ``uploads``).

    Refuses (BackupError) a changed file, a schema this code does not know, and a database
    that holds data or an uploads folder that holds files, unless ``force``, which replaces
    them. Every row is loaded in one transaction, committed only when every table's count
    matches the manifest.
    """
    manifest = verify(path)
    known = migration_names()
    wanted = manifest["migrations"]
    if not wanted or wanted != known[:len(wanted)]:
        raise BackupError("the backup's schema version is not one this code knows: "
                          f"{wanted[-1:] or 'none'} (this code: {known[-1:]})")
    occupied = tables_with_rows()
    has_files = uploads is not None and uploads.is_dir() and any(uploads.iterdir())
    if (occupied or has_files) and not force:
        raise BackupError("the target is not empty (" + ", ".join(
            occupied + (["uploaded files"] if has_files else [])) + "); use --force to replace it")
    if applied_migrations() != wanted:
        _drop_data_tables()  # empty (or forced): rebuild at the backup's schema version
    migrate(target=wanted[-1])
    counts: dict[str, int] = {}
    with tarfile.open(path, "r:gz") as tar, db.connection_context():
        with db.atomic():
            if is_mysql():
                db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
            else:
                db.execute_sql("PRAGMA defer_foreign_keys = ON")
            try:
                for table in _data_tables():
                    Table(table).bind(db).delete().execute()
                for table, columns, rows in _records(member(tar, "data.jsonl")):
                    counts[table] = _load(table, columns, rows)
                for table, expected in manifest["tables"].items():
                    found = Table(table).bind(db).select().count()
                    if found != expected or counts.get(table) != expected:
                        raise BackupError(f"table {table}: {found} rows restored, the backup "
                                          f"has {expected}")
            finally:
                if is_mysql():
                    db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")
    migrate()
    if uploads is not None:
        _restore_files(path, uploads, manifest["files"])
    return BackupSummary(wanted, counts, manifest["files"])


def _restore_files(path: Path, uploads: Path, files: dict[str, dict]) -> None:
    if uploads.exists():
        shutil.rmtree(uploads)
    uploads.mkdir(parents=True)
    root = uploads.resolve()
    with tarfile.open(path, "r:gz") as tar:
        for name, meta in files.items():
            target = (uploads / name).resolve()
            if root not in target.parents:
                raise BackupError(f"refusing a file outside the uploads folder: {name}")
            content = member(tar, f"files/{name}").read()
            if hashlib.sha256(content).hexdigest() != meta["sha256"]:
                raise BackupError(f"checksum mismatch: files/{name} was changed")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
