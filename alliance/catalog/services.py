"""The merchant's side of the catalog: create and edit items, send them to review, put them
on and off the shelf, adjust stock.

An item is audited before it first goes on sale (draft -> pending_review -> on_shelf, or
rejected). Later changes of its name, images or price wait in ``pending_changes`` for the
operators while the item keeps selling as approved; other fields change at once.
"""
from __future__ import annotations

import json
from typing import Any

from alliance.catalog.models import ITEM_KINDS, CatalogItem
from alliance.catalog.queries import ItemNotFound
from alliance.checks import integer, text
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.media.services import attachable_uploads

MAX_IMAGES = 9
MAX_PRICE_FEN = 100_000_000  # one million yuan
MAX_STOCK = 10_000_000
AUDITED = ("name", "images", "price_fen")
EDITABLE = AUDITED + ("category", "original_price_fen", "description", "kind")
SUBMITTABLE = ("draft", "rejected", "taken_down")
# Items whose audited fields passed review: their changes wait in pending_changes.
REVIEWED = ("on_shelf", "off_shelf")


class ItemStatusConflict(AllianceError):
    code = "ITEM_STATUS_CONFLICT"
    http_status = 409
    message = "商品当前状态不能执行此操作"


def _clean(changes: dict[str, Any], actor_id: int, attached: list[str]) -> dict[str, Any]:
    """Checked column values for ``changes`` (images as a JSON list of upload ids)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("包含不能修改的字段", details={"fields": sorted(unknown)})
    values: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "kind":
            if value not in ITEM_KINDS:
                raise ValidationFailed("商品类型不正确", details={"field": "kind",
                                                                "choices": list(ITEM_KINDS)})
            values[field] = value
        elif field in ("price_fen", "original_price_fen"):
            values[field] = integer(value, field, 1, MAX_PRICE_FEN, field == "original_price_fen")
        elif field == "images":
            values[field] = json.dumps(attachable_uploads(actor_id, value, "item_image", field,
                                                          attached, MAX_IMAGES))
        else:
            limits = {"name": (64, True), "category": (32, False), "description": (5000, False)}
            values[field] = text(value, field, *limits[field])
    return values


def get_own_item(merchant_id: int, item_id: int) -> CatalogItem:
    """An item of the merchant (any status), or ITEM_NOT_FOUND."""
    item = CatalogItem.get_or_none(CatalogItem.id == item_id, CatalogItem.merchant == merchant_id)
    if item is None:
        raise ItemNotFound(details={"item_id": item_id})
    return item


def _attached(item: CatalogItem) -> list[str]:
    pending = json.loads(item.pending_changes or "{}")
    return json.loads(item.images or "[]") + json.loads(pending.get("images", "[]"))


def create_item(merchant_id: int, actor_id: int, fields: dict[str, Any], stock: int = 0,
                submit: bool = False) -> CatalogItem:
    """A new item (a draft, or sent to review at once with ``submit``)."""
    for required in ("kind", "name", "price_fen"):
        if required not in fields:
            raise ValidationFailed(f"缺少参数 {required}", details={"field": required,
                                                                   "issue": "required"})
    values = _clean(fields, actor_id, [])
    stock = integer(stock, "stock", 0, MAX_STOCK)
    with transaction():
        item = CatalogItem.create(merchant=merchant_id, stock=stock,
                                  status="pending_review" if submit else "draft",
                                  review_pending=submit, **values)
        return CatalogItem.get_by_id(item.id)


def update_item(merchant_id: int, item_id: int, actor_id: int,
                changes: dict[str, Any]) -> CatalogItem:
    """Edit an item; a reviewed item's name, images and price wait for review."""
    with transaction():
        item = get_own_item(merchant_id, item_id)
        values = _clean(changes, actor_id, _attached(item))
        if "kind" in values and values["kind"] != item.kind and item.status in REVIEWED:
            raise ItemStatusConflict("已上架过的商品不能改变类型", details={"field": "kind"})
        update: dict[str, Any] = {"updated_at": utcnow()}
        if item.status in REVIEWED:
            pending = json.loads(item.pending_changes or "{}")
            for field in AUDITED:
                if field in values:
                    if values[field] == getattr(item, field):
                        pending.pop(field, None)
                    else:
                        pending[field] = values.pop(field)
            update.update(pending_changes=json.dumps(pending) if pending else None,
                          review_pending=bool(pending))
        update.update(values)
        moved = (CatalogItem.update(**update)
                 .where(CatalogItem.id == item.id, CatalogItem.status == item.status).execute())
        if moved != 1:
            raise ItemStatusConflict(details={"status": item.status})
        return CatalogItem.get_by_id(item.id)


def _move(merchant_id: int, item_id: int, sources: tuple[str, ...], target: str,
          **extra: Any) -> CatalogItem:
    with transaction():
        item = get_own_item(merchant_id, item_id)
        moved = (CatalogItem.update(status=target, updated_at=utcnow(), **extra)
                 .where(CatalogItem.id == item.id, CatalogItem.status.in_(sources)).execute())
        if moved != 1:
            raise ItemStatusConflict(details={"status": item.status, "expected": list(sources)})
        return CatalogItem.get_by_id(item.id)


def submit_item(merchant_id: int, item_id: int) -> CatalogItem:
    """Send a draft, rejected or taken-down item to the operators' review."""
    return _move(merchant_id, item_id, SUBMITTABLE, "pending_review", review_pending=True,
                 review_note="")


def put_on_shelf(merchant_id: int, item_id: int) -> CatalogItem:
    """Sell an approved item again."""
    return _move(merchant_id, item_id, ("off_shelf",), "on_shelf")


def take_off_shelf(merchant_id: int, item_id: int) -> CatalogItem:
    """Stop selling an item for now."""
    return _move(merchant_id, item_id, ("on_shelf",), "off_shelf")


def adjust_stock(merchant_id: int, item_id: int, delta: int) -> CatalogItem:
    """Add (or with a negative ``delta`` remove) stock; never below zero."""
    delta = integer(delta, "delta", -MAX_STOCK, MAX_STOCK)
    with transaction():
        item = get_own_item(merchant_id, item_id)
        changed = (CatalogItem.update(stock=CatalogItem.stock + delta, updated_at=utcnow())
                   .where(CatalogItem.id == item.id, CatalogItem.stock + delta >= 0,
                          CatalogItem.stock + delta <= MAX_STOCK).execute())
        if changed != 1:
            raise ValidationFailed("库存不能小于 0", details={"field": "delta",
                                                           "stock": item.stock})
        return CatalogItem.get_by_id(item.id)
