"""The trade book the payment stand-ins share: open, pay, close and refund trades with the
rules the providers apply (one out_trade_no per merchant, refunds bounded by the amount)."""
from __future__ import annotations

import secrets

from peewee import IntegrityError, fn

from alliance.db import transaction, utcnow
from sandbox.models import SandboxRefund, SandboxTrade

NOTPAY, SUCCESS, REFUND, CLOSED = "NOTPAY", "SUCCESS", "REFUND", "CLOSED"
PAID_STATES = (SUCCESS, REFUND)


class TradeError(Exception):
    """A provider's refusal, in the stand-ins' shared words: EXISTS, NOT_FOUND, CLOSED,
    PAID, NOT_PAID, REFUND_EXCEEDS (and INVALID_ORDER_STRING from the Alipay app)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _alipay_trade_no() -> str:
    return utcnow().strftime("%Y%m%d") + "22" + digits(18)


def _prepay_id(provider: str) -> str:
    """WeChat Pay: a prepay_id (wx…); Alipay: the trade_no, fixed when the trade opens."""
    if provider == "alipay":
        return _alipay_trade_no()
    return "wx" + utcnow().strftime("%d%H%M%S") + secrets.token_hex(12)


def _transaction_id(trade: SandboxTrade) -> str:
    """WeChat Pay: 4200… (28 digits), given on payment; Alipay: the trade_no."""
    return trade.prepay_id if trade.provider == "alipay" else "4200" + digits(24)


def open_trade(provider: str, *, out_trade_no: str, amount_fen: int, description: str,
               appid: str, payer: str | None, notify_url: str,
               sign_type: str | None = None) -> SandboxTrade:
    """A new unpaid trade; the same unpaid trade again when the terms are the same."""
    try:
        with transaction():
            return SandboxTrade.create(
                provider=provider, out_trade_no=out_trade_no, amount_fen=amount_fen,
                description=description[:256], appid=appid, payer=payer, notify_url=notify_url,
                sign_type=sign_type, prepay_id=_prepay_id(provider))
    except IntegrityError:
        trade = find_trade(provider, out_trade_no)
    if trade.state in PAID_STATES:
        raise TradeError("PAID")
    if trade.state == CLOSED:
        raise TradeError("CLOSED")
    if (trade.amount_fen, trade.payer, trade.description) != (amount_fen, payer, description[:256]):
        raise TradeError("EXISTS")
    return trade


def find_trade(provider: str, out_trade_no: str | None = None,
               transaction_id: str | None = None) -> SandboxTrade:
    query = SandboxTrade.select().where(SandboxTrade.provider == provider)
    if out_trade_no is not None:
        query = query.where(SandboxTrade.out_trade_no == out_trade_no)
    if transaction_id is not None:
        query = query.where(SandboxTrade.transaction_id == transaction_id)
    trade = query.first() if (out_trade_no or transaction_id) else None
    if trade is None:
        raise TradeError("NOT_FOUND")
    return trade


def amount_override(body: dict) -> int | None:
    """The ``amount_fen`` a ``_control/pay`` call asks the trade to be paid for, if any."""
    amount = body.get("amount_fen")
    return amount if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0 \
        else None


def pay_trade(provider: str, out_trade_no: str, payer: str | None = None,
              amount_fen: int | None = None) -> SandboxTrade:
    """The buyer (``payer`` unless the trade names one) pays: NOTPAY becomes SUCCESS once;
    a paid trade answers as it is (its notification can be delivered again, as a
    provider's retry would). ``amount_fen``: the trade's total becomes that (the provider
    holds a trade of another amount than the merchant expects: its notification, queries
    and refunds all say so)."""
    trade = find_trade(provider, out_trade_no)
    if trade.state == NOTPAY:
        with transaction():
            (SandboxTrade.update(state=SUCCESS, paid_at=utcnow(),
                                 amount_fen=SandboxTrade.amount_fen if amount_fen is None
                                 else amount_fen,
                                 transaction_id=_transaction_id(trade),
                                 payer=fn.COALESCE(SandboxTrade.payer, payer),
                                 notify_id=secrets.token_hex(16))
             .where(SandboxTrade.id == trade.id, SandboxTrade.state == NOTPAY).execute())
        trade = SandboxTrade.get_by_id(trade.id)
    if trade.state == CLOSED:
        raise TradeError("CLOSED")
    return trade


def close_trade(provider: str, out_trade_no: str) -> SandboxTrade:
    trade = find_trade(provider, out_trade_no)
    with transaction():
        (SandboxTrade.update(state=CLOSED)
         .where(SandboxTrade.id == trade.id, SandboxTrade.state == NOTPAY).execute())
    trade = SandboxTrade.get_by_id(trade.id)
    if trade.state in PAID_STATES:
        raise TradeError("PAID")
    return trade


def open_refund(provider: str, out_trade_no: str, out_refund_no: str, amount_fen: int,
                notify_url: str = "") -> SandboxRefund:
    """A refund of a paid trade, bounded by what is left of it; idempotent on out_refund_no."""
    trade = find_trade(provider, out_trade_no)
    existing = SandboxRefund.get_or_none(SandboxRefund.provider == provider,
                                         SandboxRefund.out_trade_no == out_trade_no,
                                         SandboxRefund.out_refund_no == out_refund_no)
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise TradeError("EXISTS")
        return existing
    if trade.state not in PAID_STATES:
        raise TradeError("NOT_PAID")
    try:
        with transaction():
            taken = (SandboxTrade
                     .update(refunded_fen=SandboxTrade.refunded_fen + amount_fen, state=REFUND)
                     .where(SandboxTrade.id == trade.id, SandboxTrade.state.in_(PAID_STATES),
                            SandboxTrade.refunded_fen + amount_fen <= SandboxTrade.amount_fen)
                     .execute())
            if not taken:
                raise TradeError("REFUND_EXCEEDS")
            return SandboxRefund.create(
                trade=trade.id, provider=provider, out_trade_no=out_trade_no,
                out_refund_no=out_refund_no, amount_fen=amount_fen, notify_url=notify_url,
                refund_id="50" + digits(28))
    except IntegrityError:  # the same refund, asked twice at once
        return find_refund(provider, out_trade_no, out_refund_no)


def find_refund(provider: str, out_trade_no: str | None, out_refund_no: str) -> SandboxRefund:
    query = SandboxRefund.select().where(SandboxRefund.provider == provider,
                                         SandboxRefund.out_refund_no == out_refund_no)
    if out_trade_no is not None:
        query = query.where(SandboxRefund.out_trade_no == out_trade_no)
    refund = query.first()
    if refund is None:
        raise TradeError("NOT_FOUND")
    return refund


def finish_refund(refund_id: int) -> SandboxRefund:
    """The money is back with the buyer: PROCESSING becomes SUCCESS once."""
    with transaction():
        (SandboxRefund.update(status="SUCCESS", succeeded_at=utcnow())
         .where(SandboxRefund.id == refund_id, SandboxRefund.status == "PROCESSING").execute())
    return SandboxRefund.get_by_id(refund_id)
