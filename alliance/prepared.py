"""Statements that keep their SQL: built once per dialect, bound per call.

peewee turns a query into SQL on every execution, which for a hot statement costs more than
the database takes to answer it. ``Prepared`` (reads, UPDATEs and DELETEs), ``PreparedIn``
(the same with an ``IN`` list of any length) and ``PreparedInsert`` keep it; ``Arg`` marks
where a call's arguments go. Inside ``alliance.db.pipelined_transaction`` on MySQL, their
writes are queued with the pipeline instead of sent at once.
"""
from __future__ import annotations

from typing import Callable

from peewee import ColumnBase, IntegrityError, Model

from alliance.db import db


def _pipeline():
    """The current thread's pipelined transaction on MySQL (``pipelined_transaction``)."""
    pipeline = getattr(db.obj, "pipeline", None)
    return pipeline() if pipeline is not None else None


class _Arriving(dict):
    """A model's values while some of them (its key, its RETURNING columns) arrive with the
    pipeline: reading one sends the pipeline first."""

    __slots__ = ("names",)

    def __missing__(self, key):
        if key in self.names:
            db.obj.flush_pipeline()
            if key in self:
                return dict.__getitem__(self, key)
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default



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

    def _bind(self, args: tuple):
        dialect = type(db.obj)
        compiled = self._compiled.get(dialect)
        if compiled is None:
            query = self._build()
            compiled = self._compiled[dialect] = (query, *query.sql())
        query, sql, template = compiled
        return query, sql, [p.bind(args) if isinstance(p, _Slot) else p for p in template]

    def _run(self, args: tuple):
        query, sql, params = self._bind(args)
        return query, db.execute_sql(sql, params)

    def _send_ahead(self, args: tuple, check) -> None:
        """Queue the statement in the thread's pipelined transaction (``pipelined_transaction``)."""
        _, sql, params = self._bind(args)
        db.obj.send_ahead(sql, params, check)

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
        """Run a prepared UPDATE or DELETE; the rows it matched (a guarded update's verdict).

        In a pipelined transaction it is sent later and answers 1: matching no row then
        makes the transaction run again plainly (``pipelined_transaction``)."""
        if _pipeline() is not None:
            self._send_ahead(args, _matched)
            return 1
        return self._run(args)[1].rowcount


def _matched(cursor) -> bool:
    return cursor.rowcount >= 1


class PreparedIn:
    """A ``Prepared`` statement with an ``IN`` list of any length: its SQL is kept for each
    length up to ``chunk``, and a longer list runs in chunks of that length.

    ``build(slots)`` gets the list's ``Arg``s (numbered after the ``fixed`` arguments that
    come first in every call):

        SENT_AT = PreparedIn(lambda ids: Message.update(sent_at=Arg(0, Message.sent_at))
                             .where(Message.id.in_(ids)), fixed=1)
        SENT_AT.execute(message_ids, now)
    """

    def __init__(self, build: Callable[[list], object], fixed: int = 0, chunk: int = 32):
        self._build, self._fixed, self._chunk = build, fixed, chunk
        self._by_length: dict[int, Prepared] = {}

    def _chunks(self, values: list, fixed: tuple):
        for at in range(0, len(values), self._chunk):
            part = values[at:at + self._chunk]
            prepared = self._by_length.get(len(part))
            if prepared is None:
                slots = [Arg(self._fixed + k) for k in range(len(part))]
                prepared = self._by_length[len(part)] = Prepared(
                    lambda slots=slots: self._build(slots))
            yield prepared, (*fixed, *part)

    def rows(self, values: list, *fixed) -> list:
        """The rows for the list ``values`` (none for an empty one), chunk after chunk."""
        return [row for prepared, args in self._chunks(values, fixed)
                for row in prepared.rows(*args)]

    def execute(self, values: list, *fixed) -> int:
        """Run the UPDATE or DELETE for the list ``values``; the rows it matched."""
        return sum(prepared.execute(*args) for prepared, args in self._chunks(values, fixed))


class PreparedInsert:
    """``Model.create`` for a hot insert, its SQL built once per dialect.

    Every column but the auto-increment key is written, defaults filled per call as
    ``Model(**values)`` fills them (a default is never frozen into the kept SQL).
    ``computed`` columns take the value of an expression instead, built from ``arg(name)``,
    the argument of another column (a subquery read by the INSERT itself); ``returning``
    names the columns the database hands back (the key among them), set on the instance:

        PreparedInsert(Entry, computed={"total": lambda arg: Account.select(Account.total)
                                        .where(Account.id == arg("account_id"))},
                       returning=("id", "total"))

    SQLite (3.35+) and MariaDB (10.5+) both answer ``INSERT ... RETURNING``.
    """

    def __init__(self, model: type[Model], computed: dict[str, Callable] | None = None,
                 returning: tuple[str, ...] = ()):
        self._model = model
        self._auto = model._meta.auto_increment
        computed = computed or {}
        self._fields = [f for f in model._meta.sorted_fields
                        if not (self._auto and f.primary_key) and f.name not in computed]
        self._returning = [model._meta.fields[name] for name in returning]
        index = {f.name: i for i, f in enumerate(self._fields)}

        def build():
            def arg(name: str) -> Arg:
                return Arg(index[name], model._meta.fields[name])

            values = {f: Arg(i, f) for i, f in enumerate(self._fields)}
            values.update({model._meta.fields[name]: make(arg) for name, make in computed.items()})
            query = model.insert(values)
            return query.returning(*self._returning) if self._returning else query

        self._insert = Prepared(build)

    def create(self, **values) -> Model:
        """Insert one row (IntegrityError as ``create`` raises it); the saved instance."""
        instance = self._model(**values)
        args = tuple(instance.__data__.get(f.name) for f in self._fields)
        if _pipeline() is not None:
            return self._send_ahead(instance, args)
        _, cursor = self._insert._run(args)
        self._take_answer(instance.__data__, cursor)
        instance._dirty.clear()
        return instance

    def _answered(self) -> frozenset[str]:
        """The columns the database answers an insert with: RETURNING's, else the key."""
        if self._returning:
            return frozenset(f.name for f in self._returning)
        return frozenset([self._model._meta.primary_key.name] if self._auto else [])

    def _take_answer(self, data: dict, cursor) -> bool:
        """Set the RETURNING values (or the new key) of the insert at ``cursor``."""
        if self._returning:
            [row] = cursor.fetchall()
            for field, value in zip(self._returning, row):
                data[field.name] = field.python_value(value)
        elif self._auto:
            data[self._model._meta.primary_key.name] = cursor.lastrowid
        return True

    def _send_ahead(self, instance: Model, args: tuple) -> Model:
        """``create`` in a pipelined transaction: the instance now, its key and RETURNING
        values when the pipeline is sent (reading one sends it)."""
        arriving = _Arriving(instance.__data__)
        arriving.names = self._answered()
        instance.__data__ = arriving
        self._insert._send_ahead(args, lambda cursor: self._take_answer(arriving, cursor))
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
