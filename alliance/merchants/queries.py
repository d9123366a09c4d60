"""Reads of merchants and shops: lookups other domains use, and the consumer detail page.

Other domains contribute sections to the merchant detail (the coupons domain adds the
coupon templates a consumer can claim now) with ``register_detail_section``, at import of
their queries module; this module knows nothing of them.
"""
from __future__ import annotations

from typing import Any, Callable

from alliance.db import Arg, Prepared
from alliance.errors import NotFound
from alliance.merchants.geo import haversine_m
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.views import merchant_summary, shop_view

# (merchant, viewer user id or None) -> the section's JSON value
DetailSection = Callable[[Merchant, "int | None"], Any]
_DETAIL_SECTIONS: dict[str, DetailSection] = {}
# Sections CONTRACT.md promises in every detail: empty until a domain contributes them.
CONTRACT_SECTIONS: dict[str, Callable[[], Any]] = {"coupon_templates": list}


class MerchantNotFound(NotFound):
    code = "MERCHANT_NOT_FOUND"
    message = "商户不存在"


class ShopNotFound(NotFound):
    code = "SHOP_NOT_FOUND"
    message = "门店不存在"


def register_detail_section(name: str, section: DetailSection) -> None:
    """Add ``name`` to every merchant detail, computed by ``section(merchant, viewer_id)``."""
    if name in _DETAIL_SECTIONS and _DETAIL_SECTIONS[name] is not section:
        raise ValueError(f"detail section {name!r} is already registered")
    _DETAIL_SECTIONS[name] = section


# Read by every detail page view: their SQL is built once (alliance.db.Prepared).
_MERCHANT_BY_ID = Prepared(lambda: Merchant.select().where(Merchant.id == Arg(0)).limit(1))
_LISTED_SHOPS = Prepared(lambda: Shop.select()
                         .where(Shop.merchant == Arg(0), Shop.listed == True)  # noqa: E712
                         .order_by(Shop.id))


def get_merchant(merchant_id: int) -> Merchant:
    """The merchant with this id, whatever its status, or MERCHANT_NOT_FOUND."""
    merchant = _MERCHANT_BY_ID.first(merchant_id)
    if merchant is None:
        raise MerchantNotFound(details={"merchant_id": merchant_id})
    return merchant


def get_approved_merchant(merchant_id: int) -> Merchant:
    """The merchant when consumers may see it (approved), or MERCHANT_NOT_FOUND."""
    merchant = get_merchant(merchant_id)
    if merchant.status != "approved":
        raise MerchantNotFound(details={"merchant_id": merchant_id})
    return merchant


def get_shop(shop_id: int, merchant_id: int | None = None) -> Shop:
    """The shop with this id (of ``merchant_id`` when given), or SHOP_NOT_FOUND."""
    query = Shop.select().where(Shop.id == shop_id)
    if merchant_id is not None:
        query = query.where(Shop.merchant == merchant_id)
    shop = query.first()
    if shop is None:
        raise ShopNotFound(details={"shop_id": shop_id})
    return shop


def listed_shops(merchant_id: int) -> list[Shop]:
    """The merchant's shops that consumers see, in creation order."""
    return _LISTED_SHOPS.rows(merchant_id)


def merchant_detail(merchant_id: int, viewer_id: int | None = None,
                    lat: float | None = None, lng: float | None = None) -> dict:
    """An approved merchant for consumers: its shops (nearest first when lat/lng are given)
    and every registered section (``coupon_templates`` ...)."""
    merchant = get_approved_merchant(merchant_id)
    shops = listed_shops(merchant.id)
    if lat is not None and lng is not None:
        placed = sorted(((haversine_m(lat, lng, s.lat, s.lng), s) for s in shops),
                        key=lambda pair: (pair[0], pair[1].id))
        shop_views = [shop_view(shop, distance) for distance, shop in placed]
        nearest = placed[0][0] if placed else None
    else:
        shop_views, nearest = [shop_view(shop) for shop in shops], None
    detail = merchant_summary(merchant, nearest)
    detail["intro"] = merchant.intro
    detail["shops"] = shop_views
    for name, empty in CONTRACT_SECTIONS.items():
        detail[name] = empty()
    for name, section in _DETAIL_SECTIONS.items():
        detail[name] = section(merchant, viewer_id)
    return detail
