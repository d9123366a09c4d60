"""Keyset (cursor) pagination: opaque cursors that carry the sort key of the last row."""
from __future__ import annotations

import base64
import json
from typing import Any, Callable, Sequence

from peewee import Expression, Field

from alliance.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class InvalidCursor(ValidationFailed):
    code = "INVALID_CURSOR"
    message = "分页游标无效，请从第一页重新加载"


def encode_cursor(values: Sequence[Any]) -> str:
    """An opaque cursor for the sort-key ``values`` of the last row of a page."""
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, types: Sequence[type]) -> list | None:
    """The sort-key values of ``cursor`` checked against ``types`` (None: first page)."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor(details={"field": "cursor"}) from None
    if not isinstance(values, list) or len(values) != len(types):
        raise InvalidCursor(details={"field": "cursor"})
    for value, kind in zip(values, types):
        ok = (isinstance(value, (int, float)) and not isinstance(value, bool)
              if kind is float else isinstance(value, kind) and not isinstance(value, bool))
        if not ok and not (value is None and kind is type(None)):
            raise InvalidCursor(details={"field": "cursor"})
    return values


def after(fields: Sequence[Field], values: Sequence[Any], descending: bool) -> Expression:
    """The rows strictly after ``values`` in the order ``fields`` (all asc or all desc)."""
    first, *rest = fields
    head, *tail = values
    beyond = first < head if descending else first > head
    if not rest:
        return beyond
    return beyond | ((first == head) & after(rest, tail, descending))


def page(rows: list, limit: int, key: Callable[[Any], Sequence[Any]]) -> tuple[list, str | None]:
    """Split ``limit + 1`` fetched rows into the page and the cursor of the next one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(key(rows[-1]))
