"""Checks of values that reach a service as free-form dicts (partial updates)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from alliance.clock import parse_iso
from alliance.errors import ValidationFailed


# What no name, message or description needs and what harms whoever reads it later: control
# characters (a NUL, a terminal's escape; tab and line breaks are text), the bidirectional
# overrides and isolates that make a name read otherwise than it is written, and lone UTF-16
# surrogates (no database stores them).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                          "\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(value: str) -> bool:
    """Whether ``value`` holds none of the characters that text fields refuse."""
    return _UNPRINTABLE.search(value) is None


def unprintable(field: str, message: str = "请求参数有误") -> ValidationFailed:
    """The refusal of a text field holding control characters."""
    return ValidationFailed(message, details={"field": field, "issue": "control characters"})


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
    if not printable(value):
        raise unprintable(field, f"{field} 含有不允许的控制字符")
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def lone_surrogates(value: Any) -> bool:
    """Whether a parsed JSON ``value`` holds a lone UTF-16 surrogate in any key or string
    (JSON's ``\\ud800`` escape parses to one, and no UTF-8 database can store it), found
    without recursion."""
    level = [value]
    while level:
        found = []
        for node in level:
            if isinstance(node, str):
                if _SURROGATE.search(node):
                    return True
            elif isinstance(node, dict):
                found.extend(node)
                found.extend(node.values())
            elif isinstance(node, list):
                found.extend(node)
        level = found
    return False


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
        if not printable(value):
            raise self.invalid(field, "control characters")
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
