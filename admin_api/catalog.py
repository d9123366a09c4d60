"""The operators' catalog review: the queue, approve and reject, take down."""
from __future__ import annotations

from alliance.catalog import review
from alliance.catalog.queries import list_staff_items, staff_item_view
from server import validation as v
from server.base import BaseHandler, authenticated

PERMISSION = "admin:merchants"


class AdminItemsHandler(BaseHandler):
    @authenticated(PERMISSION, kind="operator")
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        merchant_id = v.query_int(self.query("merchant_id"), "merchant_id", default=None,
                                  minimum=1, maximum=2**31 - 1)
        review_flag = v.one_of(self.query("review", "all"), "review", ("all", "pending"))
        self.write_json(await self.run_sync(
            list_staff_items, merchant_id, status=self.query("status"), kind=self.query("kind"),
            review_pending=True if review_flag == "pending" else None, q=self.query("q"),
            cursor=self.query("cursor"), limit=limit))


class AdminItemActionHandler(BaseHandler):
    def initialize(self, action: str) -> None:
        self.action = action

    @authenticated(PERMISSION, kind="operator")
    async def post(self, item_id: str):
        body = self.json_body()
        ctx, operator = self.ctx, self.principal.id
        if self.action == "approve":
            item = await self.run_sync(review.approve_item, ctx.notifier, operator, int(item_id))
        else:
            reason = v.string(body, "reason", required=False, max_length=500, default="")
            act = review.reject_item if self.action == "reject" else review.take_down_item
            item = await self.run_sync(act, ctx.notifier, operator, int(item_id), reason)
        self.write_json(staff_item_view(item))


def routes() -> list:
    return [
        (r"/api/admin/v1/items", AdminItemsHandler),
        *[(rf"/api/admin/v1/items/([0-9]{{1,10}})/{action}", AdminItemActionHandler,
           {"action": action}) for action in ("approve", "reject", "take-down")],
    ]


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["admin catalog"]
    item = ref("StaffItem")
    reason = obj({"reason": {"type": "string", "maxLength": 500}})
    one = [path_param("id", INT)]
    errors = (403, 404, 409)
    return {
        "/api/admin/v1/items": {"get": op(
            "Items of every merchant, newest first; review=pending is the review queue",
            tags=tags, ok=list_of(item), errors=(400, 403),
            params=[query_param("review", {"type": "string", "enum": ["all", "pending"]}),
                    query_param("merchant_id", INT), query_param("status", STR),
                    query_param("kind", STR), query_param("q", STR), *PAGING])},
        "/api/admin/v1/items/{id}/approve": {"post": op(
            "Approve a new item (on the shelf) or its pending name/images/price", tags=tags,
            ok=item, params=one, errors=errors)},
        "/api/admin/v1/items/{id}/reject": {"post": op(
            "Reject a new item, or drop its pending changes (reason required)", tags=tags,
            body=reason, ok=item, params=one, errors=(400, *errors))},
        "/api/admin/v1/items/{id}/take-down": {"post": op(
            "Take an item down for a violation (reason required)", tags=tags, body=reason,
            ok=item, params=one, errors=(400, *errors))},
    }


OPENAPI = _openapi()
