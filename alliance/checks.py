"""Checks of values that reach a service as free-form dicts (partial updates)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from alliance.clock import parse_iso
from alliance.errors import ValidationFailed


def refuse_unknown(body: dict, allowed: frozenset[str] | set[str]) -> None:
    """VALIDATION_FAILED naming the fields of ``body`` that are not ``allowed``: a typo'd
    field is refused, never silently ignored."""
    unknown = set(body) - set(allowed)
    if unknown:
        raise ValidationFailed("包含不支持的字段", details={"fields": sorted(unknown)})


def text(value: Any, field: str, max_length: int, required: bool = False) -> str:
    """``value`` stripped, when it is a string of at most ``max_length`` characters."""
    if not isinstance(value, str) or len(value.strip()) > max_length or (
            required and not value.strip()):
        raise ValidationFailed(f"{field} 须为不超过 {max_length} 字的文字",
                               details={"field": field, "max_length": max_length,
                                        "required": required})
    return value.strip()


def integer(value: Any, field: str, minimum: int, maximum: int,
            nullable: bool = False) -> int | None:
    """``value`` when it is an integer within [minimum, maximum] (or None if ``nullable``)."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValidationFailed(f"{field} 须为 {minimum} 到 {maximum} 之间的整数",
                               details={"field": field, "minimum": minimum, "maximum": maximum})
    return value


def ascii_digits(text: str, max_digits: int) -> bool:
    """Whether ``text`` is 1 to ``max_digits`` ASCII digits, i.e. a number ``int()`` reads
    as written: ``str.isdigit`` also holds for "²" (which ``int()`` refuses) and for other
    scripts' digits (which it reads), and a long enough string exceeds ``int()``'s limit."""
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def nested_within(value: Any, depth: int) -> bool:
    """Whether the lists and objects of a parsed JSON ``value`` nest at most ``depth`` deep
    ({} is 1, [[]] is 2), found without recursion: the value may be deeper than the stack."""
    level = [value] if isinstance(value, (dict, list)) else []
    for _ in range(depth):
        if not level:
            return True
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
    return not level


class BodyFields:
    """The checks of a creating request's fields, whose refusals name the field and the
    issue under one message of the domain's (``活动参数有误``, ``优惠券参数有误``)."""

    def __init__(self, message: str):
        self.message = message

    def invalid(self, field: str, issue: str, message: str | None = None,
                **extra) -> ValidationFailed:
        return ValidationFailed(message or self.message,
                                details={"field": field, "issue": issue, **extra})

    def text(self, body: dict, field: str, max_length: int, required: bool) -> str | None:
        """The field stripped, 1 to ``max_length`` characters; None when absent and not
        ``required``."""
        value = body.get(field)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not 1 <= len(value.strip()) <= max_length:
            raise self.invalid(field, "length", max_length=max_length)
        return value.strip()

    def integer(self, value: Any, field: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.invalid(field, "range", minimum=low, maximum=high)
        return value

    def time(self, body: dict, field: str, required: bool) -> dt.datetime | None:
        """The field as an ISO 8601 time (UTC); None when absent and not ``required``."""
        value = body.get(field)
        if value is None and not required:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            return parse_iso(value)
        except ValueError:
            raise self.invalid(field, "format", "时间格式不正确（ISO 8601）") from None
