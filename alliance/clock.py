"""Time: stored as naive UTC, shown in Asia/Shanghai with its offset."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from alliance.db import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def to_local_iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 in Asia/Shanghai with offset, from a stored naive-UTC datetime."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(SHANGHAI).isoformat(timespec="seconds")


def to_utc(value: dt.datetime) -> dt.datetime:
    """An aware datetime as stored (naive UTC); ValueError when it lies beyond the calendar
    in UTC (0001-01-01T00:00+08:00 begins before it)."""
    try:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} lies outside the calendar in UTC") from None


def parse_iso(text: str) -> dt.datetime:
    """A naive-UTC datetime from ISO 8601 text (no offset means Asia/Shanghai); ValueError
    when it is not one, or lies beyond the calendar in UTC or in Asia/Shanghai (where it is
    shown: 9999-12-31T23:00+00:00 is already year 10000 there)."""
    value = dt.datetime.fromisoformat(text)
    stored = to_utc(value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI))
    try:
        to_local_iso(stored)
    except OverflowError:
        raise ValueError(f"{text} lies outside the calendar in Asia/Shanghai") from None
    return stored


__all__ = ["utcnow", "to_local_iso", "to_utc", "parse_iso", "SHANGHAI"]
