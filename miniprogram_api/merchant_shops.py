"""Merchant staff manage their shops (and the merchant's public introduction)."""
from __future__ import annotations

from alliance.merchants.models import Shop
from alliance.merchants.queries import get_shop
from alliance.merchants.shops import EDITABLE, create_shop, staff_shop_view, update_shop
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server.base import authenticated, idempotent


def _fields(body: dict) -> dict:
    return {k: body[k] for k in EDITABLE if k in body}


class ShopsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")

        def shops():
            rows = Shop.select().where(Shop.merchant == membership.merchant_id).order_by(Shop.id)
            return [staff_shop_view(s) for s in rows]

        self.write_page({"items": await self.run_sync(shops)})

    @authenticated()
    @idempotent
    async def post(self):
        fields = _fields(self.json_body())
        membership = await self.membership("merchant:catalog")
        required = {k: fields.pop(k, None) for k in ("name", "address", "lat", "lng")}
        shop = await self.run_sync(create_shop, membership.merchant_id, self.principal.id,
                                   **required, **fields)
        self.write_json(staff_shop_view(shop), 201)


class ShopHandler(StaffHandler):
    @authenticated()
    async def get(self, shop_id: str):
        membership = await self.membership("merchant:read")
        shop = await self.run_sync(get_shop, int(shop_id), membership.merchant_id)
        self.write_json(staff_shop_view(shop))

    @authenticated()
    async def patch(self, shop_id: str):
        changes = self.json_body()
        membership = await self.membership("merchant:catalog")
        shop = await self.run_sync(update_shop, membership.merchant_id, int(shop_id),
                                   self.principal.id, changes)
        self.write_json(staff_shop_view(shop))


def routes() -> list:
    return [(r"/api/v1/merchant/shops", ShopsHandler),
            (r"/api/v1/merchant/shops/([0-9]{1,10})", ShopHandler)]


def _schemas() -> dict:
    from server.openapi import BOOL, STR, obj, ref

    return {
        "ShopFields": obj({
            "name": STR, "address": STR, "lat": {"type": "number"}, "lng": {"type": "number"},
            "phone": STR, "intro": STR, "opening_hours": {"type": "object"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "logo_upload": {"type": "string", "nullable": True,
                            "description": "upload id (purpose logo); null removes it"},
            "photos": {"type": "array", "items": STR,
                       "description": "upload ids (purpose shop_photo), at most 9"}},
            description="coordinates are GCJ-02"),
        "StaffShop": {"allOf": [ref("Shop"), obj({
            "listed": BOOL, "logo_upload": {"type": "string", "nullable": True},
            "photos": {"type": "array", "items": STR}})]},
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, list_of, op, path_param, ref

    tags = ["merchant shops"]
    fields, staff_shop = ref("ShopFields"), ref("StaffShop")
    errors = (400, 403, 404)
    one = [path_param("id", INT), *MERCHANT_CHOICE]
    return {
        "/api/v1/merchant/shops": {
            "get": op("The merchant's shops", tags=tags, ok=list_of(staff_shop),
                      params=[*MERCHANT_CHOICE, *PAGING], errors=(400, 403)),
            "post": op("Open a shop (name, address, lat, lng required)", tags=tags, status=201,
                       body=fields, ok=staff_shop, params=MERCHANT_CHOICE, errors=errors,
                       idempotent=True)},
        "/api/v1/merchant/shops/{id}": {
            "get": op("One of the merchant's shops", tags=tags, ok=staff_shop, params=one,
                      errors=errors),
            "patch": op("Change some of a shop's details", tags=tags, body=fields,
                        ok=staff_shop, params=one, errors=errors)},
    }


OPENAPI = _openapi()
