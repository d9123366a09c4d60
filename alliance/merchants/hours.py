"""Weekly opening hours: validation and "open now" (in Asia/Shanghai).

Shape: ``{"mon": [["09:00", "14:00"], ["17:00", "22:00"]], ...}``; a missing day is closed;
``"24:00"`` ends at midnight; an interval whose end is before its start runs past midnight
into the next day (``["18:00", "02:00"]``).
"""
from __future__ import annotations

import datetime as dt
import re

from alliance.clock import SHANGHAI
from alliance.errors import ValidationFailed

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
MAX_INTERVALS_PER_DAY = 4


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def validate_hours(value: object, field: str = "opening_hours") -> dict[str, list[list[str]]]:
    """The schedule, normalised, or VALIDATION_FAILED naming the bad day."""
    if not isinstance(value, dict):
        raise ValidationFailed("营业时间格式不正确", details={"field": field, "issue": "object"})
    schedule: dict[str, list[list[str]]] = {}
    for day, intervals in value.items():
        if day not in DAYS:
            raise ValidationFailed("营业时间的星期不正确",
                                   details={"field": field, "day": day, "choices": list(DAYS)})
        if not isinstance(intervals, list) or len(intervals) > MAX_INTERVALS_PER_DAY:
            raise ValidationFailed("营业时间格式不正确", details={"field": field, "day": day})
        clean = []
        for interval in intervals:
            if (not isinstance(interval, list) or len(interval) != 2
                    or not all(isinstance(t, str) and _TIME.match(t) for t in interval)
                    or interval[0] == interval[1] or interval[0] == "24:00"):
                raise ValidationFailed("营业时间格式不正确，应为 [\"HH:MM\", \"HH:MM\"]",
                                       details={"field": field, "day": day})
            clean.append([interval[0], interval[1]])
        if clean:
            schedule[day] = sorted(clean)
    return schedule


def open_changes_by(schedule: dict[str, list[list[str]]], now: dt.datetime,
                    until: dt.datetime) -> dt.datetime | None:
    """The first minute after ``now`` (naive UTC), not after ``until``, at which ``is_open``
    changes, or None (it changes only on whole minutes: minutes are checked one by one, so
    keep the span short)."""
    state = is_open(schedule, now)
    minute = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while minute <= until:
        if is_open(schedule, minute) != state:
            return minute
        minute += dt.timedelta(minutes=1)
    return None


def is_open(schedule: dict[str, list[list[str]]], when_utc: dt.datetime) -> bool:
    """Whether the schedule is open at ``when_utc`` (naive UTC), in Shanghai time."""
    local = when_utc.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
    now = local.hour * 60 + local.minute
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    for start, end in schedule.get(today, []):
        begin, finish = _minutes(start), _minutes(end)
        if begin <= now < finish or (finish < begin and now >= begin):
            return True
    for start, end in schedule.get(yesterday, []):
        begin, finish = _minutes(start), _minutes(end)
        if finish < begin and now < finish:
            return True
    return False
