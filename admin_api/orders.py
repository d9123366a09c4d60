"""Operators' order management: every order, the abnormal ones, the providers' payment
notifications (those naming trades we do not know too), statistics, after-sale arbitration
and complaints. Every action is recorded in the operators' audit log."""
from __future__ import annotations

from alliance.errors import ValidationFailed
from alliance.orders import abnormal, aftersales, feedback, reports
from alliance.orders.access import any_order
from alliance.orders.exports import orders_csv
from alliance.orders.aftersale_models import AFTER_SALE_STATUSES
from alliance.orders.queries import (OPERATOR, after_sale_view, list_after_sales, list_orders,
                                     list_payment_notifications, order_view)
from alliance.payments.channels import CHANNELS
from alliance.payments.models import ABNORMAL, NOTIFICATION_STATUSES
from miniprogram_api.orders import ORDER_NO
from server import validation as v
from server.base import BaseHandler, authenticated

ID_MAX = 2**31 - 1


class AdminBase(BaseHandler):
    @property
    def octx(self):
        return self.ctx.extras["orders"]


class OrdersHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def get(self):
        flag = self.query("abnormal")
        if flag is not None:
            flag = v.one_of(flag, "abnormal", ("true", "false")) == "true"
        ids = {name: v.query_int(self.query(name), name, default=None, minimum=1, maximum=ID_MAX)
               for name in ("merchant_id", "user_id")}
        self.write_json(await self.run_sync(
            list_orders, OPERATOR, status=self.query("status"), abnormal=flag,
            order_no=self.query("order_no"), created_from=self.query("from"),
            created_to=self.query("to"), cursor=self.query("cursor"), limit=v.page_limit(self.query("limit")),
            **ids))


class OrdersCsvHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def get(self):
        flag = self.query("abnormal")
        if flag is not None:
            flag = v.one_of(flag, "abnormal", ("true", "false")) == "true"
        filters = {name: v.query_int(self.query(name), name, default=None, minimum=1,
                                     maximum=ID_MAX) for name in ("merchant_id", "user_id")}
        filters.update(status=self.query("status"), abnormal=flag,
                       created_from=self.query("from"), created_to=self.query("to"))
        await self.write_csv("orders.csv", lambda after: orders_csv(filters, after))


class OrderHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def get(self, order_no: str):
        self.write_json(await self.run_sync(lambda: order_view(any_order(order_no), OPERATOR)))


class AbnormalResolutionHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def post(self, order_no: str):
        note = v.string(self.json_body(), "note", max_length=500)
        self.write_json(await self.run_sync(lambda: order_view(
            abnormal.resolve_abnormal(self.principal.id, order_no, note), OPERATOR)))


class PaymentNotificationsHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def get(self):
        status = v.one_of(self.query("status") or ABNORMAL, "status", NOTIFICATION_STATUSES)
        channel = self.query("channel") or None
        if channel is not None:
            v.one_of(channel, "channel", CHANNELS)
        self.write_json(await self.run_sync(
            list_payment_notifications, status=status, channel=channel,
            reason=self.query("reason") or None, cursor=self.query("cursor"),
            limit=v.page_limit(self.query("limit"))))


class OrderStatsHandler(AdminBase):
    @authenticated("admin:orders", kind="operator")
    async def get(self):
        self.write_json(await self.run_sync(reports.platform_order_stats, self.query("from"),
                                            self.query("to")))


class AfterSalesHandler(AdminBase):
    @authenticated("admin:complaints", kind="operator")
    async def get(self):
        self.write_json(await self.run_sync(
            list_after_sales, self.ctx.settings.secret_key, status=self.query("status"),
            cursor=self.query("cursor"), limit=v.page_limit(self.query("limit"))))


class ArbitrationHandler(AdminBase):
    @authenticated("admin:complaints", kind="operator")
    async def post(self, after_sale_id: str):
        body = self.json_body()
        refund = body.get("refund")
        if not isinstance(refund, bool):
            raise ValidationFailed("请选择退款或驳回", details={"field": "refund"})
        note = v.string(body, "note", max_length=255)
        amount = v.integer(body, "amount_fen", required=False, minimum=1, maximum=10**12)

        def decide():
            request = aftersales.arbitrate(self.octx, self.principal.id, int(after_sale_id),
                                           refund, note, amount)
            return after_sale_view(request, self.ctx.settings.secret_key)

        self.write_json(await self.run_sync(decide))


class ComplaintsHandler(AdminBase):
    @authenticated("admin:complaints", kind="operator")
    async def get(self):
        status = v.optional_choice(self.query("status"), "status",
                                   ("open", *feedback.COMPLAINT_OUTCOMES))
        category = v.optional_choice(self.query("category"), "category",
                                     feedback.COMPLAINT_CATEGORIES)
        self.write_json(await self.run_sync(feedback.list_complaints, status=status,
                                            category=category, cursor=self.query("cursor"),
                                            limit=v.page_limit(self.query("limit"))))


class ComplaintResolutionHandler(AdminBase):
    @authenticated("admin:complaints", kind="operator")
    async def post(self, complaint_id: str):
        body = self.json_body()
        outcome = v.one_of(body.get("outcome"), "outcome", feedback.COMPLAINT_OUTCOMES)
        resolution = v.string(body, "resolution", max_length=500)
        notifier, operator = self.ctx.notifier, self.principal.id
        self.write_json(await self.run_sync(lambda: feedback.complaint_view(
            feedback.resolve_complaint(notifier, operator, int(complaint_id), outcome,
                                       resolution))))


def routes() -> list:
    prefix = "/api/admin/v1"
    return [
        (rf"{prefix}/orders", OrdersHandler),
        (rf"{prefix}/orders\.csv", OrdersCsvHandler),
        (rf"{prefix}/orders/{ORDER_NO}", OrderHandler),
        (rf"{prefix}/orders/{ORDER_NO}/abnormal-resolution", AbnormalResolutionHandler),
        (rf"{prefix}/order-stats", OrderStatsHandler),
        (rf"{prefix}/payment-notifications", PaymentNotificationsHandler),
        (rf"{prefix}/after-sales", AfterSalesHandler),
        (rf"{prefix}/after-sales/([0-9]{{1,10}})/arbitration", ArbitrationHandler),
        (rf"{prefix}/complaints", ComplaintsHandler),
        (rf"{prefix}/complaints/([0-9]{{1,10}})/resolution", ComplaintResolutionHandler),
    ]


def _openapi() -> dict:
    from server.openapi import (BOOL, FEN, INT, PAGING, STR, TIME, csv_answer, list_of, obj, op,
                                path_param, query_param, ref)

    tags = ["console: orders"]
    order_no, entity = [path_param("order_no", STR)], [path_param("id", INT)]
    dates = [query_param("from", STR, "YYYY-MM-DD (Asia/Shanghai)"),
             query_param("to", STR, "YYYY-MM-DD (Asia/Shanghai)")]
    operator_order = {"allOf": [ref("Order"), obj({
        "user_id": INT, "abnormal": BOOL, "abnormal_reason": STR,
        "attempts": {"type": "array", "items": {"type": "object"}},
        "refunds": {"type": "array", "items": {"type": "object"}}})]}
    nullable = {"type": "string", "nullable": True}
    notification = obj({
        "id": INT, "channel": {"type": "string", "enum": list(CHANNELS)},
        "notification_id": {**nullable, "description": "the provider's id (null: rejected)"},
        "kind": {"type": "string", "enum": ["payment", "refund", "unknown"],
                 "description": "unknown: rejected before it was read"},
        "out_trade_no": nullable, "out_refund_no": nullable, "transaction_id": nullable,
        "amount_fen": {**FEN, "nullable": True,
                       "description": "paid, or refunded for a refund (fen)"},
        "status": {"type": "string", "enum": list(NOTIFICATION_STATUSES)},
        "reason": {**nullable, "description": "UNKNOWN_TRADE, AMOUNT_MISMATCH, UNKNOWN_REFUND, "
                                              "REFUND_AMOUNT_MISMATCH, a rejection's cause..."},
        "received_at": TIME, "processed_at": {**TIME, "nullable": True},
        "order_no": {**nullable, "description": "the order whose trade it names; null: a "
                                                "trade the platform does not know"},
    }, ["id", "channel", "kind", "status", "received_at", "order_no"])
    day = obj({"date": STR, "created": INT, "paid": INT, "paid_fen": FEN, "refunded_fen": FEN})
    return {
        "/api/admin/v1/orders": {"get": op(
            "Every order, newest first", tags=tags, ok=list_of(ref("Order")), errors=(400, 403),
            params=[query_param("status", STR), query_param("abnormal", {"type": "string",
                                                                         "enum": ["true", "false"]}),
                    query_param("merchant_id", INT), query_param("user_id", INT),
                    query_param("order_no", STR), *dates, *PAGING])},
        "/api/admin/v1/orders.csv": {"get": csv_answer(op(
            "Every order the filters select as CSV, newest first (UTF-8 with BOM)", tags=tags,
            errors=(400, 403),
            params=[query_param("status", STR), query_param("abnormal", {"type": "string",
                                                                         "enum": ["true", "false"]}),
                    query_param("merchant_id", INT), query_param("user_id", INT), *dates]),
            "订单号, 商户, 买家ID, 类型, 状态, 下单/支付时间 (Asia/Shanghai), 支付方式与流水号, "
            "each amount in fen (商品金额, 运费, 活动优惠, 会员折扣, 会员日优惠, 优惠券, 积分抵扣, "
            "应付, 实付, 已退款, 实收) and 实收 in yuan, 异常; no personal data of buyers. "
            "Streamed in batches of 500.")},
        "/api/admin/v1/orders/{order_no}": {"get": op(
            "One order with its trades, refunds and abnormality", tags=tags, ok=operator_order,
            params=order_no, errors=(403, 404))},
        "/api/admin/v1/orders/{order_no}/abnormal-resolution": {"post": op(
            "Take an order off the abnormal list (audited)", tags=tags, ok=operator_order,
            params=order_no, body=obj({"note": STR}, ["note"]), errors=(403, 404, 409))},
        "/api/admin/v1/order-stats": {"get": op(
            "Orders per day, amounts paid and refunded, status mix, abnormal count "
            "(at most 92 days; default the last 30)", tags=tags, params=dates, errors=(400, 403),
            ok=obj({"from": STR, "to": STR, "days": {"type": "array", "items": day},
                    "totals": obj({"created": INT, "paid": INT, "paid_fen": FEN,
                                   "refunded_fen": FEN}),
                    "by_status": {"type": "object"}, "abnormal_open": INT}))},
        "/api/admin/v1/payment-notifications": {"get": op(
            "The providers' payment and refund notifications, newest first: by default the "
            "abnormal ones, such as money paid for a trade the platform does not know "
            "(UNKNOWN_TRADE, order_no null)", tags=tags, ok=list_of(notification),
            errors=(400, 403),
            params=[query_param("status", {"type": "string", "enum": list(NOTIFICATION_STATUSES),
                                           "default": ABNORMAL}),
                    query_param("channel", {"type": "string", "enum": list(CHANNELS)}),
                    query_param("reason", STR, "e.g. UNKNOWN_TRADE"), *PAGING])},
        "/api/admin/v1/after-sales": {"get": op(
            "After-sale requests (status=arbitrating: the disputes to decide)", tags=tags,
            ok=list_of(ref("AfterSale")), errors=(400, 403),
            params=[query_param("status", {"type": "string", "enum": list(AFTER_SALE_STATUSES)}),
                    *PAGING])},
        "/api/admin/v1/after-sales/{id}/arbitration": {"post": op(
            "Decide a disputed (or failed) after-sale request: refund or close (audited)",
            tags=tags, ok=ref("AfterSale"), params=entity, errors=(403, 404, 409, 422),
            body=obj({"refund": BOOL, "note": STR, "amount_fen": FEN}, ["refund", "note"]))},
        "/api/admin/v1/complaints": {"get": op(
            "Complaints and suggestions, newest first", tags=tags,
            ok=list_of(ref("Complaint")), errors=(400, 403),
            params=[query_param("status", {"type": "string", "enum": [
                        "open", *feedback.COMPLAINT_OUTCOMES]}),
                    query_param("category", {"type": "string",
                                             "enum": list(feedback.COMPLAINT_CATEGORIES)},
                                "suggestion: the consumers' suggestions"), *PAGING])},
        "/api/admin/v1/complaints/{id}/resolution": {"post": op(
            "Resolve or dismiss a complaint or suggestion (audited; the consumer is told "
            "through complaint.resolved)", tags=tags, ok=ref("Complaint"),
            params=entity, errors=(403, 404, 409),
            body=obj({"outcome": {"type": "string", "enum": list(feedback.COMPLAINT_OUTCOMES)},
                      "resolution": STR}, ["outcome", "resolution"]))},
    }


OPENAPI = _openapi()
