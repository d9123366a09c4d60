"""The nearby search's index of listed shops and their list items, in each process's memory.

Every listed shop (of an approved merchant) as (longitude, shop id, latitude, merchant id,
industry, and what the list shows of it), bucketed by the latitude bands of alliance.merchants.geo and sorted by longitude
within each band: a search takes one longitude range (bisect) per band of its bounding box,
as the (listed, lat_band, lng, lat, merchant) database index would, without a query. With
the shops it keeps what the merchant list shows of each listed shop and of its merchant
(``list_item``): a page of the nearby list is answered from memory alone in every process
from its first search on.

The whole index loads on first use (one query of every listed shop with its merchant's list
fields: 100k shops of 10k merchants, about 1 s and 85 MB per process, 40 MB of it the list
fields). It follows the merchant detail's forgets (alliance.infra.localcache, name
``merchant_detail``): every write that changes a merchant's listed shops, their positions or
names, or the merchant's status, name or industry calls ``forget_merchant_detail``. A forget
of one merchant marks it stale (in the writing process once the write commits, in the others
when their feed reads it); the next search re-reads that merchant's listed shops and list
fields before it answers. A forget of everything reloads the index. A search on a stale or
unloaded index is not answered from memory alone (``ready``): it runs where it may read the
database and brings the index up to date first (``refresh``). A merchant is marked rather
than re-read at once so that re-reads of one merchant by concurrent writers can never be
applied out of order, and the feed's thread reads nothing.

Only a merchant's rating and popularity change without a forget (reviews and sales feed
them): they are re-read for every listed merchant at once (one query) when they are older
than ``items_lifetime_s`` (``ALLIANCE_DETAIL_CACHE_SECONDS`` times ``LIST_ENTRY_LIFETIMES``).
The first search that finds them due takes that re-read to a worker (``ready`` is false for
it alone); the others keep answering from memory meanwhile. A lifetime of 0 turns the list
items off: every page reads its items from the database.
"""
from __future__ import annotations

import bisect
import gc
import threading
import time
from collections import defaultdict, namedtuple

from alliance.db import db
from alliance.prepared import Prepared
from alliance.infra.localcache import subscribe
from alliance.merchants.geo import bounding_box, haversine_m, lat_bands
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.queries import DEFAULT_DETAIL_CACHE_S, PUBLIC_DETAILS
from alliance.merchants.views import SUMMARY_COLUMNS, merchant_summary, shop_summary

# (lng, shop id, lat, merchant id, industry, name, address, logo upload): sorted by
# (lng, shop id) within a band.
Entry = tuple
# A listed merchant: (its merchant_summary, [(band, entry) of each of its listed shops]).
Listed = tuple
# The list items' rating and popularity are re-read when they are older than this many times
# the merchant details' lifetime.
LIST_ENTRY_LIFETIMES = 10
# A due re-read of the ratings that did not happen (its search failed) is handed out again
# after this many seconds.
_RETRY_S = 5.0

# What merchant_summary and shop_summary read of a merchant and of a shop.
_MerchantFields = namedtuple("_MerchantFields",
                             "id name industry rating_sum rating_count popularity")
_ShopFields = namedtuple("_ShopFields", "id name address logo_upload")
_COLUMNS = (Shop.lat_band, Shop.lng, Shop.id, Shop.lat, Shop.name, Shop.address,
            Shop.logo_upload, *SUMMARY_COLUMNS)
_ALL_LISTED = Prepared(lambda: Shop.select(*_COLUMNS).join(Merchant)
                       .where(Shop.listed == True).tuples())  # noqa: E712
_APPROVED = Prepared(lambda: Merchant.select(*SUMMARY_COLUMNS)
                     .where(Merchant.status == "approved").tuples())


def _listed_of(merchant_ids: list[int]) -> list[tuple]:
    return list(Shop.select(*_COLUMNS).join(Merchant)
                .where(Shop.merchant.in_(merchant_ids), Shop.listed == True)  # noqa: E712
                .tuples())


def _read(rows) -> dict[int, Listed]:
    """The listed merchants of ``_COLUMNS`` rows."""
    listed: dict[int, Listed] = {}
    for band, shop_lng, shop_id, shop_lat, name, address, logo_upload, *merchant in rows:
        merchant_id = merchant[0]
        if merchant_id not in listed:
            listed[merchant_id] = (merchant_summary(_MerchantFields(*merchant)), [])
        listed[merchant_id][1].append((band, (shop_lng, shop_id, shop_lat, merchant_id,
                                              merchant[2], name, address, logo_upload)))
    return listed


class GeoIndex:
    key_type = int  # merchant ids, as the feed's text gives them

    def __init__(self, items_lifetime_s: float = DEFAULT_DETAIL_CACHE_S * LIST_ENTRY_LIFETIMES):
        self.items_lifetime_s = items_lifetime_s
        self._lock = threading.Lock()  # guards every field below
        self._load_lock = threading.Lock()  # one full load or re-read of the ratings at a time
        self._source = None  # the database loaded from (None: load before use)
        self._bands: dict[int, tuple[list[float], list[Entry]]] = {}  # band -> (lngs, entries)
        self._listed: dict[int, Listed] = {}  # merchant id -> (summary, shops): replaced whole
        self._stale: dict[int, int] = {}  # merchant id -> the discard that marked it
        self._marks: dict[int, int] = {}  # merchant id -> the last discard of it
        self._discards = 0
        self._clears = 0
        self._ratings_read_at = 0.0  # time.monotonic() of the last read of every rating
        self._ratings_due = 0.0  # when ``ready`` sends a search to re-read them

    def configure(self, items_lifetime_s: float) -> None:
        """Change how long the list items' ratings live (0 turns the list items off)."""
        with self._lock:
            self.items_lifetime_s = items_lifetime_s
            self._ratings_due = self._ratings_read_at + items_lifetime_s

    # The feed's side (any thread; no database).
    def discard(self, merchant_id: int) -> None:
        """The merchant's listed shops or list fields changed: re-read them before next use."""
        with self._lock:
            self._discards += 1
            self._stale[merchant_id] = self._marks[merchant_id] = self._discards

    def clear(self) -> None:
        """Anything may have changed: load the whole index again before next use."""
        with self._lock:
            self._clears += 1
            self._source = None

    # The searches' side.
    def ready(self) -> bool:
        """Whether ``within`` and ``list_item`` answer without a database (loaded, nothing
        stale, the ratings not due: false for the one search that re-reads them)."""
        if self._source is not db.obj or self._stale:
            return False
        if self.items_lifetime_s <= 0 or time.monotonic() < self._ratings_due:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._ratings_due:
                return True
            self._ratings_due = now + _RETRY_S  # another search re-reads them if this fails
            return False

    def refresh(self) -> None:
        """Load the index, re-read its stale merchants and the ratings when due (needs a
        database connection)."""
        while self._source is not db.obj:
            self._load()
        while self._stale:
            self._reread_stale()
        if self._ratings_stale():
            self._reread_ratings()

    def list_item(self, merchant_id: int, shop_id: int) -> tuple[dict, dict] | None:
        """The merchant's ``merchant_summary`` (shared: never mutated) and ``shop_summary``
        of its listed shop as the index has them (None: not listed, or list items off)."""
        listed = self._listed.get(merchant_id) if self.items_lifetime_s > 0 else None
        for _, entry in () if listed is None else listed[1]:
            if entry[1] == shop_id:
                return listed[0], shop_summary(_ShopFields(shop_id, *entry[5:]))
        return None

    def within(self, lat: float, lng: float, radius: float,
               industry: str | None = None) -> dict[int, tuple[float, int]]:
        """merchant id -> (distance, shop id) of its nearest listed shop within ``radius``
        (of ``industry``): what the box read of alliance.merchants.browse finds."""
        min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius)
        found: list[Entry] = []
        with self._lock:
            for band in lat_bands(min_lat, max_lat):
                entry = self._bands.get(band)
                if entry is not None:
                    lngs, entries = entry
                    found += entries[bisect.bisect_left(lngs, min_lng):
                                     bisect.bisect_right(lngs, max_lng)]
        nearest: dict[int, tuple[float, int]] = {}
        for shop_lng, shop_id, shop_lat, merchant_id, shop_industry, _, _, _ in found:
            if not min_lat <= shop_lat <= max_lat or (industry is not None
                                                      and shop_industry != industry):
                continue
            distance = haversine_m(lat, lng, shop_lat, shop_lng)
            if distance <= radius and (merchant_id not in nearest
                                       or (distance, shop_id) < nearest[merchant_id]):
                nearest[merchant_id] = (distance, shop_id)
        return nearest

    def nearest_shop(self, merchant_id: int, lat: float,
                     lng: float) -> tuple[float, int] | None:
        """(distance, shop id) of the merchant's nearest listed shop (None: it has none):
        for a few merchants, cheaper than ``within`` a radius that holds many shops."""
        listed = self._listed.get(merchant_id)
        if listed is None:
            return None
        return min((haversine_m(lat, lng, entry[2], entry[0]), entry[1])
                   for _, entry in listed[1])

    def _ratings_stale(self) -> bool:
        return (self.items_lifetime_s > 0
                and time.monotonic() >= self._ratings_read_at + self.items_lifetime_s)

    def _load(self) -> None:
        with self._load_lock:
            if self._source is db.obj:
                return
            with self._lock:
                clears, stale = self._clears, dict(self._stale)
            source, read_at = db.obj, time.monotonic()
            listed = _read(_ALL_LISTED.raw_rows())  # 100k shops: about 1 s
            by_band: dict[int, list[Entry]] = defaultdict(list)
            for _, shops in listed.values():
                for band, entry in shops:
                    by_band[band].append(entry)
            bands = {}
            for band, band_entries in by_band.items():
                band_entries.sort()
                bands[band] = ([e[0] for e in band_entries], band_entries)
            with self._lock:
                if clears != self._clears:
                    return  # cleared while reading: read again
                self._bands, self._listed = bands, listed
                self._source = source
                self._ratings_read_at = read_at
                self._ratings_due = read_at + self.items_lifetime_s
                for merchant_id, mark in stale.items():  # read after those marks
                    if self._stale.get(merchant_id) == mark:
                        del self._stale[merchant_id]
            # The index is over a million objects that live as long as it does: kept out of
            # the cyclic collector's reach, which otherwise walks them all at each of its
            # full collections with the GIL held (the server's CPU per payment notification
            # was 11 % higher in a process holding the index). What is garbage now is
            # collected first; an index read again later is frozen again.
            gc.collect()
            gc.freeze()

    def _reread_stale(self) -> None:
        with self._lock:
            stale, source = dict(self._stale), self._source
        listed = _read(_listed_of(list(stale)))
        with self._lock:
            if self._source is not source:
                return  # cleared meanwhile: the whole index loads again
            for merchant_id, mark in stale.items():
                if self._stale.get(merchant_id) != mark:
                    continue  # changed again since: read again
                self._replace(merchant_id, listed.get(merchant_id))
                del self._stale[merchant_id]

    def _reread_ratings(self) -> None:
        """Every listed merchant's list fields read again (one query): its rating and
        popularity change without a forget."""
        with self._load_lock:
            if not self._ratings_stale():
                return  # re-read meanwhile
            with self._lock:
                source, discards = self._source, self._discards
            read_at = time.monotonic()
            changed = []  # (merchant id, its listed as compared, the fresh summary)
            for row in _APPROVED.raw_rows():
                listed = self._listed.get(row[0])
                if listed is not None:
                    summary = merchant_summary(_MerchantFields(*row))
                    if summary != listed[0]:
                        changed.append((row[0], listed, summary))
            with self._lock:
                if self._source is not source:
                    return  # cleared meanwhile: the whole index loads again
                for merchant_id, listed, summary in changed:
                    if (self._listed.get(merchant_id) is listed
                            and self._marks.get(merchant_id, 0) <= discards):
                        self._listed[merchant_id] = (summary, listed[1])
                    # else forgotten since the read: re-read (or about to be) whole
                self._ratings_read_at = read_at
                self._ratings_due = read_at + self.items_lifetime_s

    def _replace(self, merchant_id: int, listed: Listed | None) -> None:
        """Put ``listed`` (None: no listed shop) in the place of the merchant's (holding the
        lock)."""
        _, old_shops = self._listed.pop(merchant_id, (None, []))
        for band, old in old_shops:
            lngs, entries = self._bands[band]
            at = bisect.bisect_left(entries, old[:2])
            del entries[at], lngs[at]
        if listed is None:
            return
        for band, new in listed[1]:
            lngs, entries = self._bands.setdefault(band, ([], []))
            at = bisect.bisect_left(entries, new)
            entries.insert(at, new)
            lngs.insert(at, new[0])
        self._listed[merchant_id] = listed


GEO_INDEX = GeoIndex()
subscribe(PUBLIC_DETAILS.name, GEO_INDEX)  # every forget_merchant_detail
