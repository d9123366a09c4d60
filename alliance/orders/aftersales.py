"""After-sales: a buyer asks for money back (``refund``) or returns goods for it
(``return_refund``); the merchant decides; a rejected request can go to the platform,
whose operators decide for good. One request per order is open at a time.

    refund:         requested -> refunding -> refunded | failed
    return_refund:  requested -> approved -> returned (goods sent back) -> refunding -> ...
    either:         requested -> rejected -> arbitrating -> refunding | closed
                    requested | approved | rejected -> closed (withdrawn by the buyer)
                    failed -> (arbitration) -> refunding again
"""
from __future__ import annotations

import datetime as dt
import json

from alliance.accounts.operators import record_audit
from alliance.campaigns.groups import refuse_while_waiting
from alliance.db import transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.media.services import owned_upload
from alliance.orders import refunds
from alliance.orders.access import merchant_order, owned_order
from alliance.orders.aftersale_models import (AFTER_SALE_KINDS, AS_APPROVED, AS_ARBITRATING,
                                              AS_CLOSED, AS_FAILED, AS_REFUNDING, AS_REJECTED,
                                              AS_REQUESTED, AS_RETURNED, AfterSale)
from alliance.orders.context import OrderContext
from alliance.orders.errors import (AfterSaleNotFound, AfterSaleOpen, AfterSaleWindowClosed,
                                    OrderStateConflict, RefundAmountInvalid)
from alliance.orders.models import (COMPLETED, GOODS, REFUND_AFTER_SALE, REFUND_MERCHANT,
                                    REFUNDABLE, SHIPPED, Order, OrderLine, Refund)

AFTER_SALE_WINDOW = dt.timedelta(days=15)
MAX_PHOTOS = 9


def photo_ids(user_id: int, photos: list, purpose: str, field: str = "photos") -> str:
    """Check the buyer's uploaded photos (their own, of ``purpose``); as stored (JSON)."""
    if not isinstance(photos, list) or len(photos) > MAX_PHOTOS:
        raise ValidationFailed("最多上传 9 张图片", details={"field": field, "max": MAX_PHOTOS})
    return json.dumps([owned_upload(user_id, p, (purpose,), field) for p in photos])


def _units(order: Order, lines: dict) -> dict[int, int]:
    found = {line.id: line for line in OrderLine.select().where(OrderLine.order == order.id)}
    units: dict[int, int] = {}
    for line_id, quantity in lines.items():
        line = found.get(line_id)
        if line is None or not 1 <= quantity <= line.quantity - line.returned_quantity:
            raise ValidationFailed("退货商品或数量有误", details={"field": "lines", "line_id": line_id})
        units[line_id] = quantity
    return units


def request_after_sale(user_id: int, order_no: str, *, kind: str, reason: str,
                       amount_fen: int | None = None, photos: list | None = None,
                       lines: dict[int, int] | None = None, now: dt.datetime | None = None) -> AfterSale:
    """The buyer opens an after-sale request (amount defaults to all that is refundable);
    not for a group order waiting for its group (GROUP_PENDING)."""
    now = now or utcnow()
    if kind not in AFTER_SALE_KINDS:
        raise ValidationFailed("售后类型不正确", details={"field": "kind", "choices": list(AFTER_SALE_KINDS)})
    with transaction():
        order = owned_order(user_id, order_no)
        if order.status not in REFUNDABLE:
            raise OrderStateConflict(details={"order_no": order_no, "status": order.status})
        refuse_while_waiting(order)  # refunded in full by its group's failure, if it fails
        if kind == "return_refund" and (order.kind != GOODS or order.status not in (SHIPPED, COMPLETED)):
            raise OrderStateConflict("订单尚未发货，请申请仅退款", details={"order_no": order_no})
        if order.status == COMPLETED and order.completed_at < now - AFTER_SALE_WINDOW:
            raise AfterSaleWindowClosed(details={"days": AFTER_SALE_WINDOW.days})
        refundable = refunds.refundable_fen(order)
        amount = refundable if amount_fen is None else amount_fen
        if not 1 <= amount <= refundable:
            raise RefundAmountInvalid(details={"field": "amount_fen", "refundable_fen": refundable})
        request = AfterSale.create(
            order=order.id, user_id=user_id, merchant_id=order.merchant_id, kind=kind,
            amount_fen=amount, reason=reason, photos=photo_ids(user_id, photos or [], "evidence"),
            lines=json.dumps(_units(order, lines or {})), created_at=now, updated_at=now)
        opened = (Order.update(open_after_sale_id=request.id)
                  .where(Order.id == order.id, Order.open_after_sale_id.is_null()).execute())
        if not opened:
            raise AfterSaleOpen(details={"order_no": order_no})
    return request


def _find(after_sale_id: int, **owner) -> AfterSale:
    query = AfterSale.select().where(AfterSale.id == after_sale_id)
    for name, value in owner.items():
        query = query.where(getattr(AfterSale, name) == value)
    found = query.first()
    if found is None:
        raise AfterSaleNotFound(details={"after_sale_id": after_sale_id})
    return found


def get_own_after_sale(user_id: int, after_sale_id: int) -> AfterSale:
    return _find(after_sale_id, user_id=user_id)


def get_merchant_after_sale(merchant_id: int, after_sale_id: int) -> AfterSale:
    return _find(after_sale_id, merchant_id=merchant_id)


def _move(request: AfterSale, from_statuses: tuple[str, ...], **changes) -> None:
    moved = (AfterSale.update(updated_at=utcnow(), **changes)
             .where(AfterSale.id == request.id, AfterSale.status.in_(list(from_statuses))).execute())
    if not moved:
        raise OrderStateConflict("售后申请当前状态不能进行此操作",
                                 details={"after_sale_id": request.id,
                                          "status": AfterSale.get_by_id(request.id).status})


def _refund(octx: OrderContext, request: AfterSale, from_statuses: tuple[str, ...],
            amount_fen: int | None = None, **changes) -> None:
    order = Order.get_by_id(request.order_id)
    amount = amount_fen or request.amount_fen
    # Only goods that came back go back on the shelf: a refund-only request gives money, and
    # the units it names stay shipped or to ship (a full refund of an order that nothing
    # left restocks it all, in refunds._succeeded).
    returned = json.loads(request.lines or "{}") if request.kind == "return_refund" else {}
    refund = refunds.start_refund(octx, order, amount, kind=REFUND_AFTER_SALE,
                                  reason=request.reason, after_sale_id=request.id,
                                  restock=returned)
    _move(request, from_statuses, status=AS_REFUNDING, refund_id=refund.id, amount_fen=amount,
          **changes)


def decide(octx: OrderContext, merchant_id: int, staff_user_id: int, after_sale_id: int,
           approve: bool, note: str = "") -> AfterSale:
    """The merchant's decision on a request: approve (refund now, or wait for the returned
    goods) or reject with a note."""
    now = utcnow()
    with transaction():
        request = get_merchant_after_sale(merchant_id, after_sale_id)
        decision = {"merchant_note": note, "decided_by": staff_user_id, "decided_at": now}
        if not approve:
            if not note:
                raise ValidationFailed("请填写拒绝原因", details={"field": "note"})
            _move(request, (AS_REQUESTED,), status=AS_REJECTED, **decision)
        elif request.kind == "return_refund":
            _move(request, (AS_REQUESTED,), status=AS_APPROVED, **decision)
        else:
            _refund(octx, request, (AS_REQUESTED,), **decision)
    return AfterSale.get_by_id(after_sale_id)


def send_return(user_id: int, after_sale_id: int, carrier: str, tracking_no: str) -> AfterSale:
    """The buyer sent the goods back (carrier and tracking number)."""
    with transaction():
        request = get_own_after_sale(user_id, after_sale_id)
        _move(request, (AS_APPROVED,), status=AS_RETURNED, return_carrier=carrier,
              return_tracking_no=tracking_no)
    return AfterSale.get_by_id(after_sale_id)


def receive_return(octx: OrderContext, merchant_id: int, after_sale_id: int) -> AfterSale:
    """The merchant got the goods back: the refund starts."""
    with transaction():
        request = get_merchant_after_sale(merchant_id, after_sale_id)
        _refund(octx, request, (AS_RETURNED,))
    return AfterSale.get_by_id(after_sale_id)


def escalate(user_id: int, after_sale_id: int, reason: str) -> AfterSale:
    """The buyer asks the platform to arbitrate a rejected request."""
    with transaction():
        request = get_own_after_sale(user_id, after_sale_id)
        _move(request, (AS_REJECTED,), status=AS_ARBITRATING, arbitration_reason=reason)
    return AfterSale.get_by_id(after_sale_id)


def withdraw(user_id: int, after_sale_id: int) -> AfterSale:
    """The buyer withdraws a request no refund has started for."""
    with transaction():
        request = get_own_after_sale(user_id, after_sale_id)
        _move(request, (AS_REQUESTED, AS_APPROVED, AS_REJECTED), status=AS_CLOSED)
        _release_order(request)
    return AfterSale.get_by_id(after_sale_id)


def _release_order(request: AfterSale) -> None:
    (Order.update(open_after_sale_id=None)
     .where(Order.id == request.order_id, Order.open_after_sale_id == request.id).execute())


def arbitrate(octx: OrderContext, operator_id: int, after_sale_id: int, refund: bool,
              note: str, amount_fen: int | None = None) -> AfterSale:
    """The platform decides a disputed request (or one whose refund failed): refund
    (``amount_fen``, default the amount asked) or close it. Audited."""
    if not note:
        raise ValidationFailed("请填写仲裁说明", details={"field": "note"})
    now = utcnow()
    with transaction():
        request = _find(after_sale_id)
        decision = {"arbitration_note": note, "arbitrated_by": operator_id, "arbitrated_at": now}
        if refund:
            _refund(octx, request, (AS_ARBITRATING, AS_FAILED), amount_fen, **decision)
        else:
            _move(request, (AS_ARBITRATING, AS_FAILED), status=AS_CLOSED, **decision)
            _release_order(request)
        record_audit(operator_id, "after_sale.arbitrate", "after_sale", after_sale_id, note,
                     {"refund": refund, "amount_fen": amount_fen})
    return AfterSale.get_by_id(after_sale_id)


def merchant_refund(octx: OrderContext, merchant_id: int, order_no: str, amount_fen: int,
                    reason: str) -> Refund:
    """The merchant refunds (part of) a paid order on its own initiative."""
    with transaction():
        order = merchant_order(merchant_id, order_no)
        return refunds.start_refund(octx, order, amount_fen, kind=REFUND_MERCHANT, reason=reason)
