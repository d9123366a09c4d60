"""Coupon codes: ``C`` and 11 random Crockford base32 characters (55 bits), unguessable and
easy to read out or type; the redemption registry normalizes what staff type."""
from __future__ import annotations

import secrets

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
COUPON_PREFIX = "C"
RANDOM_LENGTH = 11


def new_coupon_code() -> str:
    """A fresh random coupon code (unique by the table's index)."""
    return COUPON_PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(RANDOM_LENGTH))
