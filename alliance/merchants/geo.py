"""Distances on the earth for the nearby search (GCJ-02 coordinates, metres)."""
from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180
# Latitude bands of 0.01 degree (about 1.1 km): a shop's ``lat_band``. The nearby search reads
# the (listed, lat_band, lng) index as one short longitude range per band of its box instead
# of one range over the whole latitude stripe of the box (every longitude of a city).
BANDS_PER_DEGREE = 100


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """The great-circle distance between two points, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) of a box holding every point within ``radius_m``.

    Near the poles, or when the box would cross the antimeridian, it widens to every
    longitude (a superset: the exact distance filters afterwards).
    """
    dlat = radius_m / _M_PER_DEG_LAT
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = max(abs(min_lat), abs(max_lat))
    if widest >= 89.9:
        return min_lat, max_lat, -180.0, 180.0
    dlng = radius_m / (_M_PER_DEG_LAT * math.cos(math.radians(widest)))
    if lng - dlng < -180 or lng + dlng > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, lng - dlng, lng + dlng


def lat_band(lat: float) -> int:
    """The latitude band of ``lat`` (monotonic in ``lat``: a box's bands hold its points)."""
    return math.floor(lat * BANDS_PER_DEGREE)


def lat_bands(min_lat: float, max_lat: float) -> range:
    """The bands of every latitude from ``min_lat`` to ``max_lat``."""
    return range(lat_band(min_lat), lat_band(max_lat) + 1)
