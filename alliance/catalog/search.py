"""Goods and services across the whole alliance: a name, an industry, a kind, a category, a
price range, one merchant, the merchants around a point; by sales, price, newest or distance.

Only items on the shelf of approved merchants are found. Each sort but distance walks one
index of ``catalog_item`` in its order ((status, sales_count, id), (status, price_fen, id),
(status, id): migration 0032), each row joined to its merchant by key (``join_as_written``:
otherwise SQLite, asked for an industry, read the industry's merchants first and sorted all
their items, 135 ms at 100k goods, and MariaDB did so for every page, 250-400 ms), on
MariaDB through that index by force (``walk_index``: a deep page was read by status alone,
120 ms), so a page reads about its own rows, 1-5 ms on either database; more when a filter
is rare (a name or a category that few items hold is a scan of the index: 0.2-0.3 s).
The cursor is the last row's sort keys, so pages never overlap or skip.

Around a point, the merchants come from the nearby search's index of listed shops in memory
(``GEO_INDEX``), never from a query of the shops. By distance, merchants are taken nearest
first from a disc that grows until it holds a page (as the merchant list does), and their
items ordered by the merchant's distance, then by sales (cursor: distance, merchant, sales,
item). Other sorts keep their index order and take only the items of merchants within the
radius: a small disc's merchants are found at once (``within``) and named in the query; in a
large one, each merchant the walk meets is measured (``nearest_shop``), as measuring every
shop of a city-wide disc costs about 0.5 s.
"""
from __future__ import annotations

from dataclasses import dataclass

from peewee import Case

from alliance.campaigns.queries import item_campaigns
from alliance.catalog.models import ITEM_KINDS, CatalogItem
from alliance.catalog.queries import item_view
from alliance.db import join_as_written, walk_index
from alliance.errors import ValidationFailed
from alliance.media.services import public_path
from alliance.merchants.browse import MAX_RADIUS_M
from alliance.merchants.geoindex import GEO_INDEX
from alliance.merchants.industries import INDUSTRIES, industry_name
from alliance.merchants.models import Merchant, Shop
from alliance.paging import after, decode_keys, keyset_page

# sort name -> (columns, descending); "distance" orders by merchant, then as "sales".
SORTS = {
    "sales": ((CatalogItem.sales_count, CatalogItem.id), True),
    "price_asc": ((CatalogItem.price_fen, CatalogItem.id), False),
    "price_desc": ((CatalogItem.price_fen, CatalogItem.id), True),
    "newest": ((CatalogItem.id,), True),
    "distance": ((CatalogItem.sales_count, CatalogItem.id), True),
}
# The index each sort walks when the items of any merchant may come (migration 0032).
SORT_INDEXES = {"sales": "catalog_item_status_sales_count_id",
                "price_asc": "catalog_item_status_price_fen_id",
                "price_desc": "catalog_item_status_price_fen_id",
                "newest": "catalog_item_status_id"}
DEFAULT_RADIUS_M = 5_000
# A disc up to this radius is searched whole (``GEO_INDEX.within``); a larger one per merchant.
SMALL_RADIUS_M = 2_000
# By distance, the first disc searched, grown until it holds a page.
FIRST_RADIUS_M = 1_000
# Nearby merchants up to this many are named in the query; more are filtered while walking.
MERCHANTS_IN_QUERY = 500
# By distance, the first batch of merchants read holds this many (then twice as many).
FIRST_MERCHANT_BATCH = 16


@dataclass(frozen=True)
class Filters:
    """What a search keeps (``in_stock``: hot goods leave sold-out items out)."""

    q: str | None = None
    industry: str | None = None
    kind: str | None = None
    category: str | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    merchant_id: int | None = None
    in_stock: bool = False


class Nearby:
    """The merchants with a listed shop within ``radius_m`` of a point (of ``industry``), and
    each one's nearest listed shop: (distance, shop id)."""

    def __init__(self, lat: float, lng: float, radius_m: float, industry: str | None = None):
        GEO_INDEX.refresh()  # needs a connection
        self.lat, self.lng, self.radius_m = lat, lng, min(radius_m, MAX_RADIUS_M)
        self.industry = industry
        # Every merchant within the radius when the disc is small, else None (measured one
        # by one in ``of``).
        self.merchants = (GEO_INDEX.within(lat, lng, self.radius_m, industry=industry)
                          if self.radius_m <= SMALL_RADIUS_M else None)
        self._measured: dict[int, tuple[float, int] | None] = {}

    def of(self, merchant_id: int) -> tuple[float, int] | None:
        """(distance, shop id) of the merchant's nearest listed shop, None beyond the radius."""
        if self.merchants is not None:
            return self.merchants.get(merchant_id)
        if merchant_id not in self._measured:
            found = GEO_INDEX.nearest_shop(merchant_id, self.lat, self.lng)
            self._measured[merchant_id] = (found if found is not None
                                           and found[0] <= self.radius_m else None)
        return self._measured[merchant_id]


def search_items(filters: Filters, *, lat: float | None = None, lng: float | None = None,
                 radius_m: int | None = None, sort: str | None = None,
                 cursor: str | None = None, limit: int = 20) -> dict:
    """A page of the alliance's items on the shelf; ``distance_m`` on each when lat/lng
    are given (to its merchant's nearest listed shop, within ``radius_m``)."""
    sort = checked(filters, lat, lng, radius_m, sort or "sales")
    nearby = None
    if lat is not None:
        nearby = Nearby(lat, lng, radius_m or DEFAULT_RADIUS_M, filters.industry)
    if sort == "distance":
        rows, next_cursor = _by_distance(filters, nearby, cursor, limit)
    else:
        rows, next_cursor = _by_index(filters, nearby, sort, cursor, limit)
    return {"items": list_views(rows, nearby), "next_cursor": next_cursor}


def checked(filters: Filters, lat: float | None, lng: float | None, radius_m: int | None,
            sort: str) -> str:
    """``sort``, once the arguments are valid (else 400 VALIDATION_FAILED naming the field)."""
    if sort not in SORTS:
        raise ValidationFailed("排序方式不正确", details={"field": "sort", "choices": list(SORTS)})
    if filters.industry is not None and filters.industry not in INDUSTRIES:
        raise ValidationFailed("行业不存在", details={"field": "industry",
                                                     "choices": list(INDUSTRIES)})
    if filters.kind is not None and filters.kind not in ITEM_KINDS:
        raise ValidationFailed("商品类型不正确", details={"field": "kind",
                                                       "choices": list(ITEM_KINDS)})
    if (filters.min_price_fen is not None and filters.max_price_fen is not None
            and filters.min_price_fen > filters.max_price_fen):
        raise ValidationFailed("最低价不能高于最高价", details={"field": "min_price_fen",
                                                             "issue": "above max_price_fen"})
    if (lat is None) != (lng is None):
        raise ValidationFailed("经纬度需同时提供", details={"field": "lat" if lat is None else "lng",
                                                         "issue": "required"})
    if lat is None and radius_m is not None:
        raise ValidationFailed("指定范围需要提供经纬度", details={"field": "lat",
                                                              "issue": "required"})
    if sort == "distance" and lat is None:
        raise ValidationFailed("按距离排序需要提供经纬度", details={"field": "lat",
                                                               "issue": "required"})
    return sort


def filtered(filters: Filters, index: str | None = None):
    """The items on the shelf of approved merchants that ``filters`` keep, with what a list
    shows of their merchant (read through ``index`` of catalog_item, when named)."""
    query = CatalogItem.select(CatalogItem, Merchant.name.alias("merchant_name"),
                               Merchant.industry.alias("merchant_industry"))
    if index is not None:
        query = walk_index(query, CatalogItem, index)
    query = (query.join(Merchant, join_as_written())
             .where(CatalogItem.merchant == Merchant.id, CatalogItem.status == "on_shelf",
                    Merchant.status == "approved")
             .objects())
    if filters.industry is not None:
        query = query.where(Merchant.industry == filters.industry)
    if filters.merchant_id is not None:
        query = query.where(CatalogItem.merchant == filters.merchant_id)
    if filters.kind is not None:
        query = query.where(CatalogItem.kind == filters.kind)
    if filters.category:
        query = query.where(CatalogItem.category == filters.category)
    if filters.min_price_fen is not None:
        query = query.where(CatalogItem.price_fen >= filters.min_price_fen)
    if filters.max_price_fen is not None:
        query = query.where(CatalogItem.price_fen <= filters.max_price_fen)
    if filters.q:
        query = query.where(CatalogItem.name.contains(filters.q))
    if filters.in_stock:
        query = query.where(CatalogItem.stock > 0)
    return query


def _keys(columns: tuple):
    return lambda item: [getattr(item, c.name) for c in columns]


def _by_index(filters: Filters, nearby: Nearby | None, sort: str, cursor: str | None,
              limit: int) -> tuple[list[CatalogItem], str | None]:
    columns, descending = SORTS[sort]
    key = _keys(columns)
    last = decode_keys(cursor, (int,) * len(columns))
    named = None  # the merchants whose items these are, when few
    keep = None
    if nearby is not None:
        if nearby.merchants is not None and len(nearby.merchants) <= MERCHANTS_IN_QUERY:
            if not nearby.merchants:
                return [], None
            named = sorted(nearby.merchants)
        else:
            keep = nearby.of
    if named is None and filters.merchant_id is None:
        query = filtered(filters, SORT_INDEXES[sort])
    else:  # through the merchant's (merchant, status, ...) index
        query = filtered(filters)
        if named is not None:
            query = query.where(CatalogItem.merchant.in_(named))
    order = [c.desc() if descending else c.asc() for c in columns]
    # Rows read per query: the page (and the next one's first) when every row is kept, more
    # when some are left out here.
    batch = limit + 1 if keep is None else max(100, 4 * (limit + 1))
    rows: list[CatalogItem] = []
    while True:
        page = query.where(after(columns, last, descending)) if last else query
        read = list(page.order_by(*order).limit(batch))
        rows += [r for r in read if keep is None or keep(r.merchant_id) is not None]
        if len(rows) > limit or len(read) < batch:
            break
        last = key(read[-1])
    return keyset_page(rows[:limit + 1], limit, key)


def best_selling(filters: Filters, count: int, nearby: Nearby | None = None) -> list[CatalogItem]:
    """The ``count`` best-selling items of all time (``sales_count``) that ``filters`` keep."""
    return _by_index(filters, nearby, "sales", None, count)[0]


def _by_distance(filters: Filters, nearby: Nearby, cursor: str | None,
                 limit: int) -> tuple[list[CatalogItem], str | None]:
    """Items of the nearest merchants first (each merchant's by sales, then newest): the
    merchants within a disc that grows until their items fill the page. Every merchant of a
    disc is nearer than any outside it, so each disc's are taken in order after the last's."""
    last = decode_keys(cursor, (float, int, int, int))
    start = (last[0], last[1]) if last else None
    columns, descending = SORTS["distance"]
    rows: list[CatalogItem] = []
    taken: set[int] = set()
    found: dict[int, tuple[float, int]] = {}
    reach = max(FIRST_RADIUS_M, last[0] * 1.5 if last else 0.0)
    while len(rows) <= limit:
        reach = min(reach, nearby.radius_m)
        found = GEO_INDEX.within(nearby.lat, nearby.lng, reach, industry=nearby.industry)
        ranked = [m for d, m in sorted((d, m) for m, (d, _) in found.items())
                  if m not in taken and (start is None or (d, m) >= start)]
        size = FIRST_MERCHANT_BATCH
        while ranked and len(rows) <= limit:
            batch, ranked = ranked[:size], ranked[size:]
            taken.update(batch)
            query = filtered(filters).where(CatalogItem.merchant.in_(batch))
            if start is not None and start[1] in batch:  # only its items after the cursor's
                query = query.where((CatalogItem.merchant != start[1])
                                    | after(columns, last[2:], descending))
            order = Case(CatalogItem.merchant, [(m, i) for i, m in enumerate(batch)])
            rows.extend(query.order_by(order, *[c.desc() for c in columns])
                        .limit(limit + 1 - len(rows)))
            size = min(size * 2, MERCHANTS_IN_QUERY)
        if reach >= nearby.radius_m:
            break
        reach *= 2
    nearby.merchants = found  # what list_views measures
    return keyset_page(rows, limit, lambda i: [found[i.merchant_id][0], i.merchant_id,
                                               i.sales_count, i.id])


def list_views(rows: list[CatalogItem], nearby: Nearby | None = None) -> list[dict]:
    """Items as consumer lists show them (rows of ``filtered``): the item, its running flash
    sale (``campaign``), its merchant (with the logo of its nearest listed shop, or of its
    first) and, around a point, ``distance_m`` to that shop."""
    campaigns = item_campaigns(rows)
    logos = _logos({r.merchant_id for r in rows}, nearby)
    views = []
    for item in rows:
        view = {**item_view(item), "campaign": campaigns.get(item.id),
                "merchant": {"id": item.merchant_id, "name": item.merchant_name,
                             "industry": item.merchant_industry,
                             "industry_name": industry_name(item.merchant_industry),
                             "logo_url": public_path(logos.get(item.merchant_id))}}
        if nearby is not None:
            view["distance_m"] = int(round(nearby.of(item.merchant_id)[0]))
        views.append(view)
    return views


def _logos(merchant_ids: set[int], nearby: Nearby | None) -> dict[int, str | None]:
    """merchant id -> the logo upload of the listed shop its items show: the nearest to the
    point, else its first. (``listed`` is checked here, not in SQL: given it, SQLite reads
    the shops through the (listed, ...) index, every listed shop, instead of the merchants'
    own few.)"""
    if not merchant_ids:
        return {}
    if nearby is not None:
        shown = {nearby.of(m)[1]: m for m in merchant_ids}
        return {shown[shop_id]: logo for shop_id, logo in
                Shop.select(Shop.id, Shop.logo_upload).where(Shop.id.in_(sorted(shown))).tuples()}
    first: dict[int, tuple[int, str | None]] = {}
    for shop_id, merchant_id, logo, listed in (
            Shop.select(Shop.id, Shop.merchant, Shop.logo_upload, Shop.listed)
            .where(Shop.merchant.in_(sorted(merchant_ids))).tuples()):
        if listed and (merchant_id not in first or shop_id < first[merchant_id][0]):
            first[merchant_id] = (shop_id, logo)
    return {m: logo for m, (_, logo) in first.items()}
