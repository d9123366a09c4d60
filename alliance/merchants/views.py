"""How merchants and shops are shown to consumers (JSON-ready dicts)."""
from __future__ import annotations

import datetime as dt
import json

from alliance.db import utcnow
from alliance.media.services import public_path
from alliance.merchants.hours import is_open
from alliance.merchants.industries import industry_name
from alliance.merchants.models import Merchant, Shop


# What merchant_summary reads of a merchant.
SUMMARY_COLUMNS = (Merchant.id, Merchant.name, Merchant.industry, Merchant.rating_sum,
                   Merchant.rating_count, Merchant.popularity)


def rating(merchant: Merchant) -> float | None:
    """The average review score (1-5, one decimal); None until the first review."""
    if not merchant.rating_count:
        return None
    return round(merchant.rating_sum / merchant.rating_count, 1)


def merchant_summary(merchant: Merchant, distance_m: float | None = None,
                     shop: Shop | None = None) -> dict:
    """A merchant in a consumer list: ``distance_m`` is to its nearest listed shop."""
    view = {"id": merchant.id, "name": merchant.name, "industry": merchant.industry,
            "industry_name": industry_name(merchant.industry), "rating": rating(merchant),
            "rating_count": merchant.rating_count, "popularity": merchant.popularity}
    if distance_m is not None:
        view["distance_m"] = int(round(distance_m))
    if shop is not None:
        view["shop"] = shop_summary(shop)
    return view


def shop_summary(shop: Shop) -> dict:
    """The shop of a merchant list item (``merchant_summary``'s ``shop``)."""
    return {"id": shop.id, "name": shop.name, "address": shop.address,
            "logo_url": public_path(shop.logo_upload)}


def shop_view(shop: Shop, distance_m: float | None = None,
              now: dt.datetime | None = None) -> dict:
    """A shop as consumers (and its staff) see it (``open_now`` at ``now``, naive UTC)."""
    hours = json.loads(shop.opening_hours or "{}")
    view = {"id": shop.id, "merchant_id": shop.merchant_id, "name": shop.name,
            "logo_url": public_path(shop.logo_upload), "intro": shop.intro,
            "address": shop.address, "lat": shop.lat, "lng": shop.lng,
            "coordinate_system": "gcj02", "phone": shop.phone, "opening_hours": hours,
            "open_now": shop.status == "open" and is_open(hours, now or utcnow()),
            "status": shop.status,
            "photo_urls": [public_path(p) for p in json.loads(shop.photos or "[]")]}
    if distance_m is not None:
        view["distance_m"] = int(round(distance_m))
    return view
