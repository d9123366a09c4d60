"""The order tables: orders and their lines, who funds their discounts, payment attempts,
refunds, service codes, carts.

Money is integer fen. Every state change is a guarded UPDATE on ``status`` (and, for money,
on the amounts), so concurrent requests, notifications and jobs apply each change once.
"""
from __future__ import annotations

from peewee import (AutoField, BigIntegerField, BooleanField, CharField, ForeignKeyField,
                    IntegerField, TextField)

from alliance.accounts.models import User
from alliance.catalog.models import CatalogItem
from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant

# Order statuses (CONTRACT.md).
PENDING_PAYMENT = "pending_payment"
PAID = "paid"
SHIPPED = "shipped"
SERVICE_ISSUED = "service_issued"
COMPLETED = "completed"
CANCELLED = "cancelled"
REFUNDING = "refunding"
REFUNDED = "refunded"
ORDER_STATUSES = (PENDING_PAYMENT, PAID, SHIPPED, SERVICE_ISSUED, COMPLETED, CANCELLED,
                  REFUNDING, REFUNDED)
# Statuses of an order that holds the buyer's money and may be refunded.
REFUNDABLE = (PAID, SHIPPED, SERVICE_ISSUED, COMPLETED)

GOODS, SERVICE = "goods", "service"

# Payment attempt statuses.
ATTEMPT_OPEN, ATTEMPT_PAID, ATTEMPT_CLOSED = "open", "paid", "closed"
ATTEMPT_ABNORMAL, ATTEMPT_REFUNDED = "abnormal", "refunded"

# Refund statuses and kinds.
REFUND_PENDING, REFUND_PROCESSING = "pending", "processing"
REFUND_SUCCEEDED, REFUND_FAILED = "succeeded", "failed"
REFUND_AFTER_SALE, REFUND_MERCHANT, REFUND_STRAY = "after_sale", "merchant", "stray_payment"
REFUND_GROUP_FAILED = "group_failed"  # the order's group buy did not fill in time

# The kinds of an order's funded discount (OrderDiscount).
DISCOUNT_COUPON, DISCOUNT_POINTS, DISCOUNT_CAMPAIGN = "coupon", "points", "campaign"


class Order(BaseModel):
    """One purchase from one merchant, priced on the server (see pricing.py).

    ``total_fen`` = items + shipping; ``discount_fen`` = campaign + level + coupon + points;
    ``payable_fen`` = total − discount. ``resume_status`` is where a refund that ends without
    refunding everything returns the order to.
    """

    id = AutoField()
    order_no = CharField(max_length=32, unique=True)
    user = ForeignKeyField(User, backref="orders", on_delete="RESTRICT")
    merchant = ForeignKeyField(Merchant, backref="orders", on_delete="RESTRICT")
    kind = CharField(max_length=8)  # goods | service
    status = CharField(max_length=16, default=PENDING_PAYMENT)
    resume_status = CharField(max_length=16, null=True)
    items_fen = BigIntegerField()
    shipping_fen = IntegerField(default=0)
    campaign_discount_fen = BigIntegerField(default=0)  # flash sales and full reduction
    level_discount_fen = IntegerField(default=0)
    # The merchant's member day, as checkout found it: its discount, and its points
    # multiplier (100: not a member day), which the payment earns by whenever it is paid.
    member_day_discount_fen = IntegerField(default=0)
    member_day_points_pct = IntegerField(default=100)
    coupon_discount_fen = IntegerField(default=0)
    points_used = IntegerField(default=0)
    points_discount_fen = IntegerField(default=0)
    total_fen = BigIntegerField()
    discount_fen = BigIntegerField(default=0)
    payable_fen = BigIntegerField()
    paid_fen = BigIntegerField(default=0)
    refunded_fen = BigIntegerField(default=0)
    coupon_ids = CharField(max_length=64, default="[]")  # JSON: the coupons it holds
    earn_points = IntegerField(default=0)  # credited on payment
    points_clawed_back = IntegerField(default=0)  # earned points taken back by refunds
    contact_name = CharField(max_length=32, default="")
    contact_phone = CharField(max_length=20, default="")
    address = CharField(max_length=255, default="")
    note = CharField(max_length=200, default="")
    expires_at = UTCDateTimeField()  # unpaid after this: closed by close_unpaid_orders
    paid_attempt_id = IntegerField(null=True)
    paid_channel = CharField(max_length=16, null=True)
    transaction_id = CharField(max_length=64, null=True)
    paid_at = UTCDateTimeField(null=True)
    confirmed_at = UTCDateTimeField(null=True)
    shipped_at = UTCDateTimeField(null=True)
    carrier = CharField(max_length=32, default="")
    tracking_no = CharField(max_length=64, default="")
    completed_at = UTCDateTimeField(null=True)
    cancelled_at = UTCDateTimeField(null=True)
    cancel_reason = CharField(max_length=64, default="")
    abnormal = BooleanField(default=False)
    abnormal_reason = CharField(max_length=64, default="")
    abnormal_at = UTCDateTimeField(null=True)
    open_after_sale_id = IntegerField(null=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "orders"  # ORDER is a reserved word in SQL
        indexes = (
            (("user", "status", "id"), False),
            (("merchant", "status", "id"), False),
            (("merchant", "paid_at"), False),
            (("status", "expires_at"), False),
            (("abnormal", "id"), False),
            (("paid_at",), False),
            # Covers the consumer behaviour report's grouped reads of a period's paid orders
            # (per day: buyers and fen; per buyer: orders) without reading the rows
            # (EXPLAIN: a covering range scan on SQLite and MariaDB).
            (("paid_at", "user", "merchant", "paid_fen"), False),
            (("created_at",), False),
        )


class OrderLine(BaseModel):
    """An item of an order as it was sold: name and price are copied at checkout.

    ``discount_fen`` is this line's share of the order's discount (pricing.allocate).
    """

    id = AutoField()
    order = ForeignKeyField(Order, backref="lines", on_delete="CASCADE")
    item_id = IntegerField(index=True)
    kind = CharField(max_length=8)
    name = CharField(max_length=64)
    unit_price_fen = IntegerField()
    quantity = IntegerField()
    amount_fen = BigIntegerField()
    discount_fen = BigIntegerField(default=0)
    payable_fen = BigIntegerField()
    returned_quantity = IntegerField(default=0)  # units put back in stock by refunds
    reviewed = BooleanField(default=False)


class OrderDiscount(BaseModel):
    """Who funds a part of an order's coupon, points or campaign discount, written at checkout.

    One ``coupon`` row per coupon the order holds (its share of ``coupon_discount_fen``:
    the coupon's own discount, less what the pricing cap took off the last coupon applied)
    and one ``points`` row per merchant that funded the lots the order's points spend
    consumed (``points`` of them and their share of ``points_discount_fen``), and one
    ``campaign`` row per funder of its ``campaign_discount_fen`` (the merchant that runs the
    campaign, or the platform): the rows of a kind add up to the order's amount to the fen.
    ``funder_merchant_id`` None is the platform. ``given_back_at`` is when a refund of
    everything paid gave the coupon or the points back to the buyer (coupons and spent
    points come back only then; a campaign's subsidy is reversed then too). Settlement
    reads these rows (``alliance.orders.funding``); the level discount is the seller's own
    and has none.
    """

    id = AutoField()
    order = ForeignKeyField(Order, backref="discounts", on_delete="CASCADE")
    kind = CharField(max_length=8)  # coupon | points | campaign
    coupon_id = IntegerField(null=True)  # coupon rows
    funder_merchant_id = IntegerField(null=True)
    points = IntegerField(default=0)  # points rows
    amount_fen = BigIntegerField()
    given_back_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "order_discount"
        indexes = ((("given_back_at",), False),)


class PaymentAttempt(BaseModel):
    """One trade opened with a provider for an order: a new one per channel switch.

    A notification is matched by ``out_trade_no`` and ``amount_fen``; the attempt's status
    changes once, by a guarded UPDATE (open|closed -> paid | abnormal; paid -> refunded for
    a payment refunded because the order no longer wanted it).
    """

    id = AutoField()
    order = ForeignKeyField(Order, backref="attempts", on_delete="CASCADE")
    seq = IntegerField()
    channel = CharField(max_length=16)
    out_trade_no = CharField(max_length=32, unique=True)
    amount_fen = BigIntegerField()
    status = CharField(max_length=16, default=ATTEMPT_OPEN)
    provider_ref = CharField(max_length=64, default="")  # prepay_id / trade_no
    transaction_id = CharField(max_length=64, null=True)
    note = CharField(max_length=255, default="")
    created_at = UTCDateTimeField(default=utcnow)
    paid_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    checked_at = UTCDateTimeField(null=True)  # last active query

    class Meta:
        indexes = ((("order", "seq"), True), (("status", "created_at"), False))


class Refund(BaseModel):
    """Money sent back through the provider; ``out_refund_no`` is its idempotency key.

    ``restock`` (JSON {line_id: quantity}) are the units to put back in stock when it
    succeeds. Status: pending (not yet accepted by the provider) -> processing ->
    succeeded | failed.
    """

    id = AutoField()
    order = ForeignKeyField(Order, backref="refunds", on_delete="CASCADE")
    attempt = ForeignKeyField(PaymentAttempt, backref="refunds", on_delete="CASCADE")
    seq = IntegerField()
    out_refund_no = CharField(max_length=64, unique=True)
    kind = CharField(max_length=16)  # after_sale | merchant | stray_payment | group_failed
    after_sale_id = IntegerField(null=True)
    amount_fen = BigIntegerField()
    reason = CharField(max_length=255, default="")
    restock = TextField(default="{}")
    status = CharField(max_length=16, default=REFUND_PENDING)
    refund_id = CharField(max_length=64, default="")
    provider_status = CharField(max_length=32, default="")
    last_error = CharField(max_length=255, default="")
    created_at = UTCDateTimeField(default=utcnow)
    submitted_at = UTCDateTimeField(null=True)
    finished_at = UTCDateTimeField(null=True)
    checked_at = UTCDateTimeField(null=True)  # last submission or query by refresh_refunds

    class Meta:
        # (status, finished_at): settlement reads the refunds that succeeded in a period.
        indexes = ((("order", "seq"), True), (("status", "created_at"), False),
                   (("status", "finished_at"), False))


class ServiceCode(BaseModel):
    """The single-use code of a paid service order, redeemed at the merchant's counter."""

    id = AutoField()
    order = ForeignKeyField(Order, backref="service_codes", on_delete="CASCADE", unique=True)
    code = CharField(max_length=20, unique=True)
    merchant_id = IntegerField(index=True)
    user_id = IntegerField()
    status = CharField(max_length=16, default="active")  # active | redeemed | void
    valid_until = UTCDateTimeField()
    redeemed_at = UTCDateTimeField(null=True)
    redeemed_by = IntegerField(null=True)  # staff user id
    created_at = UTCDateTimeField(default=utcnow)


class CartItem(BaseModel):
    """One item in a consumer's cart; prices are never kept here (read at checkout)."""

    id = AutoField()
    user = ForeignKeyField(User, backref="cart_items", on_delete="CASCADE")
    item = ForeignKeyField(CatalogItem, backref="in_carts", on_delete="CASCADE")
    quantity = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "item"), True),)
