"""What points are worth: earning per yuan spent, paying with them, and the share of an
order they may pay. Orders and counters compute with these; the ledger is services.py."""
from __future__ import annotations

FEN_PER_POINT = 1  # 100 points pay 1 yuan
POINTS_PER_YUAN = 1  # earned per whole yuan spent, before the member's multiplier
MAX_PAY_SHARE_PERCENT = 50  # points pay at most this share of an order's amount


def points_earned_for(amount_fen: int, multiplier_pct: int = 100, extra_pct: int = 100) -> int:
    """Points a purchase of ``amount_fen`` earns with a multiplier (100 = 1x) and an extra
    one on top (a member day's: the two multiply), rounded down once, at the end."""
    return max(0, amount_fen) // 100 * POINTS_PER_YUAN * multiplier_pct * extra_pct // 10_000


def points_value_fen(points: int) -> int:
    """What ``points`` pay, in fen."""
    return points * FEN_PER_POINT


def max_points_for(amount_fen: int) -> int:
    """The most points an order of ``amount_fen`` (after coupons) may be paid with."""
    return max(0, amount_fen) * MAX_PAY_SHARE_PERCENT // 100 // FEN_PER_POINT
