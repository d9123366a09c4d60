"""Coupon codes: ``C`` and 11 random Crockford base32 characters (55 bits), unguessable and
easy to read out or type; the redemption registry normalizes what staff type."""
from __future__ import annotations

from alliance.randomcodes import random_code

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
COUPON_PREFIX = "C"
RANDOM_LENGTH = 11


def new_coupon_code() -> str:
    """A fresh random coupon code (unique by the table's index)."""
    return COUPON_PREFIX + random_code(CROCKFORD, RANDOM_LENGTH)
