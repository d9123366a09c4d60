"""Refunds through the providers, their notifications, and the query that finishes the ones
no notification finished.

One refund of an order is in flight at a time: starting one moves the order to
``refunding`` by a guarded UPDATE (which also bounds the amount by what is left to refund).
It is submitted after commit under its ``out_refund_no`` (a retry reuses it). When it
succeeds the order returns to where it was, or becomes ``refunded`` once everything paid
came back; then stock, spent points and the coupon are released and earned points taken
back in proportion. A payment the order did not want (a stray payment) is refunded whole
without touching the order.
"""
from __future__ import annotations

import datetime as dt
import json
import logging

from peewee import IntegrityError, fn

from alliance.campaigns.groups import refuse_while_waiting
from alliance.coupons.checkout import restore_coupons
from alliance.db import after_commit, db, single_write, transaction, utcnow
from alliance.errors import AllianceError
from alliance.members.services import revert_purchase
from alliance.merchants.aggregates import record_sale
from alliance.orders import funding, reservations
from alliance.orders.abnormal import flag_abnormal
from alliance.orders.aftersale_models import AS_FAILED, AS_REFUNDED, AS_REFUNDING, AfterSale
from alliance.orders.context import OrderContext
from alliance.orders.errors import OrderStateConflict, RefundAmountInvalid
from alliance.orders.models import (ATTEMPT_ABNORMAL, ATTEMPT_PAID, ATTEMPT_REFUNDED, PAID,
                                    REFUND_FAILED, REFUND_GROUP_FAILED, REFUND_PENDING,
                                    REFUND_PROCESSING, REFUND_STRAY,
                                    REFUND_SUCCEEDED, REFUNDABLE, REFUNDED, REFUNDING,
                                    SERVICE_ISSUED, Order, PaymentAttempt, Refund, ServiceCode)
from alliance.orders.numbers import out_refund_no
from alliance.payments.errors import PaymentTradeClosed, PaymentTradeNotFound, RefundRejected
from alliance.points import services as points
from alliance.ports import RefundNotice, RefundRequest, RefundResult

log = logging.getLogger("alliance.orders.refunds")

REFRESH_AFTER = dt.timedelta(minutes=1)
_FINAL_FAILURES = (RefundRejected, PaymentTradeNotFound, PaymentTradeClosed)


def refundable_fen(order: Order) -> int:
    return order.paid_fen - order.refunded_fen


def start_refund(octx: OrderContext, order: Order, amount_fen: int, *, kind: str,
                 reason: str = "", after_sale_id: int | None = None,
                 restock: dict[int, int] | None = None,
                 now: dt.datetime | None = None) -> Refund:
    """Refund ``amount_fen`` of a paid order (in the caller's transaction; submitted to the
    provider after commit). ORDER_STATE_CONFLICT when it is not refundable now (unpaid,
    or a refund already in flight), REFUND_AMOUNT_INVALID beyond what is left,
    GROUP_PENDING for a group order whose group has not succeeded (only its failure refunds
    it, ``kind`` group_failed)."""
    now = now or utcnow()
    if order.status not in REFUNDABLE:
        raise OrderStateConflict(details={"order_no": order.order_no, "status": order.status})
    if kind != REFUND_GROUP_FAILED:
        refuse_while_waiting(order)
    if not isinstance(amount_fen, int) or not 1 <= amount_fen <= refundable_fen(order):
        raise RefundAmountInvalid(details={"field": "amount_fen",
                                           "refundable_fen": refundable_fen(order)})
    moved = (Order.update(status=REFUNDING, resume_status=order.status, updated_at=now)
             .where(Order.id == order.id, Order.status == order.status,
                    Order.refunded_fen + amount_fen <= Order.paid_fen).execute())
    if not moved:
        raise OrderStateConflict(details={"order_no": order.order_no, "reason": "changed"})
    refund = _new_refund(octx, order, order.paid_attempt_id, amount_fen, kind=kind,
                         reason=reason, after_sale_id=after_sale_id, restock=restock or {},
                         now=now)
    return refund


def refund_stray_payment(octx: OrderContext, attempt: PaymentAttempt, now: dt.datetime,
                         paid_fen: int | None = None) -> Refund:
    """Give back, whole, a payment the order does not take (in the caller's transaction):
    one the order no longer wanted (closed, or paid otherwise), or ``paid_fen``, another
    amount than the order's (what the provider holds, also the trade's total)."""
    if paid_fen is None:
        amount, reason = attempt.amount_fen, "订单已关闭或已支付，自动退款"
    else:
        amount, reason = paid_fen, "支付金额与订单不符，自动退款"
    return _new_refund(octx, Order.get_by_id(attempt.order_id), attempt.id, amount,
                       kind=REFUND_STRAY, reason=reason, after_sale_id=None, restock={},
                       now=now)


def _new_refund(octx: OrderContext, order: Order, attempt_id: int, amount_fen: int, *,
                kind: str, reason: str, after_sale_id: int | None, restock: dict[int, int],
                now: dt.datetime) -> Refund:
    seq = (Refund.select(fn.MAX(Refund.seq)).where(Refund.order == order.id).scalar() or 0) + 1
    try:
        with db.atomic():
            refund = Refund.create(order=order.id, attempt=attempt_id, seq=seq,
                                   out_refund_no=out_refund_no(order.order_no, seq), kind=kind,
                                   after_sale_id=after_sale_id, amount_fen=amount_fen,
                                   reason=reason[:255], restock=json.dumps(restock),
                                   created_at=now)
    except IntegrityError:
        raise OrderStateConflict("退款处理中，请稍后再试",
                                 details={"order_no": order.order_no}) from None
    after_commit(lambda: submit_refund(octx, refund.id))
    return refund


def submit_refund(octx: OrderContext, refund_id: int) -> None:
    """Send a pending refund to its provider and apply what it answers. Never raises: a
    refund the provider did not take stays pending for ``refresh_refunds``."""
    try:
        refund = Refund.get_by_id(refund_id)
        if refund.status != REFUND_PENDING:
            return
        attempt = PaymentAttempt.get_by_id(refund.attempt_id)
        gateway = octx.gateways[attempt.channel]
        # A stray payment goes back whole: its amount is the trade's total, which is not
        # the attempt's when the provider was paid another amount.
        total = refund.amount_fen if refund.kind == REFUND_STRAY else attempt.amount_fen
        result = gateway.refund(RefundRequest(attempt.out_trade_no, refund.out_refund_no,
                                              refund.amount_fen, total, refund.reason))
    except _FINAL_FAILURES as exc:
        with transaction():
            _failed(octx, refund, exc.code, utcnow())
        return
    except AllianceError as exc:
        log.warning("refund %s not submitted: %s", refund_id, exc.code)
        with transaction():
            (Refund.update(last_error=f"{exc.code} {exc.details}"[:255])
             .where(Refund.id == refund_id).execute())
        return
    except Exception:
        log.exception("refund %s not submitted", refund_id)
        return
    with transaction():
        apply_refund_result(octx, refund, result)


def apply_refund_result(octx: OrderContext, refund: Refund, result: RefundResult) -> None:
    """What the provider said of a refund (answer or query), in the caller's transaction.
    A success of another amount than the refund's is not applied but flagged, as its
    notification would be (an answer that does not say the amount says 0)."""
    if result.status == "succeeded" and result.refund_fen and \
            result.refund_fen != refund.amount_fen:
        log.error("refund %s: provider says %s fen, expected %s", refund.out_refund_no,
                  result.refund_fen, refund.amount_fen)
        flag_abnormal(refund.order_id, "REFUND_AMOUNT_MISMATCH", utcnow())
        return
    _apply_status(octx, refund, result.status, result.refund_id, result.provider_status,
                  result.succeeded_at)


def apply_refund_notice(octx: OrderContext, notice: RefundNotice) -> str | None:
    """The registered refund handler (runs in the notification's transaction): None when
    applied or already applied, UNKNOWN_REFUND or REFUND_AMOUNT_MISMATCH otherwise."""
    refund = Refund.get_or_none(Refund.out_refund_no == notice.out_refund_no)
    if refund is None:
        return "UNKNOWN_REFUND"
    attempt = PaymentAttempt.get_by_id(refund.attempt_id)
    if (attempt.channel, attempt.out_trade_no) != (notice.channel, notice.out_trade_no):
        return "UNKNOWN_REFUND"
    if notice.refund_fen is not None and notice.refund_fen != refund.amount_fen:
        flag_abnormal(refund.order_id, "REFUND_AMOUNT_MISMATCH", utcnow())
        return "REFUND_AMOUNT_MISMATCH"
    _apply_status(octx, refund, notice.status, notice.refund_id, notice.status,
                  notice.succeeded_at)
    return None


def _apply_status(octx: OrderContext, refund: Refund, status: str, refund_id: str,
                  provider_status: str, succeeded_at: dt.datetime | None) -> None:
    now = utcnow()
    if status == "succeeded":
        _succeeded(octx, refund, refund_id, provider_status, succeeded_at or now)
    elif status == "closed":
        _failed(octx, refund, f"provider: {provider_status}", now)
    else:
        (Refund.update(status=REFUND_PROCESSING, refund_id=refund_id or Refund.refund_id,
                       provider_status=provider_status[:32], submitted_at=now)
         .where(Refund.id == refund.id, Refund.status == REFUND_PENDING).execute())
        if status == "abnormal":  # stuck at the provider (e.g. the card is gone): people act
            flag_abnormal(refund.order_id, "REFUND_ABNORMAL", now)


def _succeeded(octx: OrderContext, refund: Refund, refund_id: str, provider_status: str,
               at: dt.datetime) -> None:
    taken = (Refund.update(status=REFUND_SUCCEEDED, finished_at=at, provider_status=provider_status[:32],
                           refund_id=refund_id or Refund.refund_id)
             .where(Refund.id == refund.id,
                    Refund.status.in_([REFUND_PENDING, REFUND_PROCESSING])).execute())
    if not taken:
        return
    if refund.kind == REFUND_STRAY:
        (PaymentAttempt.update(status=ATTEMPT_REFUNDED)
         .where(PaymentAttempt.id == refund.attempt_id,
                PaymentAttempt.status.in_([ATTEMPT_PAID, ATTEMPT_ABNORMAL]))
         .execute())
        return
    order = Order.get_by_id(refund.order_id)
    refunded = order.refunded_fen + refund.amount_fen
    full = refunded >= order.paid_fen
    moved = (Order.update(refunded_fen=Order.refunded_fen + refund.amount_fen,
                          status=REFUNDED if full else order.resume_status, resume_status=None,
                          updated_at=at)
             .where(Order.id == order.id, Order.status == REFUNDING).execute())
    if not moved:
        log.error("refund %s succeeded for order %s in status %s", refund.out_refund_no,
                  order.order_no, order.status)
        flag_abnormal(order.id, "REFUND_STATE", at)
        return
    units = reservations.parse_units(refund.restock)
    if full and order.resume_status in (PAID, SERVICE_ISSUED):  # nothing left the shop
        units = reservations.all_units(order)
    returned = reservations.restock(order, units)
    if full:
        reservations.release_points(order)
        restore_coupons(order.order_no)
        funding.give_back_discounts(order, at)
        (ServiceCode.update(status="void").where(ServiceCode.order == order.id,
                                                 ServiceCode.status == "active").execute())
    _take_back_purchase(order, refunded, refund.out_refund_no)
    record_sale(order.merchant_id, -refund.amount_fen, -returned)
    if refund.after_sale_id:
        (AfterSale.update(status=AS_REFUNDED, updated_at=at)
         .where(AfterSale.id == refund.after_sale_id, AfterSale.status == AS_REFUNDING).execute())
        (Order.update(open_after_sale_id=None)
         .where(Order.id == order.id, Order.open_after_sale_id == refund.after_sale_id).execute())
    octx.notifier.notify("order.refund_result", user_id=order.user_id,
                         data={"order_no": order.order_no, "refund_fen": refund.amount_fen,
                               "refunded_fen": refunded, "result": "success"},
                         dedupe_key=f"order.refund_result:{refund.out_refund_no}")


def _take_back_purchase(order: Order, refunded_fen: int, out_refund: str) -> None:
    """What the refunded share of a purchase had earned: the points, as many as the live
    points allow (out of the order's own lot first, and out of the growth value), and the
    spend counted into the membership (and with it the level). Refunds count against the
    items first, the shipping fee last (what earned the points and counts as spend)."""
    items_paid = order.paid_fen - order.shipping_fen
    before, after = min(order.refunded_fen, items_paid), min(refunded_fen, items_paid)
    target = (order.earn_points * after // items_paid if items_paid > 0 else 0) \
        - order.points_clawed_back
    take = min(target, points.balance_of(order.user_id))
    if take > 0:
        try:
            points.spend(order.user_id, take, merchant_id=order.merchant_id, kind="adjust",
                         idempotency_key=f"order:{order.order_no}:clawback:{out_refund}",
                         ref_type="order", ref_id=order.order_no, memo="订单退款，扣回消费积分",
                         from_lot=f"order:{order.order_no}:earn", unearn=True)
        except points.InsufficientPoints:
            take = 0
        else:
            (Order.update(points_clawed_back=Order.points_clawed_back + take)
             .where(Order.id == order.id).execute())
    revert_purchase(order.user_id, order.merchant_id, spent_fen=after - before,
                    points_earned=max(take, 0))


def _failed(octx: OrderContext, refund: Refund, reason: str, now: dt.datetime) -> None:
    taken = (Refund.update(status=REFUND_FAILED, last_error=reason[:255], finished_at=now)
             .where(Refund.id == refund.id,
                    Refund.status.in_([REFUND_PENDING, REFUND_PROCESSING])).execute())
    if not taken:
        return
    flag_abnormal(refund.order_id, "REFUND_FAILED", now)
    if refund.kind == REFUND_STRAY:
        return
    order = Order.get_by_id(refund.order_id)
    (Order.update(status=order.resume_status, resume_status=None, updated_at=now)
     .where(Order.id == order.id, Order.status == REFUNDING).execute())
    if refund.after_sale_id:  # stays open: operators arbitrate it again
        (AfterSale.update(status=AS_FAILED, updated_at=now)
         .where(AfterSale.id == refund.after_sale_id, AfterSale.status == AS_REFUNDING).execute())


def _mark_checked(refund: Refund, now: dt.datetime) -> None:
    """Record that ``refresh_refunds`` tried the refund (before it asks the provider, so that
    a try that fails counts too)."""
    with single_write():
        Refund.update(checked_at=now).where(Refund.id == refund.id).execute()


def refresh_refunds(octx: OrderContext, now: dt.datetime | None = None,
                    older_than: dt.timedelta = REFRESH_AFTER, limit: int = 100) -> dict[str, int]:
    """For the scheduler: submit refunds still pending (the provider did not answer) and
    query those processing for longer than ``older_than``, the least recently tried first:
    refunds that stay unfinished for days (an abnormal one at WeChat Pay, a provider that
    keeps failing) take their turn and never hold up newer ones. Safe to run concurrently."""
    now = now or utcnow()
    cutoff = now - older_than
    counts = {"submitted": 0, "queried": 0}
    for refund in (Refund.select().where(Refund.status == REFUND_PENDING, Refund.created_at <= cutoff)
                   .order_by(Refund.checked_at, Refund.id).limit(limit)):
        _mark_checked(refund, now)
        submit_refund(octx, refund.id)
        counts["submitted"] += 1
    for refund in (Refund.select().where(Refund.status == REFUND_PROCESSING,
                                         Refund.submitted_at <= cutoff)
                   .order_by(Refund.checked_at, Refund.id).limit(limit)):
        _mark_checked(refund, now)
        attempt = PaymentAttempt.get_by_id(refund.attempt_id)
        try:
            result = octx.gateways[attempt.channel].query_refund(attempt.out_trade_no,
                                                                 refund.out_refund_no)
        except AllianceError as exc:
            log.warning("refund %s query failed: %s", refund.out_refund_no, exc.code)
            continue
        with transaction():
            apply_refund_result(octx, refund, result)
        counts["queried"] += 1
    return counts
