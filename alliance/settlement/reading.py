"""Reading a period's rows page by page, so that a source never holds a month of rows (nor
makes the driver buffer them) at once."""
from __future__ import annotations

from typing import Iterator

from peewee import Field, ModelSelect

from alliance.paging import after

PAGE = 2000


def in_pages(query: ModelSelect, order: tuple[Field, ...], size: int = PAGE) -> Iterator:
    """Every row of ``query`` (as named tuples) in the order of ``order`` (ascending, unique
    together: the last is the id), read ``size`` rows at a time by keyset."""
    names = [field.name for field in order]
    keys = None
    while True:
        page = query if keys is None else query.where(after(order, keys, descending=False))
        rows = list(page.order_by(*order).limit(size).namedtuples())
        yield from rows
        if len(rows) < size:
            return
        keys = [getattr(rows[-1], name) for name in names]

