"""Money as people read it. Amounts are integer fen everywhere; these only write them."""
from __future__ import annotations


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, exactly (no float): a spreadsheet's column."""
    return f"{'-' if fen < 0 else ''}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def yuan_words(fen: int) -> str:
    """Fen as yuan for a sentence: 35 元, 35.5 元, 35.05 元 (the number only, no float)."""
    whole, cents = divmod(fen, 100)
    return str(whole) if not cents else f"{whole}.{cents:02d}".rstrip("0")
