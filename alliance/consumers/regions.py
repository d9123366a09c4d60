"""The province an address names, read from its beginning.

Neither orders nor shops store a structured region: an order keeps the delivery address the
buyer typed, a shop its address as the merchant typed it. Chinese addresses start with the
province-level division (``上海市黄浦区…``, ``浙江省杭州市…``), so its first characters name
it; an address that starts lower (``杭州市…``, ``黄浦区…``) or not at all is unknown here.
"""
from __future__ import annotations

UNKNOWN = "未知"

# Every province-level division by its first two characters, which tell them apart.
PROVINCES: dict[str, str] = {name[:2]: name for name in (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省",
    "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省",
    "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省", "台湾省",
    "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区",
    "香港特别行政区", "澳门特别行政区")}
# How many leading characters a query needs to read: a country name, then the province.
PREFIX_LENGTH = 9


def province_of(address: str | None) -> str:
    """The full name of the province ``address`` begins with, or ``未知``."""
    text = (address or "").strip()
    for country in ("中国", "中华人民共和国"):
        if text.startswith(country):
            text = text[len(country):].lstrip()
            break
    return PROVINCES.get(text[:2], UNKNOWN)
