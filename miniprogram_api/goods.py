"""Goods and services across the alliance: the search with its filters and sorts, the
comparison of a few items side by side, and the hot goods. Open to anonymous visitors."""
from __future__ import annotations

import re

from alliance.analytics.hot import MAX_HOT, cached_hot_items, hot_items
from alliance.catalog.compare import MAX_ITEMS, MIN_ITEMS, compare_items
from alliance.catalog.search import MAX_RADIUS_M, SORTS, Filters, search_items
from alliance.errors import ValidationFailed
from alliance.merchants.industries import INDUSTRIES
from miniprogram_api.merchants import BrowseHandler
from server import validation as v

ID_MAX = 2**31 - 1
_IDS = re.compile(r"[0-9]{1,10}(,[0-9]{1,10})*")


class ItemSearchHandler(BrowseHandler):
    async def get(self):
        lat, lng = self.position()
        text = {name: v.string({name: self.query(name)}, name, required=False, max_length=size)
                for name, size in (("q", 64), ("category", 32))}
        numbers = {name: v.query_int(self.query(name), name, default=None, minimum=minimum,
                                     maximum=maximum)
                   for name, minimum, maximum in (("min_price_fen", 0, ID_MAX),
                                                  ("max_price_fen", 0, ID_MAX),
                                                  ("merchant_id", 1, ID_MAX),
                                                  ("radius_m", 1, int(MAX_RADIUS_M)))}
        filters = Filters(industry=self.query("industry"), kind=self.query("kind"),
                          min_price_fen=numbers["min_price_fen"],
                          max_price_fen=numbers["max_price_fen"],
                          merchant_id=numbers["merchant_id"], **text)
        self.write_json(await self.run_sync(
            search_items, filters, lat=lat, lng=lng, radius_m=numbers["radius_m"],
            sort=self.query("sort"), cursor=self.query("cursor"), limit=self.limit()))


class ItemCompareHandler(BrowseHandler):
    async def get(self):
        raw = self.query("ids") or ""
        if not _IDS.fullmatch(raw):
            raise ValidationFailed("请提供要对比的商品编号，用逗号分隔",
                                   details={"field": "ids", "issue": "format"})
        ids = [int(i) for i in raw.split(",")]
        if not MIN_ITEMS <= len(ids) <= MAX_ITEMS:
            raise ValidationFailed(f"请选择 {MIN_ITEMS} 到 {MAX_ITEMS} 件商品进行对比",
                                   details={"field": "ids", "issue": "count",
                                            "minimum": MIN_ITEMS, "maximum": MAX_ITEMS})
        if len(set(ids)) != len(ids):
            raise ValidationFailed("对比的商品不能重复", details={"field": "ids",
                                                                "issue": "duplicate"})
        self.write_json(await self.run_sync(compare_items, ids))


class HotItemsHandler(BrowseHandler):
    async def get(self):
        lat, lng = self.position()
        arguments = dict(industry=self.query("industry"), lat=lat, lng=lng,
                         limit=v.query_int(self.query("limit"), "limit", default=20, minimum=1,
                                           maximum=MAX_HOT))
        # What this process read less than a minute ago needs no worker thread.
        result = cached_hot_items(**arguments)
        if result is None:
            result = await self.run_sync(hot_items, **arguments)
        self.write_json(result)


def routes() -> list:
    return [
        (r"/api/v1/items", ItemSearchHandler),
        (r"/api/v1/items/compare", ItemCompareHandler),
        (r"/api/v1/items/hot", HotItemsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, obj, ref

    merchant = obj({"id": INT, "name": STR, "industry": {"type": "string",
                                                          "enum": list(INDUSTRIES)},
                    "industry_name": STR,
                    "logo_url": {"type": "string", "nullable": True,
                                 "description": "of its nearest listed shop, else its first"}})
    campaign_price = {"type": "integer", "nullable": True,
                      "description": "money in fen: the flash sale price running now"}
    return {
        "ItemMerchant": merchant,
        "ItemListed": {"allOf": [ref("Item"), obj({
            "merchant": ref("ItemMerchant"),
            "distance_m": {"type": "integer", "description": "to its merchant's nearest "
                                                             "listed shop; only with lat/lng"}},
            ["merchant", "campaign"])]},
        "HotItem": {"allOf": [ref("ItemListed"), obj({
            "rank": INT, "units_7d": {**INT, "description": "units paid in the last 7 days "
                                                            "(0: a best seller of all time)"}},
            ["rank", "units_7d"])]},
        "ItemComparison": obj({
            "items": {"type": "array", "items": obj({
                "id": INT, "name": STR, "kind": {"type": "string", "enum": ["goods", "service"]},
                "category": STR, "image_urls": {"type": "array", "items": STR},
                "price_fen": FEN, "original_price_fen": {"type": "integer", "nullable": True},
                "campaign_price_fen": campaign_price,
                "campaign": {"type": "object", "nullable": True},
                "sales_count": INT,
                "rating": {"type": "number", "nullable": True,
                           "description": "average review score 1-5; null without reviews"},
                "review_count": INT,
                "stock_state": {"type": "string", "enum": ["in_stock", "low", "sold_out"],
                                "description": "low: 5 units or fewer"},
                "merchant_id": INT, "industry": STR, "industry_name": STR,
                "merchant": ref("ItemMerchant")})},
            "differences": {"type": "array", "items": {"type": "string", "enum": [
                "price_fen", "campaign_price_fen", "sales_count", "rating", "review_count",
                "stock_state", "merchant_id", "industry", "kind", "category"]},
                "description": "the compared fields whose values differ"}},
            ["items", "differences"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, op, query_param, ref

    tags = ["browse"]
    industry = query_param("industry", {"type": "string", "enum": list(INDUSTRIES)})
    position = [query_param("lat", {"type": "number"}, "GCJ-02 latitude"),
                query_param("lng", {"type": "number"}, "GCJ-02 longitude")]
    return {
        "/api/v1/items": {"get": op(
            "Goods and services across the alliance: filters and sorts", tags=tags, auth=False,
            ok=list_of(ref("ItemListed")), errors=(400,),
            params=[query_param("q", STR, "part of the item's name"), industry,
                    query_param("kind", {"type": "string", "enum": ["goods", "service"]}),
                    query_param("category", STR),
                    query_param("min_price_fen", INT), query_param("max_price_fen", INT),
                    query_param("merchant_id", INT), *position,
                    query_param("radius_m", INT, "with lat/lng: merchants with a listed shop "
                                "this near (default 5000, at most 100000)"),
                    query_param("sort", {"type": "string", "enum": list(SORTS)},
                                "default: sales; distance needs lat/lng"), *PAGING],
            description="Items on the shelf of approved merchants, each with its running "
                        "flash sale (`campaign`) and its merchant. By distance: the nearest "
                        "merchants' items first, each merchant's best sellers first.")},
        "/api/v1/items/compare": {"get": op(
            "Two to four items side by side, and which fields differ", tags=tags, auth=False,
            ok=ref("ItemComparison"), errors=(400, 404),
            params=[{**query_param("ids", STR, "2 to 4 distinct item ids, comma-separated"),
                     "required": True}],
            description="404 ITEM_NOT_FOUND (details.item_ids) when an item is not for sale.")},
        "/api/v1/items/hot": {"get": op(
            "Hot goods: most units paid in the last 7 days", tags=tags, auth=False,
            ok=list_of(ref("HotItem")), errors=(400,),
            params=[industry, *position,
                    query_param("limit", INT, "1 to 50, default 20")],
            description="In stock, on the shelf; with lat/lng, of merchants with a listed "
                        "shop within about 30 km. Topped up by all-time best sellers when "
                        "the week is quiet. Each process keeps a list for up to a minute.")},
    }


OPENAPI = _openapi()
