"""Order numbers and the identifiers derived from them.

``order_no``: Beijing date and time to the second plus 6 random digits (20 characters,
unique index; a collision is retried). An order's trades and refunds are numbered after it,
so they are unique by construction and within every provider's limits (6-32 characters
of ``[0-9A-Za-z]``): ``<order_no>P01``, ``<order_no>R01``.
"""
from __future__ import annotations

import datetime as dt
import secrets

from alliance.clock import SHANGHAI
from alliance.db import utcnow


def new_order_no() -> str:
    now = utcnow().replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
    return now.strftime("%Y%m%d%H%M%S") + f"{secrets.randbelow(10**6):06d}"


def out_trade_no(order_no: str, seq: int) -> str:
    return f"{order_no}P{seq:02d}"


def out_refund_no(order_no: str, seq: int) -> str:
    return f"{order_no}R{seq:02d}"
