"""Goods side by side: two to four items on the shelf, the figures a consumer weighs, and
which of them differ."""
from __future__ import annotations

from peewee import fn

from alliance.catalog.models import CatalogItem
from alliance.catalog.queries import ItemNotFound
from alliance.catalog.search import Filters, filtered, list_views
from alliance.orders.aftersale_models import Review

MIN_ITEMS, MAX_ITEMS = 2, 4
# At most this many units left is "low" (the exact stock is not what a comparison is about).
LOW_STOCK = 5
# The fields compared, in the order ``differences`` names them.
COMPARED = ("price_fen", "campaign_price_fen", "sales_count", "rating", "review_count",
            "stock_state", "merchant_id", "industry", "kind", "category")


def stock_state(stock: int) -> str:
    """``sold_out``, ``low`` (at most LOW_STOCK) or ``in_stock``."""
    if stock <= 0:
        return "sold_out"
    return "low" if stock <= LOW_STOCK else "in_stock"


def _ratings(item_ids: list[int]) -> dict[int, tuple[float, int]]:
    """item id -> (average review score, one decimal; reviews) of the reviewed ones."""
    rows = (Review.select(Review.item_id, fn.AVG(Review.rating), fn.COUNT(Review.id))
            .where(Review.item_id.in_(item_ids)).group_by(Review.item_id).tuples())
    return {item_id: (round(float(average), 1), count) for item_id, average, count in rows}


def compare_items(item_ids: list[int]) -> dict:
    """The items (on the shelf of approved merchants) in the order asked, and the names of
    the ``COMPARED`` fields whose values differ; ITEM_NOT_FOUND names the ids that are not
    for sale."""
    rows = {item.id: item for item in filtered(Filters())
            .where(CatalogItem.id.in_(item_ids))}
    missing = [item_id for item_id in item_ids if item_id not in rows]
    if missing:
        raise ItemNotFound(details={"item_ids": missing})
    ordered = [rows[item_id] for item_id in item_ids]
    ratings = _ratings(item_ids)
    entries = []
    for item, view in zip(ordered, list_views(ordered)):
        rating, reviews = ratings.get(item.id, (None, 0))
        campaign = view["campaign"]
        entries.append({
            "id": item.id, "name": item.name, "kind": item.kind, "category": item.category,
            "image_urls": view["image_urls"], "price_fen": item.price_fen,
            "original_price_fen": item.original_price_fen,
            "campaign_price_fen": campaign["campaign_price_fen"] if campaign else None,
            "campaign": campaign, "sales_count": item.sales_count, "rating": rating,
            "review_count": reviews, "stock_state": stock_state(item.stock),
            "merchant_id": item.merchant_id, "industry": item.merchant_industry,
            "industry_name": view["merchant"]["industry_name"], "merchant": view["merchant"]})
    differences = [name for name in COMPARED if len({e[name] for e in entries}) > 1]
    return {"items": entries, "differences": differences}
