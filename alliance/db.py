"""One database for the whole domain, chosen by a URL (the engines: alliance.engines).

Services write inside ``transaction()``; callers that serve a request check the connection
out once with ``connection()``. Hot statements keep their SQL (``alliance.prepared``).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
from typing import Callable

from peewee import (JOIN, SQL, DatabaseProxy, DateTimeField, IntegrityError, Model,
                    MySQLDatabase, Node, NodeList, SqliteDatabase, fn)

from alliance.engines import (PipelineSurprise, PooledMySQLStatusDatabase,
                              QueuedWriterSqliteDatabase, WriterBusy, make_database)

db = DatabaseProxy()

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


def init_db(url: str, max_connections: int = 16):
    """Bind the domain's models to the database at ``url`` and return it."""
    from alliance.infra.localcache import clear_all  # (it imports this module)

    database = make_database(url, max_connections)
    previous = db.obj
    db.initialize(database)
    if previous is not None and hasattr(previous, "close_all"):
        previous.close_all()
    clear_all()  # what the caches read came from the previous database
    return database


def is_mysql() -> bool:
    return isinstance(db.obj, MySQLDatabase)


def is_sqlite() -> bool:
    return isinstance(db.obj, SqliteDatabase)


class _ForcedIndex(Node):
    """A model's table in a FROM clause with MySQL's ``FORCE INDEX (name)``."""

    def __init__(self, model: type[Model], index: str):
        self.model, self.index = model, index

    def __sql__(self, ctx):
        return ctx.sql(self.model).literal(f" FORCE INDEX (`{self.index}`)")


def walk_index(query, model: type[Model], index: str):
    """``query`` (of ``model``, before its joins) reading ``model`` through ``index`` on
    MySQL. MariaDB, given ``status = ? AND key < ?`` and ORDER BY the index's next columns
    with a join, reads the index by ``status`` alone and filters the rest (a deep page of
    the goods search scanned 50k rows, 120 ms) where the forced index makes it a range
    (0.3 ms); SQLite finds the range itself."""
    return query.from_(_ForcedIndex(model, index)) if is_mysql() else query


def join_as_written() -> str:
    """The join type that reads the joined table after the one before it, never first:
    SQLite's CROSS JOIN (its planner keeps the order) or MySQL's STRAIGHT_JOIN. For a walk
    of the first table's index, which planners otherwise trade for reading the other table
    first and sorting; the join's condition goes in WHERE (peewee takes no ON for it)."""
    return JOIN.CROSS if is_sqlite() else "STRAIGHT_JOIN"


def per_shanghai_day(query, at, *aggregates) -> list[tuple]:
    """``aggregates`` over ``query``'s rows grouped by the Asia/Shanghai day of the stored
    UTC time ``at`` (China keeps UTC+8 all year), computed in the database so that a
    period's rows are not read one by one: (``YYYY-MM-DD``, *values) per day with rows."""
    # coerce(False): peewee would read the result through the column's datetime converter
    if is_mysql():
        day = fn.DATE(NodeList((at, SQL("+ INTERVAL 8 HOUR")))).coerce(False)
    else:
        day = fn.date(at, "+8 hours").coerce(False)
    return [(_date_text(value), *rest)
            for value, *rest in query.select(day, *aggregates).group_by(day).tuples()]


def _date_text(value) -> str:
    """'YYYY-MM-DD' of a grouped day (MySQL answers a date, SQLite text)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)


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


def pipelined_transaction(work: Callable[[], object]):
    """``work()`` in one transaction, its writes sent to MySQL together; its result.

    On MySQL, inside the work, the BEGIN and every ``Prepared.execute`` and
    ``PreparedInsert.create``/``create_or_none`` are not sent at once: each is assumed to do
    what it does when all goes well (an UPDATE or DELETE matches at least one row and
    answers 1; an INSERT succeeds, its key and RETURNING values arriving when first read),
    and they go to the server in one round trip with the next statement that must be
    answered (any read, any other statement, the COMMIT). When one of them turns out
    otherwise (it matched no row, a unique index refused it, it deadlocked), the
    transaction is rolled back and ``work()`` runs again as a plain transaction, where the
    same calls answer what they find: so the work must be safe to run twice (it reads what
    it needs again; what it registers with ``after_commit`` goes with the rollback). Within
    a transaction already open, and on SQLite (no round trips), it is ``transaction()``.
    """
    database = db.obj
    if not isinstance(database, PooledMySQLStatusDatabase) or db.in_transaction():
        with transaction():
            return work()
    with db.connection_context():
        try:
            with database.pipelined(), db.atomic():
                result = work()
                database.flush_pipeline()
            return result
        except PipelineSurprise:
            pass  # rolled back with the transaction: run it plainly
        with db.atomic():
            return work()



@contextlib.contextmanager
def single_write():
    """For one write statement, atomic by itself (a guarded UPDATE, an INSERT).

    MySQL runs it in autocommit, without the BEGIN and COMMIT round trips of a transaction;
    SQLite runs it in a transaction (the caller's, when one is open), which takes the
    writers' turn: a bare write would wait in SQLite's busy handler instead.
    """
    if is_sqlite():
        with joined_transaction():
            yield
    else:
        with db.connection_context():
            yield




_at_once = threading.local()  # writes_at_once's hand-off for after-commit work


def can_write_at_once() -> bool:
    """Whether the bound database can begin a write without waiting (SQLite's writers'
    turn, taken only when free: ``writes_at_once``)."""
    return isinstance(db.obj, QueuedWriterSqliteDatabase)


@contextlib.contextmanager
def writes_at_once(offload: Callable[[Callable[[], None]], None]):
    """For the event loop, on SQLite (``can_write_at_once``): take the writers' turn now,
    or raise WriterBusy when it is taken, and hold it (with a connection) for the enclosed
    work, whose transactions then never wait; after-commit work that may block
    (``after_commit`` without ``quick``) is handed to ``offload`` instead of running here."""
    with db.obj.turn_at_once(), connection():
        previous = getattr(_at_once, "offload", None)
        _at_once.offload = offload
        try:
            yield
        finally:
            _at_once.offload = previous


def after_commit(fn, *, quick: bool = False) -> None:
    """Run ``fn`` once the current transaction commits (at once outside a transaction).

    ``quick``: ``fn`` never blocks (memory, a non-blocking pipe): it may run on the event
    loop when the transaction did (``writes_at_once``); other work goes to a worker then."""
    offload = getattr(_at_once, "offload", None)
    if offload is not None and not quick:
        db.after_commit(lambda: offload(fn))
    else:
        db.after_commit(fn)


__all__ = ["db", "BaseModel", "UTCDateTimeField", "IntegrityError", "init_db", "connection",
           "transaction", "joined_transaction", "pipelined_transaction", "single_write", "after_commit", "utcnow", "is_mysql", "is_sqlite",
           "WriterBusy", "can_write_at_once", "writes_at_once", "per_shanghai_day"]
