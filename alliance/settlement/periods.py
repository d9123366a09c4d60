"""Settlement periods: Asia/Shanghai calendar months, named ``YYYY-MM``."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from alliance.clock import SHANGHAI, to_utc
from alliance.errors import ValidationFailed

_PERIOD = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


class PeriodInvalid(ValidationFailed):
    code = "PERIOD_INVALID"
    message = "结算周期格式不正确，应为 YYYY-MM"


@dataclass(frozen=True)
class Period:
    """A calendar month in Asia/Shanghai: ``[start, end)`` as stored (naive UTC)."""

    name: str
    start: dt.datetime
    end: dt.datetime

    def previous(self) -> "Period":
        local = self.start.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
        last_day = local.date() - dt.timedelta(days=1)
        return period_of(f"{last_day.year:04d}-{last_day.month:02d}")


def period_of(name: object) -> Period:
    """The period named ``YYYY-MM``; PERIOD_INVALID otherwise."""
    match = _PERIOD.fullmatch(name) if isinstance(name, str) else None
    if match is None or not 2000 <= int(match.group(1)) <= 9998:
        raise PeriodInvalid(details={"field": "period", "format": "YYYY-MM"})
    year, month = int(match.group(1)), int(match.group(2))
    start = dt.datetime(year, month, 1, tzinfo=SHANGHAI)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SHANGHAI)
    return Period(name, to_utc(start), to_utc(end))


def period_containing(moment: dt.datetime) -> Period:
    """The period a stored (naive UTC) time falls in."""
    local = moment.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
    return period_of(f"{local.year:04d}-{local.month:02d}")
