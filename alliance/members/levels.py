"""Platform membership levels: reached by growth value, the points a member has ever earned
at any alliance merchant (``PointsAccount.lifetime_earned``; spending does not lower it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformLevel:
    level: int
    name: str
    min_growth: int


PLATFORM_LEVELS = (
    PlatformLevel(0, "普通会员", 0),
    PlatformLevel(1, "银卡会员", 1_000),
    PlatformLevel(2, "金卡会员", 5_000),
    PlatformLevel(3, "钻石会员", 20_000),
)


def platform_level(growth: int) -> dict:
    """The level a growth value reaches, and the growth the next level needs (None at top)."""
    reached = [lvl for lvl in PLATFORM_LEVELS if growth >= lvl.min_growth][-1]
    above = [lvl for lvl in PLATFORM_LEVELS if lvl.min_growth > growth]
    return {"level": reached.level, "name": reached.name, "growth": growth,
            "next_level_growth": above[0].min_growth if above else None}
