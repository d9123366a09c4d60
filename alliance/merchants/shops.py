"""Shops: creating and editing them (by the merchant's staff, or by operators), and keeping
their ``listed`` flag true exactly while consumers may find them."""
from __future__ import annotations

import json
from typing import Any

from alliance.accounts.operators import record_audit
from alliance.checks import text
from alliance.db import transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.media.services import attachable_uploads, owned_upload
from alliance.merchants.geo import lat_band
from alliance.merchants.hours import validate_hours
from alliance.merchants.models import Merchant, Shop
from alliance.merchants.queries import forget_merchant_detail, get_shop
from alliance.merchants.views import shop_view

SHOP_STATUSES = ("open", "closed")
MAX_PHOTOS = 9
# field -> (max length, required)
TEXT_FIELDS = {"name": (64, True), "address": (255, True), "intro": (2000, False),
               "phone": (20, False)}
# Fields an edit may change; the uploads among them are checked separately.
EDITABLE = ("name", "intro", "address", "lat", "lng", "phone", "opening_hours", "status",
            "logo_upload", "photos")


def _coordinates(lat: Any, lng: Any) -> tuple[float, float]:
    for field, value, bound in (("lat", lat, 90), ("lng", lng, 180)):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not number or not -bound <= value <= bound:
            raise ValidationFailed("门店坐标不正确（GCJ-02 经纬度）",
                                   details={"field": field, "issue": "range", "limit": bound})
    return float(lat), float(lng)


def _clean(changes: dict[str, Any], actor_user_id: int | None,
           current: dict[str, Any]) -> dict[str, Any]:
    """The columns for ``changes``: hours and photos as JSON, uploads checked (the shop's
    ``current`` logo and photos may stay whoever uploaded them; an operator, with no
    ``actor_user_id``, can only remove them)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("包含不能修改的字段", details={"fields": sorted(unknown)})
    values = dict(changes)
    for field, (max_length, required) in TEXT_FIELDS.items():
        if field in values:
            values[field] = text(values[field], field, max_length, required)
    if "lat" in values or "lng" in values:
        if "lat" not in values or "lng" not in values:
            raise ValidationFailed("经纬度需同时提供", details={"field": "lat"})
        values["lat"], values["lng"] = _coordinates(values["lat"], values["lng"])
        values["lat_band"] = lat_band(values["lat"])  # Shop.update does not call Shop.save
    if "opening_hours" in values:
        values["opening_hours"] = json.dumps(validate_hours(values["opening_hours"]))
    if "status" in values and values["status"] not in SHOP_STATUSES:
        raise ValidationFailed("门店状态不正确", details={"field": "status",
                                                       "choices": list(SHOP_STATUSES)})
    if values.get("logo_upload") is not None and values["logo_upload"] != current.get("logo"):
        values["logo_upload"] = owned_upload(actor_user_id, values["logo_upload"], ("logo",),
                                             "logo_upload")
    if "photos" in values:
        values["photos"] = json.dumps(attachable_uploads(
            actor_user_id, values["photos"], "shop_photo", "photos", current.get("photos", []),
            MAX_PHOTOS))
    return values


def create_shop(merchant_id: int, actor_user_id: int, *, name: str, address: str, lat: float,
                lng: float, **optional: Any) -> Shop:
    """Open a new shop for the merchant (listed at once when the merchant is approved)."""
    values = _clean({"name": name, "address": address, "lat": lat, "lng": lng, **optional},
                    actor_user_id, {})
    with transaction():
        shop = Shop.create(merchant=merchant_id, **values)
        sync_listing(merchant_id)
        return Shop.get_by_id(shop.id)


def update_shop(merchant_id: int, shop_id: int, actor_user_id: int | None,
                changes: dict[str, Any]) -> Shop:
    """Change some of a shop's details (a shop of ``merchant_id`` only)."""
    with transaction():
        shop = get_shop(shop_id, merchant_id)
        values = _clean(changes, actor_user_id,
                        {"logo": shop.logo_upload, "photos": json.loads(shop.photos or "[]")})
        if values:
            Shop.update(updated_at=utcnow(), **values).where(Shop.id == shop.id).execute()
            sync_listing(merchant_id)
        return Shop.get_by_id(shop.id)


def operator_update_shop(operator_id: int, shop_id: int, changes: dict[str, Any],
                         reason: str = "") -> Shop:
    """An operator corrects a shop's details (or removes its logo or photos); audited."""
    with transaction():
        shop = get_shop(shop_id)
        updated = update_shop(shop.merchant_id, shop_id, None, changes)
        record_audit(operator_id, "shop.edit", "shop", shop_id, reason,
                     {"merchant_id": shop.merchant_id, "changes": changes})
        return updated


def sync_listing(merchant_id: int) -> None:
    """Set ``listed`` on the merchant's shops: approved merchant and open shop (in the
    caller's transaction)."""
    approved = (Merchant.select().where(Merchant.id == merchant_id,
                                        Merchant.status == "approved").exists())
    (Shop.update(listed=(Shop.status == "open") if approved else False)
     .where(Shop.merchant == merchant_id).execute())
    forget_merchant_detail(merchant_id)


def staff_shop_view(shop: Shop) -> dict:
    """A shop as its own staff see it: the consumer view plus the upload ids to edit."""
    return {**shop_view(shop), "listed": shop.listed, "logo_upload": shop.logo_upload,
            "photos": json.loads(shop.photos or "[]")}
