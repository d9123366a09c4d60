"""Reads of merchants and shops: lookups other domains use, and the consumer detail page.

Other domains contribute sections to the merchant detail (the coupons domain adds the
coupon templates a consumer can claim now) with ``register_detail_section``, at import of
their queries module; this module knows nothing of them.

The detail is the most read page of the product and changes rarely, so what every visitor
sees of it (the public detail) is kept per process (alliance.infra.localcache) for
``ALLIANCE_DETAIL_CACHE_SECONDS``, or until a shop opens or closes or a coupon's claim window
opens or ends if that comes first. Every write that changes it calls
``forget_merchant_detail`` in its transaction: the writing process sees the change at once,
the others within about a second. Only the coupons' ``remaining`` counts may lag (up to the
lifetime; a sell-out is forgotten at once). What depends on the viewer (how many of a coupon
they hold) and on their position (distances, nearest shop first) is computed per view on top.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

from alliance.db import utcnow
from alliance.prepared import Arg, Prepared
from alliance.errors import NotFound
from alliance.infra.localcache import LocalCache
from alliance.merchants.geo import haversine_m
from alliance.merchants.hours import open_changes_by
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.views import merchant_summary, shop_view

DEFAULT_DETAIL_CACHE_S = 60.0

# (merchant, now) -> (what every visitor sees, when it may stop being true or None)
PublicSection = Callable[[Merchant, dt.datetime], "tuple[Any, dt.datetime | None]"]


@dataclass(frozen=True)
class DetailSection:
    public: PublicSection
    personal: Callable[[Any, int], Any] | None  # (public value, viewer id) -> the viewer's


_DETAIL_SECTIONS: dict[str, DetailSection] = {}
# merchant id -> its public detail (JSON-ready, shared: never mutated).
PUBLIC_DETAILS = LocalCache(DEFAULT_DETAIL_CACHE_S, name="merchant_detail", key_type=int)
# Sections CONTRACT.md promises in every detail: empty until a domain contributes them.
CONTRACT_SECTIONS: dict[str, Callable[[], Any]] = {"coupon_templates": list}


class MerchantNotFound(NotFound):
    code = "MERCHANT_NOT_FOUND"
    message = "商户不存在"


class ShopNotFound(NotFound):
    code = "SHOP_NOT_FOUND"
    message = "门店不存在"


def register_detail_section(name: str, public: PublicSection,
                            personal: Callable[[Any, int], Any] | None = None) -> None:
    """Add ``name`` to every merchant detail: ``public(merchant, now)`` is what anonymous
    visitors see, with the time it may stop being true (None: only writes change it, and
    they call ``forget_merchant_detail``); ``personal(public_value, viewer_id)`` (optional)
    what a signed-in viewer sees."""
    section = DetailSection(public, personal)
    if name in _DETAIL_SECTIONS and _DETAIL_SECTIONS[name] != section:
        raise ValueError(f"detail section {name!r} is already registered")
    _DETAIL_SECTIONS[name] = section


def forget_merchant_detail(merchant_id: int | None = None) -> None:
    """The public detail of ``merchant_id`` (None: of every merchant) changes in the current
    transaction: every process drops it once that commits. Call it from every such write."""
    PUBLIC_DETAILS.forget(merchant_id)


# Read by every detail page view: their SQL is built once (alliance.prepared.Prepared).
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
    and every registered section (``coupon_templates`` ...) as ``viewer_id`` sees them."""
    detail = public_detail(merchant_id)
    if viewer_id is not None:
        detail = _personal(detail, viewer_id)
    return _placed(detail, lat, lng)


def cached_merchant_detail(merchant_id: int, lat: float | None, lng: float | None,
                           encode: Callable[[dict], str]) -> str | None:
    """``encode`` of the anonymous ``merchant_detail`` when its public part is cached (no
    database; without a position the encoding is kept with it), or None."""
    detail = PUBLIC_DETAILS.get(merchant_id)
    if detail is None:
        return None
    if lat is None or lng is None:
        return PUBLIC_DETAILS.derived(merchant_id, detail, encode)
    return encode(_placed(detail, lat, lng))


def public_detail(merchant_id: int) -> dict:
    """What every visitor sees of an approved merchant (cached), shops in creation order."""
    detail = PUBLIC_DETAILS.get(merchant_id)
    if detail is not None:
        return detail
    ticket = PUBLIC_DETAILS.ticket()
    now = utcnow()
    merchant = get_approved_merchant(merchant_id)
    detail = merchant_summary(merchant)
    detail["intro"] = merchant.intro
    detail["shops"] = [shop_view(shop, now=now) for shop in listed_shops(merchant.id)]
    # Until the first change of any shop's open_now within the lifetime.
    horizon = now + dt.timedelta(seconds=PUBLIC_DETAILS.ttl_s)
    changes = [open_changes_by(shop["opening_hours"], now, horizon)
               for shop in detail["shops"] if shop["status"] == "open"]
    for name, empty in CONTRACT_SECTIONS.items():
        detail[name] = empty()
    for name, section in _DETAIL_SECTIONS.items():
        detail[name], changes_at = section.public(merchant, now)
        changes.append(changes_at)
    PUBLIC_DETAILS.put(merchant_id, detail, ticket,
                       true_until=min((c for c in changes if c is not None), default=None))
    return detail


def _personal(detail: dict, viewer_id: int) -> dict:
    personal = dict(detail)
    for name, section in _DETAIL_SECTIONS.items():
        if section.personal is not None:
            personal[name] = section.personal(detail[name], viewer_id)
    return personal


def _placed(detail: dict, lat: float | None, lng: float | None) -> dict:
    """``detail`` with each shop's distance from (lat, lng), nearest first."""
    if lat is None or lng is None:
        return detail
    placed = sorted(((haversine_m(lat, lng, shop["lat"], shop["lng"]), shop)
                     for shop in detail["shops"]), key=lambda pair: (pair[0], pair[1]["id"]))
    detail = dict(detail)
    detail["shops"] = [{**shop, "distance_m": int(round(distance))} for distance, shop in placed]
    if placed:
        detail["distance_m"] = int(round(placed[0][0]))
    return detail
