"""Paying an order: payment attempts with the providers, their notifications, and the
active query that stands in for a notification that never came.

A notification is matched by ``out_trade_no`` AND amount. Its effect is one guarded UPDATE
of the attempt (open|closed -> paid) and one of the order (pending_payment -> paid): repeats,
concurrent repeats and a query confirming the same payment change nothing more. A payment of
an order that no longer waits for it (cancelled, or paid through another attempt) is
refunded automatically.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from peewee import IntegrityError, fn

from alliance.accounts.models import WechatIdentity
from alliance.campaigns.models import CampaignGroupMember
from alliance.clock import to_local_iso
from alliance.db import after_commit, db, single_write, transaction, utcnow
from alliance.prepared import Arg, Prepared
from alliance.errors import AllianceError, Conflict
from alliance.merchants.models import Merchant
from alliance.orders import fulfilment, refunds
from alliance.orders.abnormal import flag_abnormal
from alliance.orders.access import owned_order
from alliance.orders.context import OrderContext
from alliance.orders.errors import OrderNotPayable, OrderPaymentExpired, PayerIdentityRequired
from alliance.orders.models import (ATTEMPT_ABNORMAL, ATTEMPT_CLOSED, ATTEMPT_OPEN, ATTEMPT_PAID,
                                    PAID, PENDING_PAYMENT, SERVICE, SERVICE_ISSUED, Order,
                                    OrderLine, PaymentAttempt)
from alliance.orders.numbers import out_trade_no
from alliance.payments.channels import ALIPAY, gateway_for
from alliance.payments.errors import (PaymentAlreadyPaid, PaymentTradeClosed, PaymentTradeExists,
                                      PaymentTradeNotFound, PaymentUnavailable)
from alliance.ports import PaymentNotice, PrepayRequest, PrepayResult

log = logging.getLogger("alliance.orders.payments")

RECONCILE_AFTER = dt.timedelta(minutes=5)


class PaymentInProgress(Conflict):
    code = "PAYMENT_IN_PROGRESS"
    message = "支付请求处理中，请稍后再试"


def start_payment(octx: OrderContext, user_id: int, order_no: str, channel: str,
                  client_ip: str | None = None) -> dict:
    """Open (or reopen) the order's trade on ``channel``; what the mini-program pays with.

    Switching channel closes the other channel's open trade first (a trade found paid
    there is applied, and this one refused). The same channel again reuses its trade.
    """
    gateway = gateway_for(octx.gateways, channel)
    for _ in range(2):
        attempt, others, order, payer = _prepare_attempt(octx, user_id, order_no, channel)
        if any(close_attempt(octx, other) == "paid" for other in others):
            raise OrderNotPayable(details={"order_no": order_no, "status": PAID})
        try:
            result = gateway.prepay(PrepayRequest(
                out_trade_no=attempt.out_trade_no, amount_fen=attempt.amount_fen,
                description=_description(order), payer_openid=payer,
                time_expire=order.expires_at, client_ip=client_ip))
        except PaymentAlreadyPaid:
            apply_trade_query(octx, attempt)
            raise OrderNotPayable(details={"order_no": order_no, "status": PAID}) from None
        except (PaymentTradeClosed, PaymentTradeExists):
            _mark_closed(attempt, "closed at the provider")  # the next round opens a new one
            continue
        with transaction():
            (PaymentAttempt.update(provider_ref=result.provider_ref)
             .where(PaymentAttempt.id == attempt.id).execute())
        return payment_view(order, attempt, result)
    raise PaymentInProgress(details={"order_no": order_no})


class _Raced(Exception):
    """Another request of the order opened its next trade at the same moment."""


def _prepare_attempt(octx: OrderContext, user_id: int, order_no: str, channel: str):
    """The order's open trade on ``channel`` (opened when there is none), its open trades on
    other channels, the order and the payer. A request racing another of the same order
    (a double tap on 支付) reads again once the other's trade is there, and shares it."""
    for _ in range(3):
        try:
            return _read_or_open_attempt(octx, user_id, order_no, channel)
        except _Raced:
            continue
    raise PaymentInProgress(details={"order_no": order_no})


def _read_or_open_attempt(octx: OrderContext, user_id: int, order_no: str, channel: str):
    now = utcnow()
    with transaction():
        order = owned_order(user_id, order_no)
        if order.status != PENDING_PAYMENT:
            raise OrderNotPayable(details={"order_no": order_no, "status": order.status})
        if order.expires_at <= now:
            raise OrderPaymentExpired(details={"order_no": order_no})
        payer = _payer(octx, user_id, channel)
        open_attempts = list(PaymentAttempt.select().where(PaymentAttempt.order == order.id,
                                                           PaymentAttempt.status == ATTEMPT_OPEN)
                             .order_by(PaymentAttempt.seq.desc()))
        same = [a for a in open_attempts if a.channel == channel]
        others = [a for a in open_attempts if a.channel != channel]
        attempt = same[0] if same else _new_attempt(order, channel)
    return attempt, others, order, payer


def _new_attempt(order: Order, channel: str) -> PaymentAttempt:
    seq = (PaymentAttempt.select(fn.MAX(PaymentAttempt.seq))
           .where(PaymentAttempt.order == order.id).scalar() or 0) + 1
    try:
        with db.atomic():
            return PaymentAttempt.create(order=order.id, seq=seq, channel=channel,
                                         out_trade_no=out_trade_no(order.order_no, seq),
                                         amount_fen=order.payable_fen)
    except IntegrityError:  # the same order asked to pay twice at once: the other's is there
        raise _Raced() from None


def _payer(octx: OrderContext, user_id: int, channel: str) -> str | None:
    if channel == ALIPAY:
        return None
    identity = WechatIdentity.get_or_none(WechatIdentity.user == user_id,
                                          WechatIdentity.appid == octx.miniapp_appid)
    if identity is None:
        raise PayerIdentityRequired(details={"channel": channel})
    return identity.openid


def _description(order: Order) -> str:
    names = [line.name for line in OrderLine.select(OrderLine.name)
             .where(OrderLine.order == order.id).order_by(OrderLine.id).limit(2)]
    text = names[0] if len(names) == 1 else f"{names[0]}等"
    return f"{order.merchant.name}-{text}"[:120]


def payment_view(order: Order, attempt: PaymentAttempt, result: PrepayResult) -> dict:
    """The answer of POST /orders/{order_no}/payments."""
    view = {"order_no": order.order_no, "channel": attempt.channel,
            "out_trade_no": attempt.out_trade_no, "amount_fen": attempt.amount_fen,
            "expires_at": to_local_iso(order.expires_at), "client_params": result.client_params}
    if attempt.channel == ALIPAY:
        view["order_string"] = result.client_params.get("order_string", "")
        if "trade_no" in result.client_params:
            view["trade_no"] = result.client_params["trade_no"]
    else:
        view["request_payment"] = result.client_params
    return view


# -- notifications ------------------------------------------------------------------------
# Every first arrival of a payment runs these: their SQL is built once
# (alliance.prepared.Prepared).
_TAKE_ATTEMPT = Prepared(lambda: PaymentAttempt.update(
    status=ATTEMPT_PAID, paid_at=Arg(1, PaymentAttempt.paid_at),
    transaction_id=Arg(2, PaymentAttempt.transaction_id), note=Arg(3, PaymentAttempt.note))
    .where(PaymentAttempt.id == Arg(0),
           PaymentAttempt.status.in_([ATTEMPT_OPEN, ATTEMPT_CLOSED])))


def _trade_with_order():
    """The trade of an ``out_trade_no`` (its order's ``trade``) with what fulfilment.on_paid
    reads of the order (with the columns the payment writes, set below), its units, its
    group buy's group (None: not a group order), how many of its other trades are still open, its merchant's name and the payment's terms (the
    buyer's membership and referral attribution): one read. Only the columns used here:
    PyMySQL parses a descriptor for every column of every result, and the order's row is
    wide."""
    other = PaymentAttempt.alias("other")
    query = (Order.select(
        PaymentAttempt.id, PaymentAttempt.order, PaymentAttempt.channel,
        PaymentAttempt.amount_fen,
        Order.id, Order.order_no, Order.user, Order.merchant, Order.kind, Order.shipping_fen,
        Order.coupon_ids, Order.member_day_points_pct, Merchant.id, Merchant.name,
        OrderLine.select(fn.SUM(OrderLine.quantity)).where(OrderLine.order == Order.id)
        .alias("units"),
        CampaignGroupMember.select(CampaignGroupMember.group)
        .where(CampaignGroupMember.order_id == Order.id).alias("group_id"),
        other.select(fn.COUNT(other.id))
        .where(other.order == Order.id, other.status == ATTEMPT_OPEN,
               other.id != PaymentAttempt.id).alias("open_attempts"))
        .join(PaymentAttempt, on=(PaymentAttempt.order == Order.id), attr="trade")
        .switch(Order).join(Merchant)
        .where(PaymentAttempt.out_trade_no == Arg(0)).limit(1))
    return fulfilment.join_payment_terms(query)


_TRADE_WITH_ORDER = Prepared(_trade_with_order)
_PAY_ORDER = Prepared(lambda: Order.update(
    status=Arg(1, Order.status), paid_at=Arg(2, Order.paid_at), paid_fen=Arg(3, Order.paid_fen),
    paid_attempt_id=Arg(4, Order.paid_attempt_id), paid_channel=Arg(5, Order.paid_channel),
    transaction_id=Arg(6, Order.transaction_id), updated_at=Arg(7, Order.updated_at),
    earn_points=Arg(8, Order.earn_points))
    .where(Order.id == Arg(0), Order.status == PENDING_PAYMENT))
# What close_quietly needs of the other open trades.
_OPEN_ATTEMPTS = Prepared(lambda: PaymentAttempt.select(
    PaymentAttempt.id, PaymentAttempt.order, PaymentAttempt.channel, PaymentAttempt.out_trade_no,
    PaymentAttempt.amount_fen, PaymentAttempt.status)
    .where(PaymentAttempt.order == Arg(0), PaymentAttempt.status == ATTEMPT_OPEN))


@dataclass(frozen=True)
class PaymentReads:
    """What applying a payment notice reads before it writes (``read_payment``)."""

    attempt: PaymentAttempt | None
    order: Order | None = None  # as _TRADE_WITH_ORDER reads it, when the notice pays
    terms: fulfilment.PaymentTerms | None = None  # what the payment earns, and its referral


def read_payment(notice: PaymentNotice) -> PaymentReads:
    """The reads of ``apply_payment_notice``, made before its transaction (the notices'
    ``prepare``): the attempt's trade, channel and amount and the order's columns read here
    never change once written, and the purchase terms are the buyer's as of now (a purchase
    counted meanwhile at the same merchant is added to the membership all the same; a trade
    of another channel opened meanwhile is closed by ``reconcile_pending_payments``). The
    writes that follow are guarded, so a payment applied meanwhile changes nothing twice."""
    order = _TRADE_WITH_ORDER.first(notice.out_trade_no)
    if order is None:
        return PaymentReads(None)
    attempt = order.trade
    if (attempt.channel != notice.channel or not notice.paid
            or notice.amount_fen != attempt.amount_fen):
        return PaymentReads(attempt)
    return PaymentReads(attempt, order, fulfilment.payment_terms(order, attempt.amount_fen))


def apply_payment_notice(octx: OrderContext, notice: PaymentNotice,
                         reads: PaymentReads | None = None) -> str | None:
    """The registered payment handler (runs in the notification's transaction; ``reads``:
    what ``read_payment`` read just before it, read here when None).

    Returns None when applied (or already applied), or the reason the notice is abnormal:
    UNKNOWN_TRADE, AMOUNT_MISMATCH (the order is flagged abnormal and stays unpaid, and
    what the buyer paid goes back: the trade cannot pay the order).
    """
    now = utcnow()
    reads = reads or read_payment(notice)
    attempt = reads.attempt
    if attempt is None or attempt.channel != notice.channel:
        return "UNKNOWN_TRADE"
    if not notice.paid:
        _close_row(attempt, now, f"provider: {notice.trade_state}")
        return None
    if notice.amount_fen != attempt.amount_fen:
        moved = (PaymentAttempt.update(status=ATTEMPT_ABNORMAL, transaction_id=notice.transaction_id,
                                       note=f"notified {notice.amount_fen} fen, expected {attempt.amount_fen}")
                 .where(PaymentAttempt.id == attempt.id,
                        PaymentAttempt.status.in_([ATTEMPT_OPEN, ATTEMPT_CLOSED])).execute())
        if moved:
            flag_abnormal(attempt.order_id, "AMOUNT_MISMATCH", now)
            if notice.amount_fen > 0:  # a query may not say how much (-1): operators look
                refunds.refund_stray_payment(octx, attempt, now, paid_fen=notice.amount_fen)
        return "AMOUNT_MISMATCH"
    paid_at = notice.paid_at or now
    taken = _TAKE_ATTEMPT.execute(attempt.id, paid_at, notice.transaction_id,
                                  f"paid: {notice.notification_id}"[:255])
    if not taken:
        return None  # this payment was applied already
    order, terms = reads.order, reads.terms
    # A group service order is issued its code when its group succeeds, not now.
    status = SERVICE_ISSUED if order.kind == SERVICE and order.group_id is None else PAID
    paid = _PAY_ORDER.execute(order.id, status, paid_at, attempt.amount_fen, attempt.id,
                              attempt.channel, notice.transaction_id, now, terms.earned)
    if paid:
        # The row now holds what the guarded UPDATE wrote: the same values, as stored.
        order.status, order.paid_fen, order.paid_attempt_id = status, attempt.amount_fen, attempt.id
        order.paid_channel, order.transaction_id = attempt.channel, notice.transaction_id
        order.paid_at = Order.paid_at.db_value(paid_at)
        order.updated_at = Order.updated_at.db_value(now)
        order.earn_points = terms.earned
        fulfilment.on_paid(octx, order, terms, now)
        if order.open_attempts:  # trades of other channels still open: no second payment, please
            others = _OPEN_ATTEMPTS.rows(order.id)
            after_commit(lambda: close_quietly(octx, others))
    else:
        refunds.refund_stray_payment(octx, PaymentAttempt.get_by_id(attempt.id), now)
    return None


def _close_row(attempt: PaymentAttempt, now: dt.datetime, note: str) -> int:
    return (PaymentAttempt.update(status=ATTEMPT_CLOSED, closed_at=now, note=note[:255])
            .where(PaymentAttempt.id == attempt.id, PaymentAttempt.status == ATTEMPT_OPEN)
            .execute())


def _mark_closed(attempt: PaymentAttempt, note: str) -> None:
    with transaction():
        _close_row(attempt, utcnow(), note)


# -- closing and querying trades (outside transactions: they call the provider) ----------
def close_quietly(octx: OrderContext, attempts: list[PaymentAttempt]) -> None:
    """Close trades after a commit; a failure is logged (``reconcile_pending_payments``
    closes what is left open)."""
    for attempt in attempts:
        try:
            close_attempt(octx, attempt)
        except Exception:
            log.exception("closing %s failed", attempt.out_trade_no)


def close_attempt(octx: OrderContext, attempt: PaymentAttempt) -> str:
    """Close the attempt's trade at the provider: "closed", "paid" (it had been paid: the
    payment is applied) or "unknown" (the provider did not answer; try again later)."""
    gateway = octx.gateways.get(attempt.channel)
    if gateway is None:
        return "unknown"
    try:
        gateway.close(attempt.out_trade_no)
    except (PaymentTradeNotFound, PaymentTradeClosed):
        pass  # never opened by the buyer, or closed already: it cannot be paid either way
    except PaymentUnavailable:
        return "unknown"
    except AllianceError:  # e.g. paid meanwhile: the trade's state decides
        return apply_trade_query(octx, attempt)
    _mark_closed(attempt, "closed by us")
    return "closed"


def apply_trade_query(octx: OrderContext, attempt: PaymentAttempt) -> str:
    """Ask the provider about the attempt's trade and act on the answer: "paid" (applied
    as its notification would be), "closed", or "unknown" (unpaid or no answer)."""
    # Marked before the question: an attempt whose query fails (a provider down, a channel
    # not configured) goes to the back of reconcile_pending_payments' queue all the same.
    with single_write():
        (PaymentAttempt.update(checked_at=utcnow()).where(PaymentAttempt.id == attempt.id).execute())
    gateway = octx.gateways.get(attempt.channel)
    if gateway is None:
        return "unknown"
    try:
        result = gateway.query(attempt.out_trade_no)
    except AllianceError as exc:
        log.warning("query of %s failed: %s", attempt.out_trade_no, exc.code)
        return "unknown"
    with transaction():
        if result.state in ("paid", "refunded"):
            notice = PaymentNotice(
                channel=attempt.channel, notification_id=f"query:{attempt.out_trade_no}",
                out_trade_no=attempt.out_trade_no, transaction_id=result.transaction_id or "",
                amount_fen=result.amount_fen if result.amount_fen is not None else -1,
                paid=True, trade_state=result.provider_state, paid_at=result.paid_at,
                payer=result.payer, raw={"source": "query"})
            return "unknown" if apply_payment_notice(octx, notice) else "paid"
        if result.state in ("closed", "not_found"):
            _close_row(attempt, utcnow(), f"query: {result.provider_state}")
            return "closed"
    return "unknown"


def reconcile_pending_payments(octx: OrderContext, now: dt.datetime | None = None,
                               older_than: dt.timedelta = RECONCILE_AFTER,
                               limit: int = 100) -> dict[str, int]:
    """For the scheduler: query open attempts older than ``older_than`` that no
    notification settled. Paid ones are applied; closed ones closed; those of orders that
    no longer wait (cancelled, paid otherwise, past their deadline) closed at the provider.
    Safe to run concurrently (every effect is a guarded UPDATE)."""
    now = now or utcnow()
    attempts = list(PaymentAttempt.select().where(PaymentAttempt.status == ATTEMPT_OPEN,
                                                  PaymentAttempt.created_at <= now - older_than)
                    .order_by(PaymentAttempt.checked_at, PaymentAttempt.id).limit(limit))
    counts = {"checked": 0, "paid": 0, "closed": 0}
    for attempt in attempts:
        counts["checked"] += 1
        outcome = apply_trade_query(octx, attempt)
        if outcome == "unknown":
            order = Order.get_by_id(attempt.order_id)
            if order.status != PENDING_PAYMENT or order.expires_at <= now:
                outcome = close_attempt(octx, attempt)
        if outcome in counts:
            counts[outcome] += 1
    return counts
