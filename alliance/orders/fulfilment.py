"""After payment: what a paid order brings (points, service code, sales, the buyer's
notification) and how it is fulfilled: goods are confirmed, shipped and received; services
are redeemed at the counter with their code."""
from __future__ import annotations

import datetime as dt

from peewee import IntegrityError, fn

from alliance.db import db, transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.merchants.aggregates import record_sale
from alliance.orders.access import merchant_order, owned_order
from alliance.orders.context import OrderContext
from alliance.orders.errors import OrderStateConflict
from alliance.orders.models import (COMPLETED, GOODS, PAID, SERVICE, SERVICE_ISSUED, SHIPPED,
                                    Order, OrderLine, ServiceCode)
from alliance.orders.numbers import new_service_code
from alliance.points import services as points

SERVICE_CODE_VALIDITY = dt.timedelta(days=180)
AUTO_RECEIPT_AFTER = dt.timedelta(days=10)


class CodeNotFound(AllianceError):
    code = "CODE_NOT_FOUND"
    http_status = 404
    message = "核销码不存在"


class CodeAlreadyRedeemed(AllianceError):
    code = "CODE_ALREADY_REDEEMED"
    http_status = 409
    message = "该核销码已使用"


class CodeExpired(AllianceError):
    code = "CODE_EXPIRED"
    http_status = 409
    message = "该核销码已过期"


class CodeNotValidHere(AllianceError):
    code = "CODE_NOT_VALID_HERE"
    http_status = 409
    message = "该核销码不能在本店使用"


def on_paid(octx: OrderContext, order: Order, now: dt.datetime) -> None:
    """The effects of a payment, in its transaction (the caller's guarded UPDATE made the
    order paid exactly once): points earned (funded by the merchant), the service code,
    the merchant's sales, and the buyer's ``order.paid`` notification."""
    if order.earn_points:
        points.earn(order.user_id, order.earn_points, merchant_id=order.merchant_id,
                    idempotency_key=f"order:{order.order_no}:earn", ref_type="order",
                    ref_id=order.order_no, memo="消费得积分", now=now)
    code = _issue_service_code(order, now) if order.kind == SERVICE else None
    units = (OrderLine.select(fn.SUM(OrderLine.quantity))
             .where(OrderLine.order == order.id).scalar() or 0)
    record_sale(order.merchant_id, order.paid_fen, units)
    data = {"order_no": order.order_no, "paid_fen": order.paid_fen,
            "merchant_id": order.merchant_id, "earn_points": order.earn_points}
    if code is not None:
        data["service_code"] = code.code
    octx.notifier.notify("order.paid", user_id=order.user_id, data=data,
                         dedupe_key=f"order.paid:{order.order_no}")


def _issue_service_code(order: Order, now: dt.datetime) -> ServiceCode:
    for attempt in range(5):
        try:
            with db.atomic():
                return ServiceCode.create(order=order.id, code=new_service_code(),
                                          merchant_id=order.merchant_id, user_id=order.user_id,
                                          valid_until=now + SERVICE_CODE_VALIDITY, created_at=now)
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _move(order: Order, from_status: str, **changes) -> None:
    """The guarded status change every fulfilment step is made of."""
    moved = (Order.update(updated_at=utcnow(), **changes)
             .where(Order.id == order.id, Order.status == from_status).execute())
    if not moved:
        raise OrderStateConflict(details={"order_no": order.order_no,
                                          "status": Order.get_by_id(order.id).status})


def confirm_order(merchant_id: int, order_no: str) -> Order:
    """The merchant accepts a paid goods order (接单); it stays paid until shipped."""
    with transaction():
        order = merchant_order(merchant_id, order_no)
        if order.kind != GOODS or order.confirmed_at is not None:
            raise OrderStateConflict(details={"order_no": order_no, "status": order.status})
        _move(order, PAID, confirmed_at=utcnow())
    return Order.get_by_id(order.id)


def ship_order(merchant_id: int, order_no: str, carrier: str, tracking_no: str) -> Order:
    """Ship a paid goods order with the carrier's name and tracking number."""
    if not carrier or not tracking_no:
        raise ValidationFailed("请填写快递公司和运单号", details={"field": "tracking_no"})
    now = utcnow()
    with transaction():
        order = merchant_order(merchant_id, order_no)
        if order.kind != GOODS:
            raise OrderStateConflict(details={"order_no": order_no, "kind": order.kind})
        _move(order, PAID, status=SHIPPED, shipped_at=now, carrier=carrier,
              tracking_no=tracking_no, confirmed_at=order.confirmed_at or now)
    return Order.get_by_id(order.id)


def confirm_receipt(user_id: int, order_no: str) -> Order:
    """The buyer received a shipped order: it is completed."""
    with transaction():
        order = owned_order(user_id, order_no)
        _move(order, SHIPPED, status=COMPLETED, completed_at=utcnow())
    return Order.get_by_id(order.id)


def complete_delivered_orders(now: dt.datetime | None = None, after: dt.timedelta = AUTO_RECEIPT_AFTER,
                              limit: int = 500) -> int:
    """Complete shipped orders whose buyer did not confirm receipt within ``after``; how
    many (for the scheduler; safe to run concurrently: each order moves once)."""
    now = now or utcnow()
    rows = list(Order.select(Order.id).where(Order.status == SHIPPED,
                                             Order.shipped_at <= now - after).limit(limit))
    done = 0
    for row in rows:
        with transaction():
            done += (Order.update(status=COMPLETED, completed_at=now, updated_at=now)
                     .where(Order.id == row.id, Order.status == SHIPPED).execute())
    return done


def find_service_code(code: str) -> ServiceCode:
    found = ServiceCode.get_or_none(ServiceCode.code == code) if isinstance(code, str) else None
    if found is None:
        raise CodeNotFound(details={"code": str(code)[:20]})
    return found


def redeem_service_code(code: str, merchant_id: int, staff_user_id: int,
                        now: dt.datetime | None = None) -> ServiceCode:
    """Redeem a service order's code at ``merchant_id``'s counter: the order completes.

    Single use even when two counters scan at once (guarded UPDATEs on the code and the
    order): CODE_ALREADY_REDEEMED, CODE_EXPIRED, CODE_NOT_VALID_HERE (another merchant's, or
    an order being refunded), CODE_NOT_FOUND.
    """
    now = now or utcnow()
    with transaction():
        found = find_service_code(code)
        if found.merchant_id != merchant_id:
            raise CodeNotValidHere(details={"code": code})
        if found.status == "redeemed":
            raise CodeAlreadyRedeemed(details={"code": code, "redeemed_at": str(found.redeemed_at)})
        if found.status != "active":
            raise CodeNotValidHere(details={"code": code, "status": found.status})
        if found.valid_until <= now:
            raise CodeExpired(details={"code": code})
        taken = (ServiceCode.update(status="redeemed", redeemed_at=now, redeemed_by=staff_user_id)
                 .where(ServiceCode.id == found.id, ServiceCode.status == "active").execute())
        if not taken:
            raise CodeAlreadyRedeemed(details={"code": code})
        completed = (Order.update(status=COMPLETED, completed_at=now, updated_at=now)
                     .where(Order.id == found.order_id, Order.status == SERVICE_ISSUED).execute())
        if not completed:  # refunding or refunded meanwhile: the code is not usable now
            raise CodeNotValidHere(details={"code": code, "reason": "order not redeemable"})
    return ServiceCode.get_by_id(found.id)
