"""The settings' structured values, parsed and checked (config.settings reads them)."""
from __future__ import annotations

import ipaddress
import re


class ConfigurationError(Exception):
    """The configuration cannot run; ``missing`` names each absent setting."""

    def __init__(self, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing


_JOB_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


def parse_networks(text: str) -> tuple[str, ...]:
    """``TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.0/8``)."""
    networks = tuple(filter(None, (part.strip() for part in text.split(","))))
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ConfigurationError(
                f"TRUSTED_PROXIES: {network!r} is not an IP address or network") from None
    return networks


def parse_schedules(text: str) -> tuple[tuple[str, str], ...]:
    """``name=SECONDS;name=off;name=cron:M H DOM MON DOW`` as (name, value) pairs."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, value = (s.strip() for s in part.partition("="))
        ok = sep and _JOB_NAME.match(name) and (
            value == "off" or (value.isascii() and value.isdigit() and int(value) > 0)
            or (value.startswith("cron:") and len(value[5:].split()) == 5))
        if not ok:
            raise ConfigurationError(
                f"SCHEDULER_SCHEDULES: {part!r} is not name=SECONDS, name=off or name=cron:M H DOM MON DOW")
        pairs.append((name, value))
    return tuple(pairs)
