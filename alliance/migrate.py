"""Schema migrations: numbered files in ``migrations/``, applied in order, recorded.

Safe to run twice and on a live database: applied files are skipped, and concurrent runners
queue on a lock (MySQL ``GET_LOCK``; a file lock beside an SQLite database).
"""
from __future__ import annotations

import contextlib
import fcntl
import re
from pathlib import Path

from playhouse.migrations import Runner, template
from playhouse.schema_diff import diff_models

from alliance.db import db, is_mysql

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
LOCK_NAME = "alliance_schema_migration"
# peewee's template flags Python-side callable defaults (utcnow, ...) for manual attention;
# they live in the models, not in the schema, so those notes are dropped.
_CALLABLE_DEFAULT_NOTE = re.compile(
    r"^# \w+: \w+: default <function \w+ at 0x[0-9a-f]+> must be added by hand$")


@contextlib.contextmanager
def _migration_lock():
    if is_mysql():
        got = db.execute_sql("SELECT GET_LOCK(%s, 120)", (LOCK_NAME,)).fetchone()[0]
        if got != 1:
            raise RuntimeError("could not take the migration lock within 120 s")
        try:
            yield
        finally:
            db.execute_sql("SELECT RELEASE_LOCK(%s)", (LOCK_NAME,))
        return
    database = db.obj.database
    if database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(directory: Path = MIGRATIONS_DIR, target: str | None = None) -> list[str]:
    """Apply every pending migration (or those up to ``target``); the names applied."""
    with db.connection_context():
        with _migration_lock():
            return Runner(db.obj, str(directory)).up(target)


def migration_names(directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Every migration this code knows, in order."""
    return [m.name for m in Runner(db.obj, str(directory)).migrations()]


def applied_migrations() -> list[str]:
    """The migrations applied to the database, in order."""
    with db.connection_context():
        return sorted(Runner(db.obj, str(MIGRATIONS_DIR)).applied())


def pending_diff():
    """What the models have that the migrated database lacks (empty when in step)."""
    from alliance.models import ALL_MODELS

    with db.connection_context():
        return diff_models(db.obj, ALL_MODELS)


def make_migration(name: str, directory: Path = MIGRATIONS_DIR) -> str | None:
    """Write the next migration file for the models' changes; its path, or None if none."""
    diff = pending_diff()
    if not diff:
        return None
    body = "\n".join(line for line in template(diff).splitlines()
                     if not _CALLABLE_DEFAULT_NOTE.match(line)) + "\n"
    return Runner(db.obj, str(directory)).create(name, body=body)
