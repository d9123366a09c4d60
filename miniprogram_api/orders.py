"""The consumer's cart, orders and payments (CONTRACT.md core journeys)."""
from __future__ import annotations

from alliance.campaigns.groups import GroupRequest
from alliance.checks import refuse_unknown
from alliance.errors import ValidationFailed
from alliance.orders import cart, checkout, fulfilment, lifecycle, payments
from alliance.orders.access import owned_order
from alliance.orders.context import OrderContext
from alliance.orders.queries import BUYER, list_orders, order_view
from alliance.payments.channels import CHANNELS
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

ORDER_NO = r"([0-9A-Za-z]{1,32})"
ITEM_ID_MAX = 2**31 - 1


def parse_coupons(body: dict) -> tuple[int, ...]:
    """``coupon_id`` (CONTRACT.md) and/or ``coupon_ids`` (a shop and a platform coupon)."""
    ids = []
    if body.get("coupon_id") is not None:
        ids.append(v.integer(body, "coupon_id", minimum=1, maximum=ITEM_ID_MAX))
    more = body.get("coupon_ids")
    if more is not None:
        if not isinstance(more, list) or len(more) > 2:
            raise ValidationFailed("最多使用一张店铺券和一张平台券", details={"field": "coupon_ids"})
        ids += [v.integer({"coupon_ids": c}, "coupon_ids", minimum=1, maximum=ITEM_ID_MAX)
                for c in more]
    return tuple(dict.fromkeys(ids))


def parse_group(body: dict) -> GroupRequest | None:
    """``group_buy``: ``{"campaign_id"}`` starts a group of that group buy, ``{"group_id"}``
    joins that group; absent, the order is no group order."""
    value = body.get("group_buy")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise ValidationFailed("拼团参数须为 campaign_id（开团）或 group_id（参团）之一",
                               details={"field": "group_buy", "issue": "one of",
                                        "choices": ["campaign_id", "group_id"]})
    refuse_unknown(value, {"campaign_id", "group_id"})
    if "group_id" in value:
        return GroupRequest(group_id=v.integer(value, "group_id", minimum=1, maximum=ITEM_ID_MAX))
    return GroupRequest(campaign_id=v.integer(value, "campaign_id", minimum=1,
                                              maximum=ITEM_ID_MAX))


def parse_basket(body: dict) -> checkout.Basket:
    """``{"items": [{"item_id", "quantity"}], "coupon_id"?, "coupon_ids"?, "points"?,
    "group_buy"?}``."""
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ValidationFailed("请选择要购买的商品", details={"field": "items", "issue": "required"})
    parsed = []
    for entry in items:
        if not isinstance(entry, dict):
            raise ValidationFailed("商品格式不正确", details={"field": "items", "issue": "must be objects"})
        parsed.append((v.integer(entry, "item_id", minimum=1, maximum=ITEM_ID_MAX),
                       v.integer(entry, "quantity", minimum=1, maximum=checkout.MAX_QUANTITY)))
    return checkout.Basket(items=parsed, coupon_ids=parse_coupons(body),
                           points=v.integer(body, "points", required=False, minimum=0,
                                            maximum=10**9, default=0),
                           group=parse_group(body))


def parse_contact(body: dict) -> dict[str, str]:
    contact = body.get("contact") or {}
    if not isinstance(contact, dict):
        raise ValidationFailed("收货信息格式不正确", details={"field": "contact"})
    return {"name": v.string(contact, "name", required=False, max_length=32, default=""),
            "phone": v.string(contact, "phone", required=False, max_length=20, default=""),
            "address": v.string(contact, "address", required=False, max_length=255, default="")}


class OrderHandlerBase(BaseHandler):
    @property
    def octx(self) -> OrderContext:
        return self.ctx.extras["orders"]


class CartHandler(BaseHandler):
    @authenticated("self:read")
    async def get(self):
        self.write_page(await self.run_sync(cart.cart_view, self.principal.id))


class CartItemHandler(BaseHandler):
    @authenticated("self:write")
    async def put(self, item_id: str):
        quantity = v.integer(self.json_body(), "quantity", minimum=0, maximum=checkout.MAX_QUANTITY)
        self.write_json(await self.run_sync(cart.set_quantity, self.principal.id, int(item_id), quantity))

    @authenticated("self:write")
    async def delete(self, item_id: str):
        self.write_json(await self.run_sync(cart.set_quantity, self.principal.id, int(item_id), 0))


class OrdersHandler(OrderHandlerBase):
    @authenticated("self:read")
    async def get(self):
        result = await self.run_sync(list_orders, BUYER, user_id=self.principal.id,
                                     status=self.query("status"), cursor=self.query("cursor"),
                                     limit=v.page_limit(self.query("limit")))
        self.write_json(result)

    @authenticated("self:write")
    @idempotent
    async def post(self):
        body = self.json_body()
        basket, contact = parse_basket(body), parse_contact(body)
        note = v.string(body, "note", required=False, max_length=200, default="")

        def create():
            order = checkout.create_order(self.octx, self.principal.id, basket,
                                          contact=contact, note=note)
            return order_view(order)

        self.write_json(await self.run_sync(create), 201)


class OrderQuoteHandler(OrderHandlerBase):
    @authenticated("self:read")
    async def post(self):
        basket = parse_basket(self.json_body())
        self.write_json(await self.run_sync(checkout.quote_basket, self.principal.id, basket))


class OrderHandler(OrderHandlerBase):
    @authenticated("self:read")
    async def get(self, order_no: str):
        self.write_json(await self.run_sync(
            lambda: order_view(owned_order(self.principal.id, order_no))))


class OrderPaymentsHandler(OrderHandlerBase):
    @authenticated("self:write")
    @idempotent
    async def post(self, order_no: str):
        channel = v.one_of(self.json_body().get("channel"), "channel", CHANNELS)
        result = await self.run_sync(payments.start_payment, self.octx, self.principal.id,
                                     order_no, channel, self.client_ip())
        self.write_json(result, 201)


class OrderCancelHandler(OrderHandlerBase):
    @authenticated("self:write")
    async def post(self, order_no: str):
        reason = v.string(self.json_body(), "reason", required=False, max_length=64,
                          default=lifecycle.BUYER_CANCELLED)

        def cancel():
            return order_view(lifecycle.cancel_order(self.octx, self.principal.id, order_no, reason))

        self.write_json(await self.run_sync(cancel))


class OrderReceiptHandler(OrderHandlerBase):
    @authenticated("self:write")
    async def post(self, order_no: str):
        def receive():
            return order_view(fulfilment.confirm_receipt(self.principal.id, order_no))

        self.write_json(await self.run_sync(receive))


def routes() -> list:
    return [
        (r"/api/v1/cart", CartHandler),
        (r"/api/v1/cart/items/([0-9]{1,10})", CartItemHandler),
        (r"/api/v1/orders", OrdersHandler),
        (r"/api/v1/orders/quote", OrderQuoteHandler),
        (rf"/api/v1/orders/{ORDER_NO}", OrderHandler),
        (rf"/api/v1/orders/{ORDER_NO}/payments", OrderPaymentsHandler),
        (rf"/api/v1/orders/{ORDER_NO}/cancel", OrderCancelHandler),
        (rf"/api/v1/orders/{ORDER_NO}/receipt", OrderReceiptHandler),
    ]


def _schemas() -> dict:
    from server.openapi import BOOL, FEN, INT, STR, TIME, obj

    member_day = {**obj({"discount_fen": {**FEN, "description": "after the level "
                                                                      "discount"},
                              "points_multiplier_pct": {**INT, "description": "times the "
                                                                              "level's"}}),
                       "nullable": True,
                       "description": "the merchant's member day, as checkout found it "
                                      "(members only); null: none"}

    status = {"type": "string", "enum": ["pending_payment", "paid", "shipped", "service_issued",
                                         "completed", "cancelled", "refunding", "refunded"]}
    nullable_time = {**TIME, "nullable": True}
    line = obj({"line_id": INT, "item_id": INT, "kind": STR, "name": STR, "unit_price_fen": FEN,
                "quantity": INT, "amount_fen": FEN, "discount_fen": FEN, "payable_fen": FEN,
                "returned_quantity": INT, "reviewed": BOOL})
    breakdown = obj({"items_fen": FEN, "shipping_fen": FEN, "campaign_discount_fen": {
        **FEN, "description": "flash-sale prices and the full reduction"}, "level_discount_fen": FEN,
                     "member_day_discount_fen": FEN, "member_day": member_day,
                     "coupon_discount_fen": FEN, "points_used": INT, "points_discount_fen": FEN,
                     "earn_points": {**INT, "description": "the points the payment earns: the "
                                                           "level's multiplier times the "
                                                           "member day's"}})
    return {
        "Order": obj({
            "order_no": STR, "status": status, "kind": {"type": "string", "enum": ["goods", "service"]},
            "merchant_id": INT, "merchant_name": STR, "total_fen": FEN, "discount_fen": FEN,
            "payable_fen": FEN, "breakdown": breakdown, "coupon_id": {**INT, "nullable": True},
            "coupon_ids": {"type": "array", "items": INT},
            "paid_fen": FEN, "refunded_fen": FEN, "is_paid": BOOL,
            "paid_channel": {**STR, "nullable": True},
            "expires_at": {**nullable_time, "description": "payment deadline (unpaid orders)"},
            "created_at": TIME, "paid_at": nullable_time, "confirmed_at": nullable_time,
            "shipped_at": nullable_time, "carrier": STR, "tracking_no": STR,
            "completed_at": nullable_time, "cancelled_at": nullable_time, "cancel_reason": STR,
            "after_sale_id": {**INT, "nullable": True, "description": "the open after-sale request"},
            "items": {"type": "array", "items": line},
            "contact": obj({"name": STR, "phone": STR, "address": STR}), "note": STR,
            "group_buy": {**obj({"group_id": INT, "status": {
                "type": "string", "enum": ["open", "succeeded", "failed"]},
                "group_size": INT, "joined": INT, "deadline": TIME}), "nullable": True,
                "description": "a group buy's order: its group (a paid order waits while "
                               "it is open)"},
            "service_code": obj({"code": {**STR, "description": "buyer only"}, "status": STR,
                                 "valid_until": TIME, "redeemed_at": nullable_time})},
            ["order_no", "status", "total_fen", "discount_fen", "payable_fen"]),
        "Quote": obj({"merchant_id": INT, "kind": STR, "items_fen": FEN,
                      "campaign_discount_fen": FEN,
                      "campaigns": {"type": "array", "items": obj({
                          "campaign_id": INT, "kind": STR, "item_id": {**INT, "nullable": True},
                          "campaign_price_fen": {**FEN, "nullable": True},
                          "discount_fen": FEN})},
                      "level_discount_percent": INT, "level_discount_fen": FEN,
                      "member_day_discount_fen": FEN,
                      "member_day": {**member_day, "properties": {
                          **member_day["properties"], "discount_percent": INT}},
                      "coupon_discount_fen": FEN, "points_used": INT, "points_discount_fen": FEN,
                      "max_points": INT, "shipping_fen": FEN, "total_fen": FEN,
                      "discount_fen": FEN, "payable_fen": FEN, "earn_points": INT,
                      "coupons": {"type": "array", "items": obj({
                          "coupon_id": INT, "tier": STR, "discount_fen": FEN})},
                      "items": {"type": "array", "items": obj({
                          "item_id": INT, "name": STR, "quantity": INT, "unit_price_fen": FEN,
                          "amount_fen": FEN, "discount_fen": FEN, "payable_fen": FEN})}}),
        "Payment": obj({
            "order_no": STR, "channel": {"type": "string", "enum": list(CHANNELS)},
            "out_trade_no": STR, "amount_fen": FEN, "expires_at": TIME,
            "request_payment": obj({"timeStamp": STR, "nonceStr": STR, "package": STR,
                                    "signType": STR, "paySign": STR},
                                   description="wechatpay: the wx.requestPayment parameters"),
            "order_string": {**STR, "description": "alipay: the signed app-pay order string"},
            "client_params": {"type": "object", "description": "the channel's raw parameters"}},
            ["out_trade_no", "amount_fen"]),
        "CartItem": obj({"item_id": INT, "merchant_id": INT, "merchant_name": STR, "kind": STR,
                         "name": STR, "price_fen": FEN, "quantity": INT, "amount_fen": FEN,
                         "stock": INT, "available": BOOL}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, query_param, ref

    tags = ["orders"]
    order_no = [path_param("order_no", STR)]
    basket = obj({"items": {"type": "array", "minItems": 1, "maxItems": checkout.MAX_LINES,
                            "items": obj({"item_id": INT, "quantity": {**INT, "minimum": 1,
                                                                       "maximum": checkout.MAX_QUANTITY}},
                                         ["item_id", "quantity"])},
                  "coupon_id": INT,
                  "coupon_ids": {"type": "array", "maxItems": 2, "items": INT,
                                 "description": "at most one shop and one platform coupon"},
                  "points": {**INT, "description": "1 point = 1 fen"},
                  "contact": obj({"name": STR, "phone": STR, "address": STR},
                                 description="delivery contact (goods)"),
                  "note": STR,
                  "group_buy": obj({
                      "campaign_id": {**INT, "description": "start a group of this running "
                                                            "group buy"},
                      "group_id": {**INT, "description": "join this open group"}},
                      description="a group buy (团购): exactly one of campaign_id (start a "
                                  "group) or group_id (join one). The order holds one line, "
                                  "the group buy's item, at its group price (never with a "
                                  "flash price of it; full reduction, level discount, "
                                  "coupons and points apply after it as for flash sales), "
                                  "and takes a seat of the group: 409 GROUP_FULL, "
                                  "GROUP_CLOSED, GROUP_ALREADY_JOINED, GROUP_BUY_UNAVAILABLE; "
                                  "404 GROUP_NOT_FOUND. It closes unpaid at the group's "
                                  "deadline at the latest; paid, it waits (status paid, "
                                  "group_buy.status open) until the group fills, and is "
                                  "refunded in full when the group fails.")}, ["items"])
    basket_errors = (404, 409, 422)
    return {
        "/api/v1/cart": {"get": op("The cart, with live prices", tags=tags, ok=list_of(ref("CartItem")),
                                   params=PAGING, errors=(400,))},
        "/api/v1/cart/items/{item_id}": {
            "put": op("Set an item's quantity in the cart (0 removes it)", tags=tags,
                      body=obj({"quantity": INT}, ["quantity"]), ok=list_of(ref("CartItem")),
                      errors=(404, 409), params=[path_param("item_id", INT)]),
            "delete": op("Remove an item from the cart", tags=tags, ok=list_of(ref("CartItem")),
                         params=[path_param("item_id", INT)])},
        "/api/v1/orders": {
            "get": op("My orders, newest first", tags=tags, ok=list_of(ref("Order")),
                      params=[query_param("status", STR), *PAGING], errors=(400,)),
            "post": op("Place an order (one merchant; priced on the server; stock, points and "
                       "coupon reserved until paid or closed)", tags=tags, body=basket,
                       ok=ref("Order"), status=201, idempotent=True, errors=basket_errors,
                       description="Errors: ITEM_NOT_FOUND, OUT_OF_STOCK, POINTS_INSUFFICIENT, "
                                   "POINTS_EXCEED_LIMIT, ORDER_MULTIPLE_MERCHANTS, "
                                   "ORDER_KINDS_MIXED; with group_buy, GROUP_NOT_FOUND, "
                                   "GROUP_BUY_UNAVAILABLE, GROUP_FULL, GROUP_CLOSED, "
                                   "GROUP_ALREADY_JOINED. Unpaid orders close at expires_at.")},
        "/api/v1/orders/quote": {"post": op(
            "Price a basket without ordering", tags=tags, body=basket, ok=ref("Quote"),
            errors=basket_errors)},
        "/api/v1/orders/{order_no}": {"get": op("One of my orders", tags=tags, ok=ref("Order"),
                                                params=order_no, errors=(404,))},
        "/api/v1/orders/{order_no}/payments": {"post": op(
            "Pay an order: open the trade with WeChat Pay or Alipay", tags=tags,
            body=obj({"channel": {"type": "string", "enum": list(CHANNELS)}}, ["channel"]),
            ok=ref("Payment"), status=201, idempotent=True, params=order_no,
            errors=(404, 409, 422, 502, 503),
            description="The same channel again reuses its trade; another channel closes the "
                        "first one. The payment is confirmed by the provider's notification "
                        "(matched by out_trade_no and amount), not by the client.")},
        "/api/v1/orders/{order_no}/cancel": {"post": op(
            "Cancel an unpaid order (reservations released)", tags=tags,
            body=obj({"reason": STR}), ok=ref("Order"), params=order_no, errors=(404, 409))},
        "/api/v1/orders/{order_no}/receipt": {"post": op(
            "Confirm receipt of a shipped order (it completes)", tags=tags, ok=ref("Order"),
            params=order_no, errors=(404, 409))},
    }


OPENAPI = _openapi()
