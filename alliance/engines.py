"""The database engines a ``DATABASE_URL`` names (alliance.db binds the domain to one).

``sqlite:///path`` (the embedded default: WAL, busy timeout, ``BEGIN IMMEDIATE``, writers
taking turns) or ``mysql://user:pass@host:3306/name`` (PyMySQL through a connection pool,
utf8mb4).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import select
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlparse, parse_qsl, urlunparse

from peewee import __exception_wrapper__ as _driver_errors
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledMySQLDatabase, PooledSqliteDatabase
from pymysql.constants.CLIENT import FOUND_ROWS, MULTI_STATEMENTS
from pymysql.constants.SERVER_STATUS import SERVER_STATUS_IN_TRANS

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 15000,
                  "synchronous": "normal", "cache_size": -32000}


class WriterBusy(Exception):
    """The writers' turn, asked for at once (``QueuedWriterSqliteDatabase.turn_at_once``),
    is taken: nothing was begun."""


class PipelineSurprise(BaseException):
    """A write sent ahead in a pipeline (``PooledMySQLStatusDatabase.pipelined``) failed or
    matched no row: the work assumed otherwise, so its transaction must be rolled back and
    the work run again without a pipeline. A BaseException, so that no ``except Exception``
    of the work takes it for one of its own failures (``peewee``'s transaction rolls back on
    any exception)."""


class _Pipeline:
    """The statements a thread's pipelined transaction has not sent yet, each with the check
    of its result (None: nothing to check)."""

    __slots__ = ("items",)

    def __init__(self):
        self.items: list[tuple[str, object, object]] = []

    def unbegun(self) -> bool:
        """Whether its BEGIN is still queued: nothing of the transaction was sent."""
        return bool(self.items) and self.items[0][0] == "BEGIN"


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pipes = threading.local()

    # -- pipelines: a transaction's statements sent to the server together -----------------
    # Every statement is a round trip, which costs MariaDB and the server process more CPU
    # than most of our statements' own work (task switches, socket wake-ups, the driver's
    # packets). Inside ``pipelined()`` the transaction's BEGIN and the writes sent with
    # ``send_ahead`` wait for the next statement that needs an answer (a read, a write whose
    # result is used, the COMMIT's ``flush_pipeline``) and go with it as one multi-statement
    # (the connections are opened with MULTI_STATEMENTS; every statement's values are
    # escaped by PyMySQL, as for a single one).

    @contextlib.contextmanager
    def pipelined(self):
        """Pipeline this thread's statements for the enclosed transaction (begun inside)."""
        if getattr(self._pipes, "current", None) is not None:
            raise RuntimeError("pipelines do not nest")
        self._pipes.current = _Pipeline()
        try:
            yield
        finally:
            self._pipes.current = None

    def pipeline(self) -> _Pipeline | None:
        """This thread's pipeline, when its transaction is pipelined."""
        return getattr(self._pipes, "current", None)

    def send_ahead(self, sql: str, params, check) -> None:
        """Queue a statement of the pipelined transaction; ``check(cursor)`` is called with
        its result when it is sent and answers whether it is what the work assumed (False,
        or the statement failing: ``PipelineSurprise``)."""
        self._log_query(sql, params)
        self._pipes.current.items.append((sql, params, check))

    def flush_pipeline(self) -> None:
        """Send what the pipeline holds (before the COMMIT, or before reading a result that a
        queued statement fills in)."""
        pipe = self.pipeline()
        if pipe is None or not pipe.items:
            return
        if len(pipe.items) == 1 and pipe.unbegun():
            pipe.items.clear()  # nothing was written: nothing to begin (the COMMIT is idle)
            return
        self._send(pipe, None, None)

    def begin(self, *args, **kwargs):
        pipe = self.pipeline()
        if pipe is None:
            return super().begin(*args, **kwargs)
        pipe.items.append(("BEGIN", None, None))  # goes with the first statement

    def execute_sql(self, sql, params=None):
        pipe = self.pipeline()
        if pipe is None or not pipe.items:
            return super().execute_sql(sql, params)
        self._log_query(sql, params)
        return self._send(pipe, sql, params)

    def commit(self):
        pipe = self.pipeline()
        if pipe is not None and pipe.items:
            raise RuntimeError("flush_pipeline() before the COMMIT")
        return super().commit()

    def rollback(self):
        pipe = self.pipeline()
        if pipe is not None:
            unbegun = pipe.unbegun()
            pipe.items.clear()
            if unbegun:
                return None  # nothing was sent: nothing to roll back
        return super().rollback()

    def _send(self, pipe: _Pipeline, sql, params):
        """Send the queued statements, and ``sql`` after them (its cursor is returned, at its
        result; its own failure is raised as it would be alone)."""
        items, pipe.items = pipe.items, []
        cursor = self.cursor()
        parts = [text if args is None else cursor.mogrify(text, args or ())
                 for text, args, _ in items]
        if sql is not None:
            parts.append(cursor.mogrify(sql, params or ()))
        index = 0
        try:
            with _driver_errors:
                cursor.execute(";".join(parts))
                for index, (_, _, check) in enumerate(items):
                    if index:
                        cursor.nextset()
                    if check is not None and not check(cursor):
                        self._drain(cursor)
                        raise PipelineSurprise(items[index][0])
                if sql is not None:
                    index = len(items)
                    cursor.nextset()
        except PipelineSurprise:
            raise
        except Exception as exc:
            if index < len(items):
                raise PipelineSurprise(items[index][0]) from exc
            raise  # the statement sent with the queue failed by itself
        return cursor

    @staticmethod
    def _drain(cursor) -> None:
        try:
            while cursor.nextset():
                pass
        except Exception:
            pass  # the server stops at a failed statement: nothing follows it

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
    AT_ONCE_S = 0.002  # turn_at_once: how long "at once" may wait (the event loop waits)

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

    @contextlib.contextmanager
    def turn_at_once(self):
        """Take the writers' turn if it is free (no other thread of the process writing, the
        file lock free) now or within ``AT_ONCE_S``, else raise WriterBusy; hold it across
        the enclosed work, whose transactions begin and end inside it without taking it or
        giving it back. For the event loop, which must not wait for another writer."""
        # "At once" allows the length of another writer's short transaction: most turns are
        # a few statements (an outcome written by the delivery process), and asking again
        # later costs the asker a millisecond or more.
        self._take_turn(self.AT_ONCE_S, pause=0.0001, at_once=True)
        self._turn.reserved = True
        try:
            yield
        finally:
            self._turn.reserved = False
            self._end_turn()

    def _take_turn(self, wait_s: float | None = None, pause: float = 0.0002,
                   at_once: bool = False) -> None:
        """This thread's lock, then the file lock, within ``wait_s`` (``WRITER_WAIT_S``) in
        all. Not had in time: SQLite's busy handler decides, or with ``at_once`` WriterBusy
        (nothing held)."""
        wait_s = self.WRITER_WAIT_S if wait_s is None else wait_s
        deadline = time.monotonic() + wait_s
        if not self._writer.acquire(timeout=wait_s):
            if at_once:
                raise WriterBusy()
            self._turn.held = None  # SQLite's busy handler decides
            return
        try:
            fd = self._lock_file()
            if fd is not None and not self._lock_across_processes(fd, deadline, pause):
                if at_once:
                    raise WriterBusy()
                fd = None  # SQLite's busy handler decides
        except BaseException:
            self._writer.release()
            raise
        self._turn.held = (fd,)

    @staticmethod
    def _lock_across_processes(fd: int, deadline: float, pause: float) -> bool:
        """The file lock, polled (one thread per process does) every few ms at most until
        ``deadline``: a blocking flock could not give up, as SQLite's busy timeout does."""
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

    def _reserved(self) -> bool:
        return getattr(self._turn, "reserved", False)

    def begin(self, lock_type=None):
        if self._reserved():
            super().begin(lock_type)
            return
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
            if not self._reserved():
                self._end_turn()

    def rollback(self):
        try:
            super().rollback()
        finally:
            if not self._reserved():
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
        # MULTI_STATEMENTS: pipelined transactions (every value is escaped by PyMySQL; no
        # SQL is built from input).
        return PooledMySQLStatusDatabase(**parse_url(_mysql_url(url, max_connections),
                                                unquote_password=True),
                                    client_flag=FOUND_ROWS | MULTI_STATEMENTS,
                                    sql_mode="STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION",
                                    init_command="SET time_zone = '+00:00'")
    raise ValueError(f"unsupported DATABASE_URL scheme: {scheme!r}")


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
