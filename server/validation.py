"""Small, explicit checks of request fields; each failure names the field."""
from __future__ import annotations

import re
from typing import Any

from alliance.checks import printable
from alliance.errors import ValidationFailed
from alliance.paging import DEFAULT_LIMIT, MAX_LIMIT


_INTEGER = re.compile(r"-?[0-9]{1,18}")


def _fail(field: str, issue: str, message: str = "请求参数有误", **extra) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, "issue": issue, **extra})


def string(body: dict, field: str, *, required: bool = True, max_length: int = 255,
           min_length: int = 1, pattern: str | None = None, default: str | None = None) -> str | None:
    value = body.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _fail(field, "required", f"缺少参数 {field}")
        return default
    if not isinstance(value, str):
        raise _fail(field, "must be a string", f"参数 {field} 必须是字符串")
    value = value.strip()
    if not min_length <= len(value) <= max_length:
        raise _fail(field, "length", f"参数 {field} 长度不合法", min_length=min_length,
                    max_length=max_length)
    if not printable(value):
        raise _fail(field, "control characters", f"参数 {field} 含有不允许的控制字符")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise _fail(field, "format", f"参数 {field} 格式不正确")
    return value


def integer(body: dict, field: str, *, required: bool = True, minimum: int | None = None,
            maximum: int | None = None, default: int | None = None) -> int | None:
    value = body.get(field)
    if value is None:
        if required:
            raise _fail(field, "required", f"缺少参数 {field}")
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, "must be an integer", f"参数 {field} 必须是整数")
    if minimum is not None and value < minimum or maximum is not None and value > maximum:
        raise _fail(field, "range", f"参数 {field} 超出范围", minimum=minimum, maximum=maximum)
    return value


def query_int(raw: str | None, field: str, *, default: int, minimum: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    if not _INTEGER.fullmatch(raw):  # int() also reads "1_000", " 7" and other scripts' digits
        raise _fail(field, "must be an integer", f"参数 {field} 必须是整数")
    value = int(raw)
    if not minimum <= value <= maximum:
        raise _fail(field, "range", f"参数 {field} 超出范围", minimum=minimum, maximum=maximum)
    return value


def one_of(value: Any, field: str, choices: tuple) -> Any:
    if value not in choices:
        raise _fail(field, "choice", f"参数 {field} 取值不合法", choices=list(choices))
    return value


def optional_choice(raw: str | None, field: str, choices: tuple) -> str | None:
    """A list's optional filter (``status``, ...): None when absent, else one of ``choices``."""
    return None if raw is None else one_of(raw, field, choices)


def query_float(raw: str | None, field: str, *, minimum: float, maximum: float) -> float | None:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise _fail(field, "must be a number", f"参数 {field} 必须是数字") from None
    if not minimum <= value <= maximum:  # also refuses nan
        raise _fail(field, "range", f"参数 {field} 超出范围", minimum=minimum, maximum=maximum)
    return value


def page_limit(raw: str | None, default: int | None = DEFAULT_LIMIT) -> int | None:
    """A list's ``limit`` query argument: 1..MAX_LIMIT, ``default`` when absent."""
    if raw in (None, ""):
        return default
    return query_int(raw, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
