"""The consumer's after-sales: return/refund requests, reviews and complaints."""
from __future__ import annotations

from alliance.errors import ValidationFailed
from alliance.orders import aftersales, feedback
from alliance.orders.aftersale_models import AFTER_SALE_KINDS, AFTER_SALE_STATUSES
from alliance.orders.queries import after_sale_view, list_after_sales
from miniprogram_api.orders import ORDER_NO, OrderHandlerBase
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

ID_MAX = 2**31 - 1


def parse_lines(body: dict) -> dict[int, int]:
    """``lines``: [{"line_id", "quantity"}] -> {line_id: quantity}."""
    raw = body.get("lines") or []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise ValidationFailed("退货商品格式不正确", details={"field": "lines"})
    return {v.integer(x, "line_id", minimum=1, maximum=ID_MAX):
            v.integer(x, "quantity", minimum=1, maximum=999) for x in raw}


def photos(body: dict) -> list:
    value = body.get("photos") or []
    if not isinstance(value, list):
        raise ValidationFailed("图片格式不正确", details={"field": "photos"})
    return value


class AfterSaleBase(OrderHandlerBase):
    def view(self, request) -> dict:
        return after_sale_view(request, self.ctx.settings.secret_key)


class OrderAfterSalesHandler(AfterSaleBase):
    @authenticated("self:write")
    @idempotent
    async def post(self, order_no: str):
        body = self.json_body()
        kind = v.one_of(body.get("kind", "refund"), "kind", AFTER_SALE_KINDS)
        reason = v.string(body, "reason", max_length=255)
        amount = v.integer(body, "amount_fen", required=False, minimum=1, maximum=10**12)
        lines, pictures = parse_lines(body), photos(body)

        def open_request():
            return self.view(aftersales.request_after_sale(
                self.principal.id, order_no, kind=kind, reason=reason, amount_fen=amount,
                photos=pictures, lines=lines))

        self.write_json(await self.run_sync(open_request), 201)


class AfterSalesHandler(AfterSaleBase):
    @authenticated("self:read")
    async def get(self):
        self.write_json(await self.run_sync(
            list_after_sales, self.ctx.settings.secret_key, user_id=self.principal.id,
            status=self.query("status"), cursor=self.query("cursor"), limit=v.page_limit(self.query("limit"))))


class AfterSaleHandler(AfterSaleBase):
    @authenticated("self:read")
    async def get(self, after_sale_id: str):
        def read():
            return self.view(aftersales.get_own_after_sale(self.principal.id, int(after_sale_id)))

        self.write_json(await self.run_sync(read))


class AfterSaleActionHandler(AfterSaleBase):
    """``return-shipment`` {carrier, tracking_no}, ``arbitration`` {reason}, ``withdrawal``."""

    def initialize(self, action: str) -> None:
        self.action = action

    @authenticated("self:write")
    async def post(self, after_sale_id: str):
        body, user_id, request_id = self.json_body(), self.principal.id, int(after_sale_id)
        if self.action == "return-shipment":
            carrier = v.string(body, "carrier", max_length=32)
            tracking = v.string(body, "tracking_no", max_length=64)
            work = lambda: aftersales.send_return(user_id, request_id, carrier, tracking)  # noqa: E731
        elif self.action == "arbitration":
            reason = v.string(body, "reason", max_length=255)
            work = lambda: aftersales.escalate(user_id, request_id, reason)  # noqa: E731
        else:
            work = lambda: aftersales.withdraw(user_id, request_id)  # noqa: E731
        self.write_json(await self.run_sync(lambda: self.view(work())))


class OrderReviewsHandler(OrderHandlerBase):
    @authenticated("self:write")
    @idempotent
    async def post(self, order_no: str):
        body = self.json_body()
        line_id = v.integer(body, "line_id", minimum=1, maximum=ID_MAX)
        rating = v.integer(body, "rating", minimum=1, maximum=5)
        content = v.string(body, "content", required=False, max_length=1000, default="")
        pictures = photos(body)

        def review():
            return feedback.review_view(feedback.add_review(
                self.principal.id, order_no, line_id, rating, content, pictures))

        self.write_json(await self.run_sync(review), 201)


class MerchantReviewsHandler(BaseHandler):
    async def get(self, merchant_id: str):
        item_id = v.query_int(self.query("item_id"), "item_id", default=None, minimum=1,
                              maximum=ID_MAX)
        self.write_json(await self.run_sync(feedback.list_reviews, int(merchant_id), item_id,
                                            self.query("cursor"), v.page_limit(self.query("limit"))))


class ComplaintsHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        self.write_json(await self.run_sync(feedback.list_complaints, user_id=self.principal.id,
                                            cursor=self.query("cursor"), limit=v.page_limit(self.query("limit"))))

    @authenticated("self:write")
    @idempotent
    async def post(self):
        body = self.json_body()
        fields = {"category": v.one_of(body.get("category"), "category",
                                       feedback.COMPLAINT_CATEGORIES),
                  "content": v.string(body, "content", max_length=2000),
                  "order_no": v.string(body, "order_no", required=False, max_length=32),
                  "merchant_id": v.integer(body, "merchant_id", required=False, minimum=1,
                                           maximum=ID_MAX),
                  "photos": photos(body)}

        def complain():
            return feedback.complaint_view(feedback.file_complaint(self.principal.id, **fields))

        self.write_json(await self.run_sync(complain), 201)


def routes() -> list:
    return [
        (rf"/api/v1/orders/{ORDER_NO}/after-sales", OrderAfterSalesHandler),
        (rf"/api/v1/orders/{ORDER_NO}/reviews", OrderReviewsHandler),
        (r"/api/v1/after-sales", AfterSalesHandler),
        (r"/api/v1/after-sales/([0-9]{1,10})", AfterSaleHandler),
        *[(rf"/api/v1/after-sales/([0-9]{{1,10}})/{action}", AfterSaleActionHandler,
           {"action": action}) for action in ("return-shipment", "arbitration", "withdrawal")],
        (r"/api/v1/merchants/([0-9]{1,10})/reviews", MerchantReviewsHandler),
        (r"/api/v1/complaints", ComplaintsHandler),
    ]


def _schemas() -> dict:
    from server.openapi import FEN, INT, STR, TIME, obj

    nullable_time = {**TIME, "nullable": True}
    return {
        "AfterSale": obj({
            "id": INT, "order_no": STR, "kind": {"type": "string", "enum": list(AFTER_SALE_KINDS)},
            "status": {"type": "string", "enum": list(AFTER_SALE_STATUSES)}, "amount_fen": FEN,
            "reason": STR, "photo_urls": {"type": "array", "items": STR,
                                          "description": "signed, valid 5 minutes"},
            "lines": {"type": "object", "description": "{line_id: quantity returned}"},
            "return_carrier": STR, "return_tracking_no": STR, "merchant_note": STR,
            "decided_at": nullable_time, "arbitration_reason": STR, "arbitration_note": STR,
            "arbitrated_at": nullable_time, "created_at": TIME, "updated_at": TIME}),
        "Review": obj({"id": INT, "merchant_id": INT, "item_id": INT, "order_line_id": INT,
                       "rating": {**INT, "minimum": 1, "maximum": 5}, "content": STR,
                       "photo_urls": {"type": "array", "items": STR}, "reply": STR,
                       "replied_at": nullable_time, "created_at": TIME}),
        "Complaint": obj({"id": INT, "merchant_id": {**INT, "nullable": True, "description":
                                                     "null: a suggestion about the platform"},
                          "order_id": {**INT, "nullable": True},
                          "category": {"type": "string", "enum": list(feedback.COMPLAINT_CATEGORIES)},
                          "content": STR, "photo_count": INT,
                          "status": {"type": "string", "enum": ["open", "resolved", "dismissed"]},
                          "resolution": STR, "created_at": TIME, "resolved_at": nullable_time}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["after-sales"]
    order_no, request_id = [path_param("order_no", STR)], [path_param("id", INT)]
    upload_ids = {"type": "array", "maxItems": 9, "items": STR,
                  "description": "ids of the caller's uploads"}
    return {
        "/api/v1/orders/{order_no}/after-sales": {"post": op(
            "Ask for a refund, or to return goods for one", tags=tags, status=201,
            idempotent=True, params=order_no, ok=ref("AfterSale"), errors=(404, 409, 422),
            body=obj({"kind": {"type": "string", "enum": list(AFTER_SALE_KINDS)},
                      "reason": STR, "amount_fen": {**INT, "description": "default: all "
                                                    "that is left to refund"},
                      "photos": upload_ids,
                      "lines": {"type": "array", "items": obj({"line_id": INT, "quantity": INT})}},
                     ["reason"]),
            description="refund: the merchant decides; return_refund (shipped goods): the "
                        "merchant approves, the buyer sends the goods back, the merchant "
                        "confirms receipt and the refund starts. A rejected request may go to "
                        "the platform. Errors: AFTER_SALE_IN_PROGRESS, AFTER_SALE_WINDOW_CLOSED, "
                        "REFUND_AMOUNT_INVALID, ORDER_STATE_CONFLICT.")},
        "/api/v1/orders/{order_no}/reviews": {"post": op(
            "Review an item of a completed order (once per item)", tags=tags, status=201,
            idempotent=True, params=order_no, ok=ref("Review"), errors=(404, 409),
            body=obj({"line_id": INT, "rating": {**INT, "minimum": 1, "maximum": 5},
                      "content": STR, "photos": upload_ids}, ["line_id", "rating"]))},
        "/api/v1/after-sales": {"get": op(
            "My after-sale requests", tags=tags, ok=list_of(ref("AfterSale")),
            params=[query_param("status", STR), *PAGING], errors=(400,))},
        "/api/v1/after-sales/{id}": {"get": op(
            "One of my after-sale requests", tags=tags, ok=ref("AfterSale"), params=request_id,
            errors=(404,))},
        "/api/v1/after-sales/{id}/return-shipment": {"post": op(
            "I sent the goods back", tags=tags, ok=ref("AfterSale"), params=request_id,
            body=obj({"carrier": STR, "tracking_no": STR}, ["carrier", "tracking_no"]),
            errors=(404, 409))},
        "/api/v1/after-sales/{id}/arbitration": {"post": op(
            "Ask the platform to arbitrate a rejected request", tags=tags, ok=ref("AfterSale"),
            params=request_id, body=obj({"reason": STR}, ["reason"]), errors=(404, 409))},
        "/api/v1/after-sales/{id}/withdrawal": {"post": op(
            "Withdraw a request no refund has started for", tags=tags, ok=ref("AfterSale"),
            params=request_id, errors=(404, 409))},
        "/api/v1/merchants/{id}/reviews": {"get": op(
            "A merchant's reviews, newest first", tags=["browse"], auth=False,
            ok=list_of(ref("Review")), errors=(400, 404),
            params=[path_param("id", INT), query_param("item_id", INT), *PAGING])},
        "/api/v1/complaints": {
            "get": op("My complaints and suggestions, newest first", tags=tags,
                      ok=list_of(ref("Complaint")), params=PAGING, errors=(400,)),
            "post": op("Complain to the platform about a merchant or an order, or make a "
                       "suggestion", tags=tags,
                       status=201, idempotent=True, ok=ref("Complaint"), errors=(404,),
                       description="A complaint names an order (order_no) or a merchant "
                                   "(merchant_id); a suggestion (category suggestion) may name "
                                   "neither: it is about the platform. The consumer is told "
                                   "the operator's outcome (complaint.resolved).",
                       body=obj({"category": {"type": "string",
                                              "enum": list(feedback.COMPLAINT_CATEGORIES)},
                                 "content": STR, "order_no": STR, "merchant_id": INT,
                                 "photos": upload_ids}, ["category", "content"]))},
    }


OPENAPI = _openapi()
