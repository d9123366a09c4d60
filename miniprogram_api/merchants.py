"""Consumer browsing: merchants by industry, distance, popularity and name; a merchant's
detail and its goods and services. Open to anonymous visitors; a token, when sent, tells the
detail's sections (coupons a consumer can claim) who is looking."""
from __future__ import annotations

from alliance.campaigns.group_queries import item_group_buys
from alliance.campaigns.queries import item_campaign
from alliance.catalog import queries as catalog
from alliance.merchants.browse import cached_list_page, list_merchants
from alliance.merchants.industries import INDUSTRIES
from alliance.merchants.queries import cached_merchant_detail, merchant_detail
from server import validation as v
from server.base import BaseHandler, dumps


class BrowseHandler(BaseHandler):
    async def viewer_id(self) -> int | None:
        if not self.request.headers.get("Authorization"):
            return None
        return (await self.authenticate("user")).id

    def limit(self) -> int:
        return v.page_limit(self.query("limit"))

    def position(self) -> tuple[float | None, float | None]:
        return (v.query_float(self.query("lat"), "lat", minimum=-90, maximum=90),
                v.query_float(self.query("lng"), "lng", minimum=-180, maximum=180))


class MerchantListHandler(BrowseHandler):
    async def get(self):
        lat, lng = self.position()
        arguments = dict(industry=self.query("industry"), lat=lat, lng=lng,
                         q=v.string({"q": self.query("q")}, "q", required=False, max_length=64),
                         sort=self.query("sort"), cursor=self.query("cursor"),
                         limit=self.limit())
        # A nearby page the process can answer from memory needs no worker thread.
        result = cached_list_page(**arguments)
        if result is None:
            result = await self.run_sync(list_merchants, **arguments)
        self.write_json(result)


class MerchantDetailHandler(BrowseHandler):
    async def get(self, merchant_id: str):
        merchant_id, (lat, lng) = int(merchant_id), self.position()
        viewer = await self.viewer_id()
        # Anonymous views of a cached detail need no database, hence no worker thread.
        text = (None if viewer is not None
                else cached_merchant_detail(merchant_id, lat, lng, dumps))
        if text is None:
            text = dumps(await self.run_sync(merchant_detail, merchant_id, viewer, lat, lng))
        # Counted once the detail exists (an unknown id raised above): a dict increment,
        # flushed by server.app.start_traffic_flush.
        self.ctx.extras["views"].count(merchant_id, viewer is not None)
        self.write_json_text(text)


class MerchantItemsHandler(BrowseHandler):
    async def get(self, merchant_id: str):
        price = {name: v.query_int(self.query(name), name, default=None, minimum=0,
                                   maximum=2**31 - 1)
                 for name in ("min_price_fen", "max_price_fen")}
        result = await self.run_sync(
            catalog.list_items, int(merchant_id), kind=self.query("kind"),
            category=self.query("category"), sort=self.query("sort", "newest"),
            cursor=self.query("cursor"), limit=self.limit(), **price)
        self.write_json(result)


class ItemDetailHandler(BrowseHandler):
    async def get(self, item_id: str):
        def read():
            item = catalog.get_item_for_sale(int(item_id))
            return {**catalog.item_view(item), "campaign": item_campaign(item),
                    "group_buys": item_group_buys(item)}

        self.write_json(await self.run_sync(read))


class IndustriesHandler(BaseHandler):
    async def get(self):
        self.write_page({"items": [{"code": code, "name": name}
                                   for code, name in INDUSTRIES.items()]})


def routes() -> list:
    return [
        (r"/api/v1/industries", IndustriesHandler),
        (r"/api/v1/merchants", MerchantListHandler),
        (r"/api/v1/merchants/([0-9]{1,10})", MerchantDetailHandler),
        (r"/api/v1/merchants/([0-9]{1,10})/items", MerchantItemsHandler),
        (r"/api/v1/items/([0-9]{1,10})", ItemDetailHandler),
    ]


def _schemas() -> dict:
    from server.openapi import BOOL, FEN, INT, STR, obj, ref

    nullable_int = {"type": "integer", "nullable": True}
    rating = {"type": "number", "nullable": True,
              "description": "average review score 1-5; null until the first review"}
    return {
        "MerchantSummary": obj({
            "id": INT, "name": STR, "industry": {"type": "string", "enum": list(INDUSTRIES)},
            "industry_name": STR, "rating": rating, "rating_count": INT, "popularity": INT,
            "distance_m": {"type": "integer", "description": "to the nearest shop; only "
                                                             "when lat/lng were given"},
            "shop": obj({"id": INT, "name": STR, "address": STR,
                         "logo_url": {"type": "string", "nullable": True}})},
            ["id", "name", "industry", "rating"]),
        "Shop": obj({
            "id": INT, "merchant_id": INT, "name": STR, "intro": STR, "address": STR,
            "logo_url": {"type": "string", "nullable": True},
            "lat": {"type": "number"}, "lng": {"type": "number"},
            "coordinate_system": {"type": "string", "enum": ["gcj02"]}, "phone": STR,
            "opening_hours": {"type": "object", "description": 'e.g. {"mon": [["09:00", '
                              '"21:00"]]}; a missing day is closed; end before start runs '
                              'past midnight'},
            "open_now": BOOL, "status": {"type": "string", "enum": ["open", "closed"]},
            "photo_urls": {"type": "array", "items": STR}, "distance_m": INT}),
        "MerchantDetail": {"allOf": [ref("MerchantSummary"), obj({
            "intro": STR, "shops": {"type": "array", "items": ref("Shop")},
            "coupon_templates": {"type": "array", "items": {"type": "object"},
                                 "description": "coupon templates a consumer can claim now"},
            "campaigns": {"type": "array", "items": ref("Campaign"),
                          "description": "campaigns running at the merchant now, with its "
                                         "items' campaign prices"},
            "member_day": {"allOf": [ref("MemberDay")], "nullable": True,
                           "description": "the merchant's member day (会员日) for its members: "
                                          "the next one and what it gives; null: none ahead"}},
            ["shops", "coupon_templates"])]},
        "Item": obj({
            "id": INT, "merchant_id": INT, "kind": {"type": "string", "enum": ["goods", "service"]},
            "name": STR, "category": STR, "price_fen": FEN,
            "original_price_fen": {**nullable_int, "description": "money in fen"},
            "stock": INT, "sales_count": INT, "description": STR,
            "image_urls": {"type": "array", "items": STR},
            "campaign": {**obj({"campaign_id": INT, "campaign_price_fen": FEN,
                                "remaining_stock": INT, "per_user_limit": nullable_int,
                                "ends_at": {"type": "string", "format": "date-time"}}),
                         "nullable": True,
                         "description": "item detail only: the flash sale running now"},
            "group_buys": {"type": "array", "description": "item detail only: the group buys "
                           "running now (start a group with POST /api/v1/orders group_buy."
                           "campaign_id, or join one of GET /api/v1/campaigns/{id}/groups)",
                           "items": obj({"campaign_id": INT, "group_price_fen": FEN,
                                         "group_size": INT, "group_hours": INT,
                                         "per_user_limit": nullable_int,
                                         "ends_at": {"type": "string", "format": "date-time"},
                                         "open_groups": {**INT, "description": "groups that "
                                                         "may be joined now"}})}},
            ["id", "name", "kind", "price_fen", "stock"]),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["browse"]
    position = [query_param("lat", {"type": "number"}, "GCJ-02 latitude"),
                query_param("lng", {"type": "number"}, "GCJ-02 longitude")]
    return {
        "/api/v1/industries": {"get": op("Industries (codes and names)", tags=tags, auth=False,
                                          ok=list_of(obj({"code": STR, "name": STR})),
                                          params=PAGING, errors=(400,))},
        "/api/v1/merchants": {"get": op(
            "Approved merchants: by industry, nearest first, popular, name search", tags=tags,
            auth=False, ok=list_of(ref("MerchantSummary")), errors=(400,),
            params=[query_param("industry", {"type": "string", "enum": list(INDUSTRIES)}),
                    *position, query_param("q", STR, "part of the merchant's name"),
                    query_param("sort", {"type": "string", "enum": ["distance", "popular"]},
                                "default: distance when lat/lng are given, else popular"),
                    *PAGING],
            description="Nearest first lists merchants with a shop within 100 km, by the "
                        "distance to their nearest shop.")},
        "/api/v1/merchants/{id}": {"get": op(
            "A merchant's detail: shops (nearest first with lat/lng) and current offers",
            tags=tags, auth=False, ok=ref("MerchantDetail"), errors=(404,),
            params=[path_param("id", INT), *position])},
        "/api/v1/merchants/{id}/items": {"get": op(
            "A merchant's goods and services on the shelf", tags=tags, auth=False,
            ok=list_of(ref("Item")), errors=(400, 404),
            params=[path_param("id", INT),
                    query_param("kind", {"type": "string", "enum": ["goods", "service"]}),
                    query_param("category", STR),
                    query_param("min_price_fen", INT), query_param("max_price_fen", INT),
                    query_param("sort", {"type": "string", "enum": list(catalog.ITEM_SORTS)},
                                "default: newest"), *PAGING])},
        "/api/v1/items/{id}": {"get": op("One item on the shelf", tags=tags, auth=False,
                                         ok=ref("Item"), errors=(404,),
                                         params=[path_param("id", INT)])},
    }


OPENAPI = _openapi()
