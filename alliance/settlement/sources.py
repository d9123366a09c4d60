"""The registry of the sources statements count.

A source is a function ``(since, until) -> Iterable[SettlementEvent]`` (``events.py``).
Adding one is one line at the bottom of this module::

    register_source("coupon_subsidy", coupon_subsidies.events)

``on_counted(events, now)``, when given, runs inside the transaction of each statement that
counts some of the source's events, with those events (e.g. to mark what they stand for as
settled); it may raise ``EventsWithdrawn`` for events that may no longer be counted, and
the statement is built again without them. Each source's name is unique.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from alliance.cooperation import shares as cooperation_shares
from alliance.orders import funding
from alliance.settlement import order_sources, partner_commission, platform_commission
from alliance.settlement.events import SettlementEvent, Source

OnCounted = Callable[[list[SettlementEvent], dt.datetime], None]


@dataclass(frozen=True)
class RegisteredSource:
    name: str
    events: Source
    on_counted: OnCounted | None = None


_SOURCES: dict[str, RegisteredSource] = {}


def register_source(name: str, events: Source, *, on_counted: OnCounted | None = None) -> None:
    """Make statements count the events of ``events``."""
    if name in _SOURCES:
        raise ValueError(f"settlement source {name!r} is already registered")
    _SOURCES[name] = RegisteredSource(name, events, on_counted)


def registered_sources() -> list[RegisteredSource]:
    """Every source, in the order registered."""
    return list(_SOURCES.values())


register_source("sales", order_sources.sales)
register_source("refunds", order_sources.refunds)
register_source("platform_commission", platform_commission.charges)
register_source("platform_commission_back", platform_commission.give_backs)
register_source("partner_commission", partner_commission.entries,
                on_counted=partner_commission.settle)
register_source("coupon_subsidy", funding.coupon_subsidy_events)
register_source("points_subsidy", funding.points_subsidy_events)
register_source("campaign_subsidy", funding.campaign_subsidy_events)
register_source("cooperation_share", cooperation_shares.events)
