"""Reads of the catalog: a merchant's items for consumers (filters, sorting, cursor) and
the lookups other domains (orders, campaigns) use."""
from __future__ import annotations

import json

from alliance.catalog.models import ITEM_KINDS, ITEM_STATUSES, CatalogItem
from alliance.clock import to_local_iso
from alliance.errors import NotFound, ValidationFailed
from alliance.media.services import public_path
from alliance.merchants.queries import get_approved_merchant
from alliance.paging import after, decode_keys, keyset_page, newest_first

# sort name -> (columns, descending)
ITEM_SORTS = {
    "newest": ((CatalogItem.id,), True),
    "price_asc": ((CatalogItem.price_fen, CatalogItem.id), False),
    "price_desc": ((CatalogItem.price_fen, CatalogItem.id), True),
    "sales": ((CatalogItem.sales_count, CatalogItem.id), True),
}


class ItemNotFound(NotFound):
    code = "ITEM_NOT_FOUND"
    message = "商品不存在或已下架"


def item_view(item: CatalogItem) -> dict:
    """An item as consumers see it."""
    return {"id": item.id, "merchant_id": item.merchant_id, "kind": item.kind,
            "name": item.name, "category": item.category, "price_fen": item.price_fen,
            "original_price_fen": item.original_price_fen, "stock": item.stock,
            "sales_count": item.sales_count, "description": item.description,
            "image_urls": [public_path(i) for i in json.loads(item.images or "[]")]}


def list_items(merchant_id: int, *, kind: str | None = None, category: str | None = None,
               min_price_fen: int | None = None, max_price_fen: int | None = None,
               sort: str = "newest", cursor: str | None = None, limit: int = 20) -> dict:
    """A page of an approved merchant's items on the shelf."""
    get_approved_merchant(merchant_id)
    if kind is not None and kind not in ITEM_KINDS:
        raise ValidationFailed("商品类型不正确", details={"field": "kind", "choices": list(ITEM_KINDS)})
    if sort not in ITEM_SORTS:
        raise ValidationFailed("排序方式不正确", details={"field": "sort", "choices": list(ITEM_SORTS)})
    columns, descending = ITEM_SORTS[sort]
    last = decode_keys(cursor, (int,) * len(columns))
    query = CatalogItem.select().where(CatalogItem.merchant == merchant_id,
                                       CatalogItem.status == "on_shelf")
    if kind is not None:
        query = query.where(CatalogItem.kind == kind)
    if category:
        query = query.where(CatalogItem.category == category)
    if min_price_fen is not None:
        query = query.where(CatalogItem.price_fen >= min_price_fen)
    if max_price_fen is not None:
        query = query.where(CatalogItem.price_fen <= max_price_fen)
    if last:
        query = query.where(after(columns, last, descending))
    order = [c.desc() if descending else c.asc() for c in columns]
    rows = list(query.order_by(*order).limit(limit + 1))
    rows, next_cursor = keyset_page(rows, limit, lambda i: [getattr(i, c.name) for c in columns])
    return {"items": [item_view(i) for i in rows], "next_cursor": next_cursor}


def get_item_for_sale(item_id: int) -> CatalogItem:
    """An item consumers can buy now (on the shelf, merchant approved), or ITEM_NOT_FOUND."""
    item = CatalogItem.get_or_none(CatalogItem.id == item_id, CatalogItem.status == "on_shelf")
    if item is None or item.merchant.status != "approved":
        raise ItemNotFound(details={"item_id": item_id})
    return item


def staff_item_view(item: CatalogItem) -> dict:
    """An item as its merchant's staff and operators see it: the consumer view plus its
    status, the changes waiting for review and the last review note."""
    pending = json.loads(item.pending_changes or "{}")
    if "images" in pending:
        pending["image_urls"] = [public_path(i) for i in json.loads(pending.pop("images"))]
    return {**item_view(item), "status": item.status, "review_pending": item.review_pending,
            "pending_changes": pending, "review_note": item.review_note,
            "images": json.loads(item.images or "[]"),
            "created_at": to_local_iso(item.created_at),
            "updated_at": to_local_iso(item.updated_at)}


def list_staff_items(merchant_id: int | None, *, status: str | None = None,
                     kind: str | None = None, review_pending: bool | None = None,
                     q: str | None = None, cursor: str | None = None, limit: int = 20) -> dict:
    """Items in any status, newest first: a merchant's own (``merchant_id``) or, for
    operators (``None``), every merchant's."""
    if status is not None and status not in ITEM_STATUSES:
        raise ValidationFailed("商品状态不正确", details={"field": "status",
                                                       "choices": list(ITEM_STATUSES)})
    if kind is not None and kind not in ITEM_KINDS:
        raise ValidationFailed("商品类型不正确", details={"field": "kind", "choices": list(ITEM_KINDS)})
    query = CatalogItem.select()
    if merchant_id is not None:
        query = query.where(CatalogItem.merchant == merchant_id)
    if status is not None:
        query = query.where(CatalogItem.status == status)
    if kind is not None:
        query = query.where(CatalogItem.kind == kind)
    if review_pending is not None:
        query = query.where(CatalogItem.review_pending == review_pending)
    if q:
        query = query.where(CatalogItem.name.contains(q))
    rows, next_cursor = newest_first(query, CatalogItem.id, cursor, limit)
    return {"items": [staff_item_view(i) for i in rows], "next_cursor": next_cursor}
