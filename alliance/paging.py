"""Opaque cursors for keyset pagination: a base64url JSON list of the last row's sort keys."""
from __future__ import annotations

import base64
import json
from typing import Any

from peewee import Field, ModelSelect

from alliance.errors import ValidationFailed


def encode_cursor(*keys) -> str:
    raw = json.dumps(list(keys), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list | None:
    """The keys of ``cursor`` (None for the first page); a bad cursor is a 400."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        keys = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed("分页游标无效", details={"field": "cursor"}) from None
    if not isinstance(keys, list) or not keys:
        raise ValidationFailed("分页游标无效", details={"field": "cursor"})
    return keys


def newest_first(query: ModelSelect, key: Field, cursor: str | None,
                 limit: int) -> tuple[list[Any], str | None]:
    """One page of ``query`` ordered by the integer ``key`` descending, and the next cursor."""
    after = decode_cursor(cursor)
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise ValidationFailed("分页游标无效", details={"field": "cursor"})
        query = query.where(key < after[0])
    rows = list(query.order_by(key.desc()).limit(limit + 1))
    next_cursor = encode_cursor(getattr(rows[limit - 1], key.name)) if len(rows) > limit else None
    return rows[:limit], next_cursor
