"""The money events that statements count, as the sources of the domain report them.

A source is a function ``(since, until) -> Iterable[SettlementEvent]``: the events that
occurred in ``[since, until)`` (UTC). It reports every such event every time it is asked,
already counted or not; the statement that counts one records its key, so that it is counted
once, however often and from however many processes statements are built.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Iterable


@dataclass(frozen=True)
class SettlementEvent:
    """One amount on one merchant's statement.

    ``amount_fen`` is signed from the merchant's side: positive when the platform (or,
    through it, ``counterparty_merchant_id``) owes the merchant, negative when the merchant
    owes. ``(source_type, source_id, merchant_id)`` names the event: an event between two
    merchants is two events, one on each side, with opposite amounts. ``line`` is the
    statement line it adds to (sales, refunds, platform_commission, partner_commission,
    coupon_subsidy, points_subsidy, ...). ``counterparty_merchant_id`` None means the
    platform. ``basis_fen`` is what a rate was applied to, when one was (else 0), and
    ``rate_bp`` that rate in basis points (else None), so that a clerk can recompute it."""

    source_type: str
    source_id: str
    merchant_id: int
    line: str
    amount_fen: int
    occurred_at: dt.datetime
    counterparty_merchant_id: int | None = None
    order_no: str | None = None
    basis_fen: int = 0
    rate_bp: int | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        """What names the event: it is counted once per key."""
        return self.source_type, self.source_id, self.merchant_id


Source = Callable[[dt.datetime, dt.datetime], Iterable[SettlementEvent]]


class EventsWithdrawn(Exception):
    """Raised by a source's ``on_counted`` hook (``alliance.settlement.sources``) when some
    of the events a statement was about to count may no longer be counted (undone since
    they were read): the statement's transaction is rolled back and built again without
    them."""

    def __init__(self, keys: set[tuple[str, str, int]]):
        super().__init__(f"{len(keys)} events withdrawn")
        self.keys = keys
