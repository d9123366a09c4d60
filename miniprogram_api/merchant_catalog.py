"""Merchant staff manage the catalog: clerks may read it; owners and managers edit it."""
from __future__ import annotations

from alliance.catalog import services as catalog
from alliance.catalog.queries import list_staff_items, staff_item_view
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated, idempotent


class ItemsHandler(StaffHandler):
    @authenticated()
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(
            list_staff_items, membership.merchant_id, status=self.query("status"),
            kind=self.query("kind"), q=self.query("q"), cursor=self.query("cursor"),
            limit=limit))

    @authenticated()
    @idempotent
    async def post(self):
        body = self.json_body()
        fields = {k: body[k] for k in catalog.EDITABLE if k in body}
        submit = body.get("submit") is True
        membership = await self.membership("merchant:catalog")
        item = await self.run_sync(catalog.create_item, membership.merchant_id,
                                   self.principal.id, fields, body.get("stock", 0), submit)
        self.write_json(staff_item_view(item), 201)


class ItemHandler(StaffHandler):
    @authenticated()
    async def get(self, item_id: str):
        membership = await self.membership("merchant:read")
        item = await self.run_sync(catalog.get_own_item, membership.merchant_id, int(item_id))
        self.write_json(staff_item_view(item))

    @authenticated()
    async def patch(self, item_id: str):
        changes = self.json_body()
        membership = await self.membership("merchant:catalog")
        item = await self.run_sync(catalog.update_item, membership.merchant_id, int(item_id),
                                   self.principal.id, changes)
        self.write_json(staff_item_view(item))


ACTIONS = {"submit": catalog.submit_item, "on-shelf": catalog.put_on_shelf,
           "off-shelf": catalog.take_off_shelf}


class ItemActionHandler(StaffHandler):
    def initialize(self, action: str) -> None:
        self.action = ACTIONS[action]

    @authenticated()
    async def post(self, item_id: str):
        membership = await self.membership("merchant:catalog")
        item = await self.run_sync(self.action, membership.merchant_id, int(item_id))
        self.write_json(staff_item_view(item))


class StockHandler(StaffHandler):
    @authenticated()
    async def post(self, item_id: str):
        delta = v.integer(self.json_body(), "delta")
        membership = await self.membership("merchant:catalog")
        item = await self.run_sync(catalog.adjust_stock, membership.merchant_id, int(item_id),
                                   delta)
        self.write_json(staff_item_view(item))


def routes() -> list:
    one = r"/api/v1/merchant/items/([0-9]{1,10})"
    return [
        (r"/api/v1/merchant/items", ItemsHandler),
        (one, ItemHandler),
        *[(f"{one}/{action}", ItemActionHandler, {"action": action}) for action in ACTIONS],
        (f"{one}/stock", StockHandler),
    ]


STATUSES = ["draft", "pending_review", "on_shelf", "off_shelf", "rejected", "taken_down"]


def _schemas() -> dict:
    from server.openapi import BOOL, STR, TIME, obj, ref

    return {"StaffItem": {"allOf": [ref("Item"), obj({
        "status": {"type": "string", "enum": STATUSES}, "review_pending": BOOL,
        "pending_changes": {"type": "object", "description": "name, image_urls or price_fen "
                                                             "waiting for review"},
        "review_note": STR, "images": {"type": "array", "items": STR},
        "created_at": TIME, "updated_at": TIME})]}}


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import (BOOL, FEN, INT, PAGING, STR, list_of, obj, op, path_param,
                                query_param, ref)

    tags = ["merchant catalog"]
    statuses = STATUSES
    fields = {"kind": {"type": "string", "enum": ["goods", "service"]}, "name": STR,
              "category": STR, "price_fen": FEN,
              "original_price_fen": {"type": "integer", "nullable": True}, "description": STR,
              "images": {"type": "array", "items": STR,
                         "description": "upload ids (purpose item_image), at most 9"}}
    item = ref("StaffItem")
    one = [path_param("id", INT), *MERCHANT_CHOICE]
    errors = (400, 403, 404, 409)
    paths = {
        "/api/v1/merchant/items": {
            "get": op("The merchant's items in any status, newest first", tags=tags,
                      ok=list_of(item), errors=(400, 403),
                      params=[query_param("status", {"type": "string", "enum": statuses}),
                              query_param("kind", STR), query_param("q", STR),
                              *MERCHANT_CHOICE, *PAGING]),
            "post": op("Create an item (a draft; with submit=true straight to review)",
                       tags=tags, status=201, idempotent=True, ok=item, errors=(400, 403),
                       params=MERCHANT_CHOICE,
                       body=obj({**fields, "stock": INT, "submit": BOOL},
                                ["kind", "name", "price_fen"]))},
        "/api/v1/merchant/items/{id}": {
            "get": op("One of the merchant's items", tags=tags, ok=item, params=one,
                      errors=(400, 403, 404)),
            "patch": op("Edit an item: for an item already approved, a new name, images or "
                        "price wait for review while it keeps selling", tags=tags,
                        body=obj(fields), ok=item, params=one, errors=errors)},
        "/api/v1/merchant/items/{id}/stock": {"post": op(
            "Add or remove stock (never below 0)", tags=tags, ok=item, params=one,
            body=obj({"delta": INT}, ["delta"]), errors=errors)},
    }
    for action, summary in (("submit", "Send a draft, rejected or taken-down item to review"),
                            ("on-shelf", "Sell an item that is off the shelf again"),
                            ("off-shelf", "Take an item off the shelf")):
        paths[f"/api/v1/merchant/items/{{id}}/{action}"] = {"post": op(
            summary, tags=tags, ok=item, params=one, errors=errors)}
    return paths


OPENAPI = _openapi()
