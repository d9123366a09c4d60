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

Restoring is ``alliance.infra.restore``.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Callable, Iterator

from peewee import Table, sort_models

from alliance.db import db, is_mysql, utcnow
from alliance.migrate import applied_migrations

FORMAT = "alliance-backup"
FORMAT_VERSION = 1
MIGRATION_TABLE = "schema_migration"
PAGE_ROWS = 1000


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


Progress = Callable[[int, int], None]


def _dump(out: IO[bytes], progress: Progress | None = None
          ) -> tuple[str, list[str], dict[str, int]]:
    """Write data.jsonl from one snapshot; (sha256, migrations, row counts). ``progress``
    hears (tables written, tables) after each table."""
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
        for done, (table, pk) in enumerate(tables, 1):
            columns = [c.name for c in db.get_columns(table)]
            emit({"table": table, "columns": columns})
            counts[table] = 0
            for row in _rows(table, pk, columns):
                emit([encode(value) for value in row])
                counts[table] += 1
            if progress is not None:
                progress(done, len(tables))
    return digest.hexdigest(), migrations, counts


def _upload_files(uploads: Path | None) -> list[Path]:
    if uploads is None or not uploads.is_dir():
        return []
    return sorted(p for p in uploads.rglob("*") if p.is_file())


def backup(path: Path, uploads: Path | None = None,
           progress: Progress | None = None) -> BackupSummary:
    """Write a backup of every table (and the files under ``uploads``) to ``path``;
    ``progress`` hears (tables written, tables) as the tables are read."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryFile() as data:
        data_sha, migrations, counts = _dump(data, progress)
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

def member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
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
            manifest = json.load(member(tar, "manifest.json"))
            if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
                raise BackupError("not a backup of this format")
            if manifest.get("checksum") != _manifest_checksum(manifest):
                raise BackupError("checksum mismatch: manifest.json was changed")
            if _sha256(member(tar, "data.jsonl")) != manifest["data_sha256"]:
                raise BackupError("checksum mismatch: data.jsonl was changed")
            for name, meta in manifest["files"].items():
                if _sha256(member(tar, f"files/{name}")) != meta["sha256"]:
                    raise BackupError(f"checksum mismatch: files/{name} was changed")
            names = {m.name for m in tar.getmembers()}
            extra = names - {"manifest.json", "data.jsonl"} - {
                f"files/{n}" for n in manifest["files"]}
            if extra:
                raise BackupError("unexpected members: " + ", ".join(sorted(extra)))
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"unreadable backup: {type(exc).__name__}: {exc}") from None
    return manifest
