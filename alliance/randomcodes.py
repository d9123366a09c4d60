"""Random codes people read out and type: coupon, service, referral and invite codes."""
from __future__ import annotations

import secrets


def random_code(alphabet: str, length: int) -> str:
    """``length`` characters drawn uniformly and independently from ``alphabet``.

    One read of the system's random source for the whole code: ``secrets.choice`` reads it
    once per character, and each read is a system call that lets go of the GIL, which the
    thread must then wait to take back (a payment's service code took eleven). A byte that
    would favour the first characters of an alphabet whose size does not divide 256 is drawn
    again."""
    size = len(alphabet)
    if not 1 < size <= 256:
        raise ValueError(f"an alphabet of {size} characters")
    limit = 256 - 256 % size
    chars: list[str] = []
    while len(chars) < length:
        chars.extend(alphabet[byte % size] for byte in secrets.token_bytes(length - len(chars))
                     if byte < limit)
    return "".join(chars)
