"""Merchant staff: their merchant's orders (filter, confirm, ship, refund), after-sale
decisions, review replies and the daily sales report. Every lookup is within the
caller's merchant: another merchant's order answers 404."""
from __future__ import annotations

from alliance.errors import ValidationFailed
from alliance.orders import aftersales, feedback, fulfilment, reports
from alliance.orders.access import merchant_order
from alliance.orders.exports import orders_csv
from alliance.orders.queries import (MERCHANT, after_sale_view, list_after_sales, list_orders,
                                     order_view, refund_view)
from miniprogram_api.orders import ORDER_NO
from miniprogram_api.staff import MERCHANT_CHOICE, StaffHandler
from server import validation as v
from server.base import authenticated, idempotent

FINANCE_PERMISSION = "merchant:finance"  # who reads the merchant's money: statements, exports


class MerchantOrderBase(StaffHandler):
    @property
    def octx(self):
        return self.ctx.extras["orders"]

    def after_sale(self, request) -> dict:
        return after_sale_view(request, self.ctx.settings.secret_key)


class MerchantOrdersHandler(MerchantOrderBase):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(
            list_orders, MERCHANT, merchant_id=membership.merchant_id,
            status=self.query("status"), order_no=self.query("order_no"),
            created_from=self.query("from"), created_to=self.query("to"),
            cursor=self.query("cursor"), limit=v.page_limit(self.query("limit"))))


class MerchantOrdersCsvHandler(MerchantOrderBase):
    @authenticated()
    async def get(self):
        membership = await self.membership(FINANCE_PERMISSION)
        filters = {"merchant_id": membership.merchant_id, "status": self.query("status"),
                   "created_from": self.query("from"), "created_to": self.query("to")}
        await self.write_csv("orders.csv", lambda after: orders_csv(filters, after))


class MerchantOrderHandler(MerchantOrderBase):
    @authenticated()
    async def get(self, order_no: str):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(
            lambda: order_view(merchant_order(membership.merchant_id, order_no), MERCHANT)))


class ConfirmHandler(MerchantOrderBase):
    @authenticated()
    async def post(self, order_no: str):
        membership = await self.membership("merchant:orders")
        self.write_json(await self.run_sync(lambda: order_view(
            fulfilment.confirm_order(membership.merchant_id, order_no), MERCHANT)))


class ShipmentHandler(MerchantOrderBase):
    @authenticated()
    async def post(self, order_no: str):
        membership = await self.membership("merchant:orders")
        body = self.json_body()
        carrier = v.string(body, "carrier", max_length=32)
        tracking_no = v.string(body, "tracking_no", max_length=64)
        self.write_json(await self.run_sync(lambda: order_view(
            fulfilment.ship_order(self.octx, membership.merchant_id, order_no, carrier,
                                  tracking_no),
            MERCHANT)))


class RefundsHandler(MerchantOrderBase):
    @authenticated()
    @idempotent
    async def post(self, order_no: str):
        membership = await self.membership("merchant:orders")
        body = self.json_body()
        amount = v.integer(body, "amount_fen", minimum=1, maximum=10**12)
        reason = v.string(body, "reason", max_length=255)
        self.write_json(await self.run_sync(lambda: refund_view(aftersales.merchant_refund(
            self.octx, membership.merchant_id, order_no, amount, reason))), 201)


class MerchantAfterSalesHandler(MerchantOrderBase):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(
            list_after_sales, self.ctx.settings.secret_key, merchant_id=membership.merchant_id,
            status=self.query("status"), cursor=self.query("cursor"), limit=v.page_limit(self.query("limit"))))


class MerchantAfterSaleHandler(MerchantOrderBase):
    @authenticated()
    async def get(self, after_sale_id: str):
        membership = await self.membership("merchant:read")
        self.write_json(await self.run_sync(lambda: self.after_sale(
            aftersales.get_merchant_after_sale(membership.merchant_id, int(after_sale_id)))))


class DecisionHandler(MerchantOrderBase):
    @authenticated()
    async def post(self, after_sale_id: str):
        membership = await self.membership("merchant:orders")
        body = self.json_body()
        approve = body.get("approve")
        if not isinstance(approve, bool):
            raise ValidationFailed("请选择同意或拒绝", details={"field": "approve"})
        note = v.string(body, "note", required=False, max_length=255, default="")
        self.write_json(await self.run_sync(lambda: self.after_sale(aftersales.decide(
            self.octx, membership.merchant_id, self.principal.id, int(after_sale_id),
            approve, note))))


class ReturnReceiptHandler(MerchantOrderBase):
    @authenticated()
    async def post(self, after_sale_id: str):
        membership = await self.membership("merchant:orders")
        self.write_json(await self.run_sync(lambda: self.after_sale(aftersales.receive_return(
            self.octx, membership.merchant_id, int(after_sale_id)))))


class ReviewReplyHandler(MerchantOrderBase):
    @authenticated()
    async def post(self, review_id: str):
        membership = await self.membership("merchant:orders")
        reply = v.string(self.json_body(), "reply", max_length=500)
        self.write_json(await self.run_sync(lambda: feedback.review_view(
            feedback.reply_review(membership.merchant_id, int(review_id), reply))))


class SalesReportHandler(MerchantOrderBase):
    @authenticated()
    async def get(self):
        membership = await self.membership("merchant:finance")
        self.write_json(await self.run_sync(reports.merchant_sales_report, membership.merchant_id,
                                            self.query("from"), self.query("to")))


def routes() -> list:
    prefix, after_sale = "/api/v1/merchant", r"([0-9]{1,10})"
    return [
        (rf"{prefix}/orders", MerchantOrdersHandler),
        (rf"{prefix}/orders\.csv", MerchantOrdersCsvHandler),
        (rf"{prefix}/orders/{ORDER_NO}", MerchantOrderHandler),
        (rf"{prefix}/orders/{ORDER_NO}/confirm", ConfirmHandler),
        (rf"{prefix}/orders/{ORDER_NO}/shipment", ShipmentHandler),
        (rf"{prefix}/orders/{ORDER_NO}/refunds", RefundsHandler),
        (rf"{prefix}/after-sales", MerchantAfterSalesHandler),
        (rf"{prefix}/after-sales/{after_sale}", MerchantAfterSaleHandler),
        (rf"{prefix}/after-sales/{after_sale}/decision", DecisionHandler),
        (rf"{prefix}/after-sales/{after_sale}/return-receipt", ReturnReceiptHandler),
        (rf"{prefix}/reviews/([0-9]{{1,10}})/reply", ReviewReplyHandler),
        (rf"{prefix}/sales-report", SalesReportHandler),
    ]


GROUP_WAITS = ("A group buy's order waits for its group to fill: 409 GROUP_PENDING until it "
               "succeeds (a group that fails refunds it in full).")


def _openapi() -> dict:
    from server.openapi import (BOOL, FEN, INT, PAGING, STR, csv_answer, list_of, obj, op,
                                path_param, query_param, ref)

    tags = ["merchant orders"]
    order_no = [*MERCHANT_CHOICE, path_param("order_no", STR)]
    request_id = [*MERCHANT_CHOICE, path_param("id", INT)]
    dates = [query_param("from", STR, "YYYY-MM-DD (Asia/Shanghai)"),
             query_param("to", STR, "YYYY-MM-DD (Asia/Shanghai)")]
    refund = obj({"out_refund_no": STR, "kind": STR, "amount_fen": FEN, "status": STR,
                  "reason": STR, "after_sale_id": {**INT, "nullable": True}, "last_error": STR,
                  "created_at": STR, "finished_at": {**STR, "nullable": True}})
    day = obj({"date": STR, "orders": INT, "paid_fen": FEN, "refunded_fen": FEN, "net_fen": FEN,
               "units": INT, "average_order_fen": FEN})
    return {
        "/api/v1/merchant/orders": {"get": op(
            "The merchant's orders, newest first", tags=tags, ok=list_of(ref("Order")),
            errors=(400, 403), params=[*MERCHANT_CHOICE, query_param("status", STR),
                                       query_param("order_no", STR), *dates, *PAGING])},
        "/api/v1/merchant/orders.csv": {"get": csv_answer(op(
            "The merchant's orders as CSV, newest first (UTF-8 with BOM; owner, manager or "
            "whoever reads its statements)", tags=tags, errors=(400, 403),
            params=[*MERCHANT_CHOICE, query_param("status", STR), *dates]),
            "The columns of GET /api/admin/v1/orders.csv: amounts in fen and 实收 in yuan, "
            "times in Asia/Shanghai, the buyer's id only.")},
        "/api/v1/merchant/orders/{order_no}": {"get": op(
            "One of the merchant's orders", tags=tags, ok=ref("Order"), params=order_no,
            errors=(403, 404))},
        "/api/v1/merchant/orders/{order_no}/confirm": {"post": op(
            "Accept a paid goods order", tags=tags, ok=ref("Order"), params=order_no,
            errors=(403, 404, 409), description=GROUP_WAITS)},
        "/api/v1/merchant/orders/{order_no}/shipment": {"post": op(
            "Ship a paid goods order", tags=tags, ok=ref("Order"), params=order_no,
            body=obj({"carrier": STR, "tracking_no": STR}, ["carrier", "tracking_no"]),
            errors=(403, 404, 409), description=GROUP_WAITS)},
        "/api/v1/merchant/orders/{order_no}/refunds": {"post": op(
            "Refund (part of) a paid order", tags=tags, ok=refund, status=201, idempotent=True,
            params=order_no, body=obj({"amount_fen": FEN, "reason": STR}, ["amount_fen", "reason"]),
            errors=(403, 404, 409, 422), description=GROUP_WAITS)},
        "/api/v1/merchant/after-sales": {"get": op(
            "After-sale requests of the merchant's orders", tags=tags,
            ok=list_of(ref("AfterSale")), errors=(400, 403),
            params=[*MERCHANT_CHOICE, query_param("status", STR), *PAGING])},
        "/api/v1/merchant/after-sales/{id}": {"get": op(
            "One after-sale request", tags=tags, ok=ref("AfterSale"), params=request_id,
            errors=(403, 404))},
        "/api/v1/merchant/after-sales/{id}/decision": {"post": op(
            "Approve or reject an after-sale request (a note is required to reject)",
            tags=tags, ok=ref("AfterSale"), params=request_id,
            body=obj({"approve": BOOL, "note": STR}, ["approve"]), errors=(403, 404, 409, 422))},
        "/api/v1/merchant/after-sales/{id}/return-receipt": {"post": op(
            "The returned goods arrived: the refund starts", tags=tags, ok=ref("AfterSale"),
            params=request_id, errors=(403, 404, 409, 422))},
        "/api/v1/merchant/reviews/{id}/reply": {"post": op(
            "Answer a review of the merchant", tags=tags, ok=ref("Review"), params=request_id,
            body=obj({"reply": STR}, ["reply"]), errors=(403, 404))},
        "/api/v1/merchant/sales-report": {"get": op(
            "Daily sales (by payment day, Asia/Shanghai; at most 31 days; default the last 7)",
            tags=tags, params=[*MERCHANT_CHOICE, *dates], errors=(400, 403),
            ok=obj({"from": STR, "to": STR, "days": {"type": "array", "items": day},
                    "totals": obj({"orders": INT, "paid_fen": FEN, "refunded_fen": FEN,
                                   "net_fen": FEN, "units": INT}),
                    "top_items": {"type": "array", "items": obj({
                        "item_id": INT, "name": STR, "units": INT, "sales_fen": FEN})}}))},
    }


OPENAPI = _openapi()
