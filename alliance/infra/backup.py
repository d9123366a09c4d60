"""Backup and restore of all data: one consistent, portable, checksummed file.

The file is a gzipped tar holding ``data.jsonl``, the uploaded files under ``files/`` and
``manifest.json``. ``data.jsonl`` starts with a header line (format, the schema version as
the list of applied migrations, the source database); then, for every table of the domain
(``ALL_MODELS`` in foreign-key order; the sandbox's tables are not data), a line
``{"table", "columns"}`` followed by one JSON array per row. Values are JSON, with
datetimes, bytes and decimals tagged (``{"$datetime": "2026-01-02 03:04:05"}``), so a backup
of SQLite restores into MySQL and back unchanged. The manifest holds the row count of every
table, the SHA-256 of ``data.jsonl`` and of every file, and a checksum over itself.

The snapshot is consistent while the server writes: SQLite reads inside one deferred
transaction (WAL: a reader sees the database as of its first read), MySQL inside
``START TRANSACTION WITH CONSISTENT SNAPSHOT`` at REPEATABLE READ.

A restore checks every checksum before it writes anything, refuses a database that holds
data (``force`` replaces it), migrates the database to the backup's schema version, loads
every row in one transaction and compares the counts before committing, then applies the
migrations the backup predates, and writes the files back.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Iterator

from peewee import Table, sort_models

from alliance.db import db, is_mysql, utcnow
from alliance.migrate import applied_migrations, migrate, migration_names

FORMAT = "alliance-backup"
FORMAT_VERSION = 1
MIGRATION_TABLE = "schema_migration"
PAGE_ROWS = 1000
BATCH_ROWS = 200
BATCH_BYTES = 4 * 1024 * 1024


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


@dataclass
class BackupSummary:
    migrations: list[str]
    tables: dict[str, int]
    files: dict[str, dict] = field(default_factory=dict)


def domain_tables() -> list[tuple[str, str]]:
    """(table, primary-key column) of every table of the domain, parents first."""
    from alliance.models import ALL_MODELS

    return [(m._meta.table_name, m._meta.primary_key.column_name)
            for m in sort_models(ALL_MODELS)]


def _is_sandbox(table: str) -> bool:
    return table.startswith("sandbox_")


# -- values -----------------------------------------------------------------------------------

def encode(value):
    """A database value as JSON (tagged where JSON has no type for it)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat(" ")}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    raise BackupError(f"cannot back up a value of type {type(value).__name__}")


def decode(value):
    """The value to write for an encoded one (both databases parse the texts)."""
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    if tag == "$bytes":
        return base64.b64decode(text)
    if tag in ("$datetime", "$date", "$decimal"):
        return text
    raise BackupError(f"unknown value tag {tag!r}")


def _line(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _manifest_checksum(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


# -- backup -----------------------------------------------------------------------------------

@contextlib.contextmanager
def _snapshot():
    """One read transaction that sees the database as of one instant."""
    with db.connection_context(), db.manual_commit():
        if is_mysql():
            db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            db.execute_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        else:
            db.execute_sql("BEGIN DEFERRED")
        try:
            yield
        finally:
            db.execute_sql("ROLLBACK")


def _rows(table: str, pk: str, columns: list[str]) -> Iterator[tuple]:
    """Every row of ``table`` in primary-key order, a page at a time."""
    t = Table(table, columns).bind(db)
    key, last = getattr(t, pk), None
    selected = [getattr(t, c) for c in columns]
    position = columns.index(pk)
    while True:
        query = t.select(*selected).order_by(key).limit(PAGE_ROWS)
        if last is not None:
            query = query.where(key > last)
        page = list(query.tuples())
        yield from page
        if len(page) < PAGE_ROWS:
            return
        last = page[-1][position]


def _dump(out: IO[bytes]) -> tuple[str, list[str], dict[str, int]]:
    """Write data.jsonl from one snapshot; (sha256, migrations, row counts)."""
    digest, counts = hashlib.sha256(), {}

    def emit(obj) -> None:
        line = _line(obj)
        digest.update(line)
        out.write(line)

    with _snapshot():
        existing = set(db.get_tables())
        tables = domain_tables()
        missing = [t for t, _ in tables if t not in existing]
        if MIGRATION_TABLE not in existing or missing:
            raise BackupError("the database is not migrated (python -m server migrate): "
                              "missing " + ", ".join(missing or [MIGRATION_TABLE]))
        migrations = applied_migrations()
        emit({"format": FORMAT, "version": FORMAT_VERSION, "migrations": migrations,
              "database": "mysql" if is_mysql() else "sqlite",
              "created_at": utcnow().isoformat(timespec="seconds") + "Z"})
        for table, pk in tables:
            columns = [c.name for c in db.get_columns(table)]
            emit({"table": table, "columns": columns})
            counts[table] = 0
            for row in _rows(table, pk, columns):
                emit([encode(value) for value in row])
                counts[table] += 1
    return digest.hexdigest(), migrations, counts


def _upload_files(uploads: Path | None) -> list[Path]:
    if uploads is None or not uploads.is_dir():
        return []
    return sorted(p for p in uploads.rglob("*") if p.is_file())


def backup(path: Path, uploads: Path | None = None) -> BackupSummary:
    """Write a backup of every table (and the files under ``uploads``) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryFile() as data:
        data_sha, migrations, counts = _dump(data)
        files: dict[str, dict] = {}
        with tarfile.open(partial, "w:gz") as tar:
            data.seek(0, os.SEEK_END)
            info = tarfile.TarInfo("data.jsonl")
            info.size, info.mtime = data.tell(), int(utcnow().timestamp())
            data.seek(0)
            tar.addfile(info, data)
            for file in _upload_files(uploads):
                content = file.read_bytes()
                name = file.relative_to(uploads).as_posix()
                files[name] = {"size": len(content),
                               "sha256": hashlib.sha256(content).hexdigest()}
                _add_bytes(tar, f"files/{name}", content)
            manifest = {"format": FORMAT, "version": FORMAT_VERSION, "migrations": migrations,
                        "data_sha256": data_sha, "tables": counts, "files": files}
            manifest["checksum"] = _manifest_checksum(manifest)
            _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
    os.replace(partial, path)
    return BackupSummary(migrations, counts, files)


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(content), int(utcnow().timestamp())
    tar.addfile(info, io.BytesIO(content))


# -- verification -----------------------------------------------------------------------------

def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        handle = tar.extractfile(name)
    except KeyError:
        handle = None
    if handle is None:
        raise BackupError(f"not a backup: {name} is missing")
    return handle


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path) -> dict:
    """The manifest of an intact backup; BackupError when anything was changed."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            manifest = json.load(_member(tar, "manifest.json"))
            if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
                raise BackupError("not a backup of this format")
            if manifest.get("checksum") != _manifest_checksum(manifest):
                raise BackupError("checksum mismatch: manifest.json was changed")
            if _sha256(_member(tar, "data.jsonl")) != manifest["data_sha256"]:
                raise BackupError("checksum mismatch: data.jsonl was changed")
            for name, meta in manifest["files"].items():
                if _sha256(_member(tar, f"files/{name}")) != meta["sha256"]:
                    raise BackupError(f"checksum mismatch: files/{name} was changed")
            names = {m.name for m in tar.getmembers()}
            extra = names - {"manifest.json", "data.jsonl"} - {
                f"files/{n}" for n in manifest["files"]}
            if extra:
                raise BackupError("unexpected members: " + ", ".join(sorted(extra)))
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"unreadable backup: {type(exc).__name__}: {exc}") from None
    return manifest


# -- restore ----------------------------------------------------------------------------------

def _data_tables() -> list[str]:
    return [t for t in db.get_tables() if not _is_sandbox(t) and t != MIGRATION_TABLE]


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
                for table, columns, rows in _records(_member(tar, "data.jsonl")):
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
            content = _member(tar, f"files/{name}").read()
            if hashlib.sha256(content).hexdigest() != meta["sha256"]:
                raise BackupError(f"checksum mismatch: files/{name} was changed")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
