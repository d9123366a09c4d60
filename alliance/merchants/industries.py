"""The industries a merchant can belong to (codes are stable; names are shown)."""
from __future__ import annotations

INDUSTRIES: dict[str, str] = {
    "catering": "餐饮美食",
    "retail": "零售百货",
    "beauty_hair": "美容美发",
    "entertainment": "休闲娱乐",
    "education": "教育培训",
    "services": "生活服务",
    "fitness": "运动健身",
    "hotel": "酒店住宿",
    "other": "其他",
}


def industry_name(code: str) -> str:
    return INDUSTRIES.get(code, code)
