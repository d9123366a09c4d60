"""The nearby search's index of listed shops, kept in each process's memory.

Every listed shop (of an approved merchant) as (longitude, shop id, latitude, merchant id,
industry), bucketed by the latitude bands of alliance.merchants.geo and sorted by longitude
within each band: a search takes one longitude range (bisect) per band of its bounding box,
as the (listed, lat_band, lng, lat, merchant) database index would, without a query.

The whole index loads on first use (one query). It follows the merchant detail's forgets
(alliance.infra.localcache, name ``merchant_detail``): every write that changes a merchant's
listed shops, their positions or the merchant's status or industry calls
``forget_merchant_detail``. A forget of one merchant marks it stale (in the writing process
once the write commits, in the others when their feed reads it); the next search re-reads
that merchant's listed shops before it answers. A forget of everything reloads the index.
A search on a stale or unloaded index is not answered from memory alone (``ready``): it
runs where it may read the database and brings the index up to date first (``refresh``).
A merchant is marked rather than re-read at once so that re-reads of one merchant by
concurrent writers can never be applied out of order, and the feed's thread reads nothing.
"""
from __future__ import annotations

import bisect
import threading
from collections import defaultdict

from alliance.db import Prepared, db
from alliance.infra.localcache import subscribe
from alliance.merchants.geo import bounding_box, haversine_m, lat_bands
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.queries import PUBLIC_DETAILS

# (lng, shop id, lat, merchant id, industry): sorted by (lng, shop id) within a band.
Entry = tuple

_COLUMNS = (Shop.lat_band, Shop.lng, Shop.id, Shop.lat, Shop.merchant, Merchant.industry)
_ALL_LISTED = Prepared(lambda: Shop.select(*_COLUMNS).join(Merchant)
                       .where(Shop.listed == True).tuples())  # noqa: E712


def _listed_of(merchant_ids: list[int]) -> list[tuple]:
    return list(Shop.select(*_COLUMNS).join(Merchant)
                .where(Shop.merchant.in_(merchant_ids), Shop.listed == True)  # noqa: E712
                .tuples())


class GeoIndex:
    key_type = int  # merchant ids, as the feed's text gives them

    def __init__(self):
        self._lock = threading.Lock()  # guards every field below
        self._load_lock = threading.Lock()  # one full load at a time
        self._source = None  # the database loaded from (None: load before use)
        self._bands: dict[int, tuple[list[float], list[Entry]]] = {}  # band -> (lngs, entries)
        self._shops: dict[int, list[tuple[int, Entry]]] = {}  # merchant -> [(band, entry)]
        self._stale: dict[int, int] = {}  # merchant id -> the discard that marked it
        self._discards = 0
        self._clears = 0

    # The feed's side (any thread; no database).
    def discard(self, merchant_id: int) -> None:
        """The merchant's listed shops or industry changed: re-read them before next use."""
        with self._lock:
            self._discards += 1
            self._stale[merchant_id] = self._discards

    def clear(self) -> None:
        """Anything may have changed: load the whole index again before next use."""
        with self._lock:
            self._clears += 1
            self._source = None

    # The searches' side.
    def ready(self) -> bool:
        """Whether ``within`` answers without a database (loaded, nothing stale)."""
        return self._source is db.obj and not self._stale

    def refresh(self) -> None:
        """Load the index or re-read its stale merchants (needs a database connection)."""
        while self._source is not db.obj:
            self._load()
        while self._stale:
            self._reread_stale()

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
        for shop_lng, shop_id, shop_lat, merchant_id, shop_industry in found:
            if not min_lat <= shop_lat <= max_lat or (industry is not None
                                                      and shop_industry != industry):
                continue
            distance = haversine_m(lat, lng, shop_lat, shop_lng)
            if distance <= radius and (merchant_id not in nearest
                                       or (distance, shop_id) < nearest[merchant_id]):
                nearest[merchant_id] = (distance, shop_id)
        return nearest

    def _load(self) -> None:
        with self._load_lock:
            if self._source is db.obj:
                return
            with self._lock:
                clears, stale = self._clears, dict(self._stale)
            source = db.obj
            rows = _ALL_LISTED.raw_rows()  # 100k shops: about 0.5 s
            by_band: dict[int, list[Entry]] = defaultdict(list)
            shops: dict[int, list[tuple[int, Entry]]] = defaultdict(list)
            for band, shop_lng, shop_id, shop_lat, merchant_id, industry in rows:
                entry = (shop_lng, shop_id, shop_lat, merchant_id, industry)
                by_band[band].append(entry)
                shops[merchant_id].append((band, entry))
            bands = {}
            for band, entries in by_band.items():
                entries.sort()
                bands[band] = ([e[0] for e in entries], entries)
            with self._lock:
                if clears != self._clears:
                    return  # cleared while reading: read again
                self._bands, self._shops, self._source = bands, dict(shops), source
                for merchant_id, mark in stale.items():  # read after those marks
                    if self._stale.get(merchant_id) == mark:
                        del self._stale[merchant_id]

    def _reread_stale(self) -> None:
        with self._lock:
            stale, source = dict(self._stale), self._source
        rows = _listed_of(list(stale))
        fresh: dict[int, list[tuple[int, Entry]]] = defaultdict(list)
        for band, shop_lng, shop_id, shop_lat, merchant_id, industry in rows:
            fresh[merchant_id].append((band, (shop_lng, shop_id, shop_lat, merchant_id,
                                              industry)))
        with self._lock:
            if self._source is not source:
                return  # cleared meanwhile: the whole index loads again
            for merchant_id, mark in stale.items():
                if self._stale.get(merchant_id) != mark:
                    continue  # changed again since: read again
                self._replace(merchant_id, fresh.get(merchant_id, []))
                del self._stale[merchant_id]

    def _replace(self, merchant_id: int, shops: list[tuple[int, Entry]]) -> None:
        """Put ``shops`` in the place of the merchant's (holding the lock)."""
        for band, entry in self._shops.pop(merchant_id, []):
            lngs, entries = self._bands[band]
            at = bisect.bisect_left(entries, entry[:2])
            del entries[at], lngs[at]
        for band, entry in shops:
            lngs, entries = self._bands.setdefault(band, ([], []))
            at = bisect.bisect_left(entries, entry)
            entries.insert(at, entry)
            lngs.insert(at, entry[0])
        if shops:
            self._shops[merchant_id] = shops


GEO_INDEX = GeoIndex()
subscribe(PUBLIC_DETAILS.name, GEO_INDEX)  # every forget_merchant_detail
