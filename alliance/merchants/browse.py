"""The consumer merchant list: by industry, name, popularity, or nearest first.

Nearest first looks for listed shops inside a bounding box around the consumer, computes the
exact (haversine) distance and keeps each merchant's nearest shop. Without a name to match it
reads the box from the process's index of listed shops (alliance.merchants.geoindex); a name
search reads it through the (listed, lat_band, lng, lat, merchant) database index (one short
longitude range per latitude band of the box) joined to the merchants. The box starts at the
radius recent searches needed and grows by the density it sees until it holds a full page
beyond the cursor, up to ``MAX_RADIUS_M``: merchants farther away than that are not "nearby"
and are left out of the distance order (the popular order lists them). The cursor is
(distance, merchant id) of the last row, so pages never overlap or skip.

A page's items (what ``merchant_summary`` shows of a merchant and of the chosen shop) come
with the index (``GEO_INDEX.list_item``), exact through the same forgets as the shops
(``forget_merchant_detail``); only their rating and popularity may lag, by up to ten times
the merchant details' lifetime (``ALLIANCE_DETAIL_CACHE_SECONDS``). Every process answers a
nearest-first search without a name from memory alone from its first search on
(``cached_list_page``), and needs the database only to bring the index up to date.
"""
from __future__ import annotations

import functools
import math

from alliance.errors import ValidationFailed
from alliance.merchants.geo import bounding_box, haversine_m, lat_bands
from alliance.merchants.geoindex import GEO_INDEX
from alliance.merchants.industries import INDUSTRIES
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.views import SUMMARY_COLUMNS, merchant_summary
from alliance.paging import after, decode_keys, keyset_page
from alliance.prepared import Arg, Prepared

SORTS = ("distance", "popular")
FIRST_RADIUS_M = 300.0
MAX_RADIUS_M = 100_000.0
# Per process, per industry: the radius the last first page needed, where the next search
# starts (the density of shops differs by data set and industry). A hint only: any start
# gives the same answer, a good one saves growing the box step by step.
_radius_hints: dict[str, float] = {}


def list_merchants(*, industry: str | None = None, lat: float | None = None,
                   lng: float | None = None, q: str | None = None, sort: str | None = None,
                   cursor: str | None = None, limit: int = 20) -> dict:
    """A page of approved merchants; ``distance_m`` on each when lat/lng are given.

    ``sort`` defaults to ``distance`` with a position and ``popular`` without one.
    """
    sort = _checked_sort(industry, lat, lng, sort)
    if sort == "distance":
        return _nearest_page(lat, lng, industry, q, cursor, limit)
    return _popular_page(industry, q, cursor, limit,
                         (lat, lng) if lat is not None and lng is not None else None)


def cached_list_page(*, industry: str | None = None, lat: float | None = None,
                     lng: float | None = None, q: str | None = None, sort: str | None = None,
                     cursor: str | None = None, limit: int = 20) -> dict | None:
    """``list_merchants`` when the process can answer it from memory alone (nearest first
    without a name, the shops' index up to date), else None.
    Bad arguments raise as ``list_merchants`` raises them."""
    if _checked_sort(industry, lat, lng, sort) != "distance" or q:
        return None
    return _nearest_page(lat, lng, industry, None, cursor, limit, memory_only=True)


def _checked_sort(industry: str | None, lat: float | None, lng: float | None,
                  sort: str | None) -> str:
    """The sort the arguments ask for, once they are valid."""
    located = lat is not None and lng is not None
    if (lat is None) != (lng is None):
        raise ValidationFailed("经纬度需同时提供", details={"field": "lat" if lat is None else "lng"})
    if located and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValidationFailed("经纬度超出范围", details={"field": "lat", "issue": "range"})
    sort = sort or ("distance" if located else "popular")
    if sort not in SORTS:
        raise ValidationFailed("排序方式不正确", details={"field": "sort", "choices": list(SORTS)})
    if industry is not None and industry not in INDUSTRIES:
        raise ValidationFailed("行业不存在", details={"field": "industry",
                                                     "choices": list(INDUSTRIES)})
    if sort == "distance" and not located:
        raise ValidationFailed("按距离排序需要提供经纬度", details={"field": "lat",
                                                               "issue": "required"})
    return sort


def _merchant_filter(query, industry: str | None, q: str | None):
    if industry is not None:
        query = query.where(Merchant.industry == industry)
    if q:
        query = query.where(Merchant.name.contains(q))
    return query


def _nearest_page(lat: float, lng: float, industry: str | None, q: str | None,
                  cursor: str | None, limit: int, memory_only: bool = False) -> dict | None:
    """The page (None when ``memory_only`` and the memory cannot answer it)."""
    position = decode_keys(cursor, (float, int))
    last = (float(position[0]), position[1]) if position else None
    if memory_only and not GEO_INDEX.ready():
        return None
    if not memory_only:
        GEO_INDEX.refresh()  # the list items too
    if q:
        search = _name_search(lat, lng, industry, q)
    else:
        search = functools.partial(GEO_INDEX.within, lat, lng, industry=industry)
    hint_key = None if q else (industry or "")
    radius = max(_radius_hints.get(hint_key, FIRST_RADIUS_M), last[0] * 1.1 if last else 0.0)
    while True:
        radius = min(radius, MAX_RADIUS_M)
        nearest = search(radius)
        ranked = sorted((distance, merchant_id, shop_id)
                        for merchant_id, (distance, shop_id) in nearest.items()
                        if last is None or (distance, merchant_id) > last)
        if len(ranked) > limit or radius >= MAX_RADIUS_M:
            break
        # Grow so that the disc holds the page by the density seen so far (x1.5 to x4).
        wanted = len(nearest) - len(ranked) + limit + 1
        radius *= min(4.0, max(1.5, 1.25 * math.sqrt(wanted / max(1, len(nearest)))))
    if hint_key is not None and last is None:
        _radius_hints[hint_key] = _next_hint(radius, ranked, limit)
    rows, next_cursor = keyset_page(ranked[:limit + 1], limit, lambda row: [row[0], row[1]])
    items = [_cached_item(merchant_id, shop_id, distance)
             for distance, merchant_id, shop_id in rows]
    if None in items:
        if memory_only:
            return None
        items = _filled(rows, items)
    return {"items": items, "next_cursor": next_cursor}


def _cached_item(merchant_id: int, shop_id: int, distance: float) -> dict | None:
    """The list item from the index, or None when the index lacks the shop (list items off,
    or a name search found a shop the index has not heard of yet)."""
    item = GEO_INDEX.list_item(merchant_id, shop_id)
    if item is None:
        return None
    return {**item[0], "distance_m": int(round(distance)), "shop": item[1]}


def _filled(rows: list[tuple[float, int, int]], items: list[dict | None]) -> list[dict]:
    """``items`` with the missing ones read from their shops' rows (one query)."""
    shops = _shops_with_merchants([shop_id for (_, _, shop_id), item in zip(rows, items)
                                   if item is None])
    return [item if item is not None
            else merchant_summary(shops[shop_id].merchant, distance, shops[shop_id])
            for (distance, _, shop_id), item in zip(rows, items)]


def _next_hint(radius: float, ranked: list, limit: int) -> float:
    """The radius to start the next search with: about what this page needed."""
    if len(ranked) > limit:
        radius = ranked[limit][0] * 1.15
    return min(MAX_RADIUS_M, max(FIRST_RADIUS_M, radius))


def _shops_with_merchants(shop_ids: list[int]) -> dict[int, Shop]:
    """The shops (with what a list shows of them and of their merchants) by id."""
    if not shop_ids:
        return {}
    return {shop.id: shop for shop in _shops_read(len(shop_ids)).rows(*shop_ids)}


@functools.cache
def _shops_read(count: int) -> Prepared:
    """The read of ``count`` shops by id (at most a page: a few shapes, each compiled once)."""
    return Prepared(lambda: Shop.select(Shop.id, Shop.name, Shop.address, Shop.logo_upload,
                                        Shop.merchant, *SUMMARY_COLUMNS)
                    .join(Merchant).where(Shop.id.in_([Arg(i) for i in range(count)])))


# A name held by at most this many approved merchants is searched through their own shops;
# a commoner one (a word every name has) through the shops around the point.
NAME_MATCHES_READ_WHOLE = 500


def _name_search(lat: float, lng: float, industry: str | None, q: str):
    """The search of a radius among merchants whose name holds ``q``: the merchants are
    found first (a scan of their names, not of the platform's shops around the point, which
    took a second on SQLite for a name nobody near has), then their shops' distances."""
    ids = [m for (m,) in _merchant_filter(Merchant.select(Merchant.id)
                                          .where(Merchant.status == "approved"), industry, q)
           .limit(NAME_MATCHES_READ_WHOLE + 1).tuples()]
    if len(ids) > NAME_MATCHES_READ_WHOLE:
        return functools.partial(_nearest_within, lat, lng, industry=industry, q=q)
    nearest = _nearest_distances(ids, lat, lng)
    return lambda radius: {m: found for m, found in nearest.items() if found[0] <= radius}


def _nearest_within(lat: float, lng: float, radius: float, industry: str | None = None,
                    q: str | None = None) -> dict[int, tuple[float, int]]:
    """merchant id -> (distance, shop id) of its nearest listed shop within ``radius`` (of a
    merchant of ``industry`` whose name holds ``q``), read from the database."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
    query = (Shop.select(Shop.id, Shop.merchant, Shop.lat, Shop.lng)
             .where(Shop.listed == True,  # noqa: E712
                    Shop.lat_band.in_(list(lat_bands(min_lat, max_lat))),
                    Shop.lng.between(min_lng, max_lng), Shop.lat.between(min_lat, max_lat)))
    if industry is not None or q:
        query = _merchant_filter(query.join(Merchant), industry, q)
    nearest: dict[int, tuple[float, int]] = {}
    for shop_id, merchant_id, shop_lat, shop_lng in query.tuples():
        distance = haversine_m(lat, lng, shop_lat, shop_lng)
        if distance <= radius and (merchant_id not in nearest
                                   or (distance, shop_id) < nearest[merchant_id]):
            nearest[merchant_id] = (distance, shop_id)
    return nearest


def _popular_page(industry: str | None, q: str | None, cursor: str | None, limit: int,
                  position: tuple[float, float] | None) -> dict:
    last = decode_keys(cursor, (int, int))
    query = _merchant_filter(Merchant.select().where(Merchant.status == "approved"), industry, q)
    if last:
        query = query.where(after((Merchant.popularity, Merchant.id), last, descending=True))
    rows = list(query.select(*SUMMARY_COLUMNS)
                .order_by(Merchant.popularity.desc(), Merchant.id.desc()).limit(limit + 1))
    rows, next_cursor = keyset_page(rows, limit, lambda m: [m.popularity, m.id])
    ids = [m.id for m in rows]
    distances = _nearest_distances(ids, *position) if position else {}
    shop_ids = ({m: shop_id for m, (_, shop_id) in distances.items()} if position
                else _first_shop_ids(ids))
    shops = _shops_with_merchants(list(shop_ids.values()))
    items = [merchant_summary(m, distances.get(m.id, (None,))[0], shops.get(shop_ids.get(m.id)))
             for m in rows]
    return {"items": items, "next_cursor": next_cursor}


def _shops_of(merchant_ids: list[int]):
    """(shop id, merchant id, lat, lng) of the merchants' listed shops. ``listed`` is checked
    here, not in SQL: given it, SQLite (which has no statistics) reads the shops through
    the (listed, ...) index, i.e. every listed shop of the platform, instead of the merchants'
    own few through their index."""
    if not merchant_ids:
        return []
    rows = (Shop.select(Shop.id, Shop.merchant, Shop.lat, Shop.lng, Shop.listed)
            .where(Shop.merchant.in_(merchant_ids)).tuples())
    return [row[:4] for row in rows if row[4]]


def _first_shop_ids(merchant_ids: list[int]) -> dict[int, int]:
    first: dict[int, int] = {}
    for shop_id, merchant_id, _, _ in _shops_of(merchant_ids):
        first[merchant_id] = min(shop_id, first.get(merchant_id, shop_id))
    return first


def _nearest_distances(merchant_ids: list[int], lat: float,
                       lng: float) -> dict[int, tuple[float, int]]:
    nearest: dict[int, tuple[float, int]] = {}
    for shop_id, merchant_id, shop_lat, shop_lng in _shops_of(merchant_ids):
        distance = haversine_m(lat, lng, shop_lat, shop_lng)
        if merchant_id not in nearest or (distance, shop_id) < nearest[merchant_id]:
            nearest[merchant_id] = (distance, shop_id)
    return nearest

