"""One database for the whole domain, chosen by a URL.

``sqlite:///path`` (the embedded default: WAL, busy timeout, ``BEGIN IMMEDIATE`` so that
writers queue instead of failing) or ``mysql://user:pass@host:3306/name`` (PyMySQL through a
connection pool, utf8mb4). Services write inside ``transaction()``; callers that serve a
request check the connection out once with ``connection()``.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import select
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse, parse_qsl, urlunparse

from typing import Callable

from peewee import (ColumnBase, DatabaseProxy, DateTimeField, IntegrityError, Model,
                    MySQLDatabase, SqliteDatabase)
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledMySQLDatabase, PooledSqliteDatabase
from pymysql.constants.CLIENT import FOUND_ROWS
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS

db = DatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000,
                  "synchronous": "normal", "cache_size": -32000}


def utcnow() -> dt.datetime:
    """The current time, naive UTC (how every time is stored)."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class UTCDateTimeField(DateTimeField):
    """A naive-UTC datetime column, to the second; aware values are converted to UTC.

    Whole seconds because MySQL's DATETIME keeps no more: SQLite then stores exactly what
    MySQL would, so the two behave alike and a backup moves between them unchanged.
    """

    def db_value(self, value):
        if isinstance(value, dt.datetime):
            if value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            value = value.replace(microsecond=0)
        return super().db_value(value)


class PooledMySQLStatusDatabase(PooledMySQLDatabase):
    """peewee's MySQL pool without a ROLLBACK round trip on every check-in, nor a PING on
    every checkout of a connection used moments ago.

    peewee asks the driver whether a transaction is open through ``in_transaction``, which
    PyMySQL lacks, so it rolls back on every check-in; the server reports that state in the
    status flags of every answer, so roll back only when they say a transaction is open.

    peewee pings every connection it hands out, a round trip made while holding the pool's
    lock (checkouts queue behind it). A connection the server has closed (restart, ``KILL``,
    ``wait_timeout``) has its EOF or error packet waiting on the socket, which a zero-timeout
    poll sees without a round trip; only a connection idle longer than ``PING_AFTER_IDLE_S``
    (when a silently vanished peer becomes likely) is still pinged.
    """

    PING_AFTER_IDLE_S = 30.0

    def _is_closed(self, conn) -> bool:
        sock = getattr(conn, "_sock", None)
        if sock is None:
            return True  # closed by the driver (after an error) or by us
        try:
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            if poller.poll(0):  # EOF or an error packet: the server ended it
                self._close_raw(conn)
                return True
        except (OSError, ValueError):
            return True
        idle_since = getattr(conn, "_alliance_idle_since", None)
        if idle_since is None or time.monotonic() - idle_since > self.PING_AFTER_IDLE_S:
            return super()._is_closed(conn)
        return False

    def _can_reuse(self, conn) -> bool:
        conn._alliance_idle_since = time.monotonic()  # checked in: idle from now
        status = getattr(conn, "server_status", None)
        if status is not None and not status & SERVER_STATUS_IN_TRANS:
            return True
        return super()._can_reuse(conn)


class QueuedWriterSqliteDatabase(PooledSqliteDatabase):
    """SQLite whose write transactions queue for the write lock instead of polling for it.

    Every transaction begins ``IMMEDIATE`` (it takes SQLite's write lock at once), and a
    connection that finds the lock taken is left to SQLite's busy handler, which sleeps
    1, 2, 5 ... up to 100 ms between tries: under a burst of writes the lock sits free while
    the waiters sleep, and a write of 3 ms waits tens of them. Here a transaction first
    takes this process's writer lock, then an exclusive ``flock`` on ``<database>.writer-lock``
    (shared by every process on the file; polled every 1 ms at most, by one thread per
    process), so the threads of a process wait in the lock's queue and the next one starts
    as the previous commits, and processes take turns within a few ms. Both are released by
    the COMMIT or ROLLBACK, before peewee runs the after-commit callbacks. SQLite's own
    locking stays what guarantees isolation: a writer that waited ``WRITER_WAIT_S`` without
    getting the queue's turn goes on to SQLite's busy handler as before.
    """

    WRITER_WAIT_S = 15.0

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._writer = threading.Lock()
        self._turn = threading.local()  # what this thread holds: (thread lock, file lock)
        self._lock_path = (None if database in ("", ":memory:") or str(database).startswith("file:")
                           else f"{database}.writer-lock")
        self._lock_fd: int | None = None
        self._lock_pid: int | None = None

    def _lock_file(self) -> int | None:
        if self._lock_path is None:
            return None
        if self._lock_pid != os.getpid():  # a forked process opens its own (flock is per open file)
            try:
                self._lock_fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC,
                                        0o600)
            except OSError:  # e.g. a read-only directory: the threads of a process still queue
                self._lock_path = self._lock_fd = None
            self._lock_pid = os.getpid()
        return self._lock_fd

    def _take_turn(self) -> None:
        deadline = time.monotonic() + self.WRITER_WAIT_S
        if not self._writer.acquire(timeout=self.WRITER_WAIT_S):
            self._turn.held = None  # SQLite's busy handler decides
            return
        try:
            fd = self._lock_file()
            if fd is not None and not self._lock_across_processes(fd, deadline):
                fd = None  # SQLite's busy handler decides
        except BaseException:
            self._writer.release()
            raise
        self._turn.held = (fd,)

    @staticmethod
    def _lock_across_processes(fd: int, deadline: float) -> bool:
        """The file lock, polled (one thread per process does) every few ms at most until
        ``deadline``: a blocking flock could not give up, as SQLite's busy timeout does."""
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _end_turn(self) -> None:
        held = getattr(self._turn, "held", None)
        if not held:
            return
        self._turn.held = None
        (fd,) = held
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._writer.release()

    def begin(self, lock_type=None):
        self._take_turn()
        try:
            super().begin(lock_type)
        except BaseException:
            self._end_turn()
            raise

    def commit(self):
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._end_turn()


def _mysql_url(url: str, max_connections: int) -> str:
    parsed = urlparse(url)
    query = dict(parse_qsl(parsed.query))
    query.setdefault("max_connections", str(max_connections))
    query.setdefault("stale_timeout", "300")
    query.setdefault("timeout", "10")
    query.setdefault("charset", "utf8mb4")
    return urlunparse(parsed._replace(scheme="mysql+pool", query=urlencode(query)))


def make_database(url: str, max_connections: int = 16):
    """A peewee Database for ``url`` (not yet connected)."""
    scheme = urlparse(url).scheme
    if scheme in ("sqlite", "sqlite+pool"):
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return QueuedWriterSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                                          max_connections=max_connections * 2,
                                          stale_timeout=600, check_same_thread=False,
                                          timeout=15)
    if scheme in ("mysql", "mysql+pool"):
        # FOUND_ROWS: an UPDATE reports the rows it matched, as SQLite does, not only those
        # whose values changed, so guarded updates read the same on both databases.
        return PooledMySQLStatusDatabase(**parse_url(_mysql_url(url, max_connections),
                                                unquote_password=True),
                                    client_flag=FOUND_ROWS,
                                    sql_mode="STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
                                    init_command="SET time_zone = '+00:00'")
    raise ValueError(f"unsupported DATABASE_URL scheme: {scheme!r}")


def init_db(url: str, max_connections: int = 16):
    """Bind the domain's models to the database at ``url`` and return it."""
    database = make_database(url, max_connections)
    previous = db.obj
    db.initialize(database)
    if previous is not None and hasattr(previous, "close_all"):
        previous.close_all()
    return database


def recreate_mysql_database(url: str) -> None:
    """Drop the MySQL database named by ``url`` and create it empty (utf8mb4); tests, bench."""
    import pymysql

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    conn = pymysql.connect(host=parsed.hostname, port=parsed.port or 3306,
                           user=parsed.username, password=parsed.password or "")
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                        "COLLATE utf8mb4_unicode_ci")
    finally:
        conn.close()


def is_mysql() -> bool:
    return isinstance(db.obj, MySQLDatabase)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


@contextlib.contextmanager
def connection():
    """Hold one connection for the enclosed work (nests; closes with the outermost)."""
    with db.connection_context():
        yield


@contextlib.contextmanager
def transaction():
    """One atomic unit of work on a held (or newly opened) connection."""
    with db.connection_context():
        with db.atomic():
            yield


@contextlib.contextmanager
def joined_transaction():
    """The caller's transaction when one is open, without a savepoint; else a new one.

    For work whose failure must fail the caller's work too (the exception propagates and the
    caller's transaction rolls back): a savepoint would cost two more statements for nothing.
    """
    with db.connection_context():
        if db.in_transaction():
            yield
        else:
            with db.atomic():
                yield


class _Slot:
    """Where argument ``index`` goes among a compiled statement's parameters."""

    __slots__ = ("index", "convert")

    def __init__(self, index: int, convert):
        self.index, self.convert = index, convert

    def bind(self, args: tuple):
        value = args[self.index]
        return self.convert(value) if self.convert else value


class Arg(ColumnBase):
    """The ``index``-th argument of a ``Prepared`` query, converted as its column converts.

    In a comparison the column is the other side's; a value written by an UPDATE names its
    column (``Arg(1, CouponTemplate.updated_at)``), since peewee converts only literal values
    there.
    """

    def __init__(self, index: int, field=None):
        super().__init__()
        self.index, self.field = index, field

    def __sql__(self, ctx):
        convert = self.field.db_value if self.field is not None else ctx.state.converter
        return ctx.value(_Slot(self.index, convert), converter=False)


class Prepared:
    """A statement of fixed shape whose SQL is built once per dialect instead of on every call.

    peewee turns a query into SQL on every execution, and for a primary-key lookup that costs
    several times what SQLite or MariaDB take to answer it (about 100 us against 10 us here;
    a join of two wide tables costs more). Hot per-request reads therefore keep their SQL:

        USER_BY_ID = Prepared(lambda: User.select().where(User.id == Arg(0)).limit(1))
        user = USER_BY_ID.first(user_id)

    Rows come back as iterating the query would give them (model instances with the models
    they join, or tuples, dicts: whatever the query asks for). A hot guarded UPDATE keeps its
    SQL the same way and ``execute`` returns the rows it matched.
    """

    def __init__(self, build: Callable[[], object]):
        self._build = build
        self._compiled: dict[type, tuple] = {}

    def _run(self, args: tuple):
        dialect = type(db.obj)
        compiled = self._compiled.get(dialect)
        if compiled is None:
            query = self._build()
            compiled = self._compiled[dialect] = (query, *query.sql())
        query, sql, template = compiled
        params = [p.bind(args) if isinstance(p, _Slot) else p for p in template]
        return query, db.execute_sql(sql, params)

    def rows(self, *args) -> list:
        """The rows for ``args`` on the bound database."""
        query, cursor = self._run(args)
        # The query object only decodes the rows (peewee's own row reader for its shape).
        return list(query._get_cursor_wrapper(cursor))

    def raw_rows(self, *args) -> list[tuple]:
        """The rows for ``args`` as the driver returns them, unconverted: for bulk reads of
        numbers and text, where peewee's per-value conversion costs more than the read."""
        return list(self._run(args)[1].fetchall())

    def first(self, *args):
        """The first row for ``args``, or None."""
        rows = self.rows(*args)
        return rows[0] if rows else None

    def execute(self, *args) -> int:
        """Run a prepared UPDATE or DELETE; the rows it matched (a guarded update's verdict)."""
        return self._run(args)[1].rowcount


class PreparedInsert:
    """``Model.create`` for a hot insert, its SQL built once per dialect.

    Every column but the auto-increment key is written, defaults filled per call as
    ``Model(**values)`` fills them (a default is never frozen into the kept SQL).
    """

    def __init__(self, model: type[Model]):
        self._model = model
        self._auto = model._meta.auto_increment
        self._fields = [f for f in model._meta.sorted_fields
                        if not (self._auto and f.primary_key)]
        self._insert = Prepared(lambda: model.insert(
            {f: Arg(i, f) for i, f in enumerate(self._fields)}))

    def create(self, **values) -> Model:
        """Insert one row (IntegrityError as ``create`` raises it); the saved instance."""
        instance = self._model(**values)
        data = instance.__data__
        _, cursor = self._insert._run(tuple(data.get(f.name) for f in self._fields))
        if self._auto:
            instance._pk = cursor.lastrowid
        instance._dirty.clear()
        return instance

    def create_or_none(self, **values) -> Model | None:
        """Insert one row that a unique index may refuse; None when it does.

        No savepoint is needed around it: on SQLite and on MySQL a refused INSERT undoes
        only itself and the transaction goes on (a savepoint would cost two more statements).
        """
        try:
            return self.create(**values)
        except IntegrityError:
            return None


def after_commit(fn) -> None:
    """Run ``fn`` once the current transaction commits (at once outside a transaction)."""
    db.after_commit(fn)


__all__ = ["db", "BaseModel", "UTCDateTimeField", "IntegrityError", "init_db", "make_database",
           "recreate_mysql_database", "Arg", "Prepared", "PreparedInsert", "connection",
           "transaction", "joined_transaction", "after_commit", "utcnow", "is_mysql", "is_sqlite"]
