"""What the domain needs from the outside world, as Protocols.

Adapters (wechat_handlers, payments, sandbox) implement them; server/app.py chooses them once
from the settings. Later capabilities add their ports here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Protocol


@dataclass(frozen=True)
class WeChatSession:
    """What WeChat's code-to-session exchange tells about a mini-program user."""

    appid: str
    openid: str
    unionid: str | None


@dataclass(frozen=True)
class PhoneNumber:
    phone: str  # mainland number without country code
    country_code: str


class WeChatAuth(Protocol):
    """WeChat's mini-program identity services.

    Implementations raise alliance.errors subclasses: WECHAT_CODE_INVALID (40029),
    WECHAT_CODE_USED (40163), RATE_LIMITED (45011), WECHAT_USER_BLOCKED (40226),
    UPSTREAM_UNAVAILABLE (-1 or no answer).
    """

    def code_to_session(self, code: str) -> WeChatSession:
        """Exchange a ``wx.login`` code for the user's identity."""

    def phone_number(self, code: str) -> PhoneNumber:
        """Exchange a ``getPhoneNumber`` button code for the user's phone number."""


class Notifier(Protocol):
    """Tells a person about something that happened (WeChat subscribe/template messages).

    ``notify`` is called inside the caller's transaction: the notification is recorded
    durably with it and delivered after commit, retried until delivered or permanently
    refused. ``dedupe_key`` makes a repeated call for the same business event a no-op.
    """

    def notify(self, event: str, *, user_id: int, data: dict,
               dedupe_key: str | None = None) -> None:
        """Queue ``event`` (e.g. ``order.paid``) with ``data`` for ``user_id``."""


class Storage(Protocol):
    """Keeps uploaded files (local disk, or an object store) under keys it chooses.

    Keys are opaque, random and safe to use as paths; ``read`` of an unknown key raises
    FileNotFoundError.
    """

    def save(self, data: bytes, *, suffix: str) -> str:
        """Store ``data`` under a new random key ending in ``suffix``; the key."""

    def read(self, key: str) -> bytes:
        """The bytes stored under ``key``."""

    def delete(self, key: str) -> None:
        """Forget ``key`` (no error when it is already gone)."""
# -- payments ----------------------------------------------------------------------------
# Channels: "wechatpay" (WeChat Pay API v3, JSAPI), "wechatpay_v2" (API v2, JSAPI),
# "alipay" (OpenAPI, RSA2). Money is integer fen; times are naive UTC.

TradeState = Literal["unpaid", "paid", "refunded", "closed", "not_found"]
RefundStatus = Literal["processing", "succeeded", "closed", "abnormal"]


@dataclass(frozen=True)
class PrepayRequest:
    """One trade to open with a provider: collect ``amount_fen`` under our ``out_trade_no``.

    ``out_trade_no`` is 6-32 characters of ``[0-9A-Za-z_-]``, unique per attempt (a provider
    refuses a reused one with different terms). ``payer_openid`` is required by the WeChat
    Pay channels (the payer's openid in the mini-program); ``buyer_id`` (Alipay user id,
    2088...) makes Alipay open a mini-program trade (``alipay.trade.create``) as well.
    """

    out_trade_no: str
    amount_fen: int
    description: str
    payer_openid: str | None = None
    buyer_id: str | None = None
    time_expire: dt.datetime | None = None
    client_ip: str | None = None  # WeChat Pay v2 spbill_create_ip


@dataclass(frozen=True)
class PrepayResult:
    """What the client needs to pay: ``client_params`` go to the mini-program as they are.

    wechatpay / wechatpay_v2: the ``wx.requestPayment`` parameters (``timeStamp``,
    ``nonceStr``, ``package``, ``signType``, ``paySign``). alipay: ``order_string`` (the
    signed app-pay order string) and, when a ``buyer_id`` was given, ``trade_no`` for
    ``my.tradePay``. ``provider_ref`` is the prepay_id or trade_no ("" when none).
    """

    channel: str
    out_trade_no: str
    amount_fen: int
    client_params: dict[str, str]
    provider_ref: str = ""


@dataclass(frozen=True)
class PaymentNotice:
    """A payment notification whose signature and merchant identity the gateway verified.

    ``notification_id`` identifies the provider's notification (v3 ``id``, Alipay
    ``notify_id``, v2 out_trade_no and transaction_id): repeats carry the same one.
    ``amount_fen`` is the trade's total as notified; matching it (and ``out_trade_no``)
    against the order is the domain's job. ``paid`` is false for a notice of a trade that
    closed unpaid. ``raw`` is the verified (decrypted) payload.
    """

    channel: str
    notification_id: str
    out_trade_no: str
    transaction_id: str
    amount_fen: int
    paid: bool
    trade_state: str
    paid_at: dt.datetime | None = None
    payer: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RefundNotice:
    """A verified refund notification (v3 REFUND.*, v2 req_info, Alipay refund notify).

    ``refund_fen`` is this refund's amount when the provider states it; Alipay states
    only ``refunded_total_fen``, the trade's cumulative refunds.
    """

    channel: str
    notification_id: str
    out_trade_no: str
    transaction_id: str
    out_refund_no: str
    refund_id: str
    status: RefundStatus
    refund_fen: int | None = None
    refunded_total_fen: int | None = None
    total_fen: int | None = None
    succeeded_at: dt.datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class RefundRequest:
    """Refund ``refund_fen`` of the trade ``out_trade_no`` (of ``total_fen``).

    ``out_refund_no`` is the idempotency key: a retry must reuse it, a new refund of the
    same trade needs a new one.
    """

    out_trade_no: str
    out_refund_no: str
    refund_fen: int
    total_fen: int
    reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    """A refund as the provider reports it (after applying or when queried)."""

    channel: str
    out_trade_no: str
    out_refund_no: str
    refund_id: str
    status: RefundStatus
    refund_fen: int
    provider_status: str
    succeeded_at: dt.datetime | None = None


@dataclass(frozen=True)
class TradeQueryResult:
    """A trade as the provider reports it; the fallback when no notification arrived.

    ``state``: unpaid (still payable), paid, refunded (paid, then refunded in part or
    whole), closed (closed or expired unpaid), not_found (the provider never saw it).
    """

    channel: str
    out_trade_no: str
    state: TradeState
    provider_state: str
    transaction_id: str | None = None
    amount_fen: int | None = None
    paid_at: dt.datetime | None = None
    payer: str | None = None


class PaymentGateway(Protocol):
    """A payment provider: open, query, close and refund trades; verify its notifications.

    Calls block on the network: run them on the thread pool. Failures raise
    alliance.payments.errors: PAYMENT_TRADE_EXISTS (out_trade_no reused with other terms),
    PAYMENT_TRADE_NOT_FOUND, PAYMENT_TRADE_CLOSED, PAYMENT_ALREADY_PAID,
    REFUND_REJECTED, PAYMENT_SIGN_ERROR (the provider refused our signature: keys or
    serial misconfigured), PAYMENT_UNAVAILABLE (no answer, 5xx, rate limit) and
    PAYMENT_PROVIDER_ERROR (anything else; details carry the provider's code).
    """

    channel: str

    def prepay(self, request: PrepayRequest) -> PrepayResult:
        """Open the trade with the provider; the parameters the client pays with."""

    def query(self, out_trade_no: str) -> TradeQueryResult:
        """The trade's state at the provider (``not_found`` rather than an error)."""

    def close(self, out_trade_no: str) -> None:
        """Close an unpaid trade so that it can no longer be paid."""

    def refund(self, request: RefundRequest) -> RefundResult:
        """Ask the provider to refund; usually ``processing`` until its notification."""

    def query_refund(self, out_trade_no: str, out_refund_no: str) -> RefundResult:
        """A refund's state at the provider."""

    def parse_notification(self, headers: Mapping[str, str],
                           body: bytes) -> PaymentNotice | RefundNotice:
        """Verify a notification as the provider signs it; the notice it carries.

        Raises NotificationRejected (with a ``reason`` code) for a bad or probing
        signature, a stale timestamp, an undecryptable resource, a malformed body, or a
        notification for another merchant or app.
        """
