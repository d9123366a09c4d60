"""What the payment adapters (and the sandbox that imitates the providers) share: RSA keys in
the formats each SDK insists on, yuan strings, and the providers' ways of writing time."""
from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from pathlib import Path

from typing import Callable, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from alliance.clock import SHANGHAI, to_utc
from alliance.payments.errors import NotificationRejected, PaymentUnavailable
from alliance.ports import PaymentNotice, RefundNotice

T = TypeVar("T")

_YUAN = re.compile(r"^(0|[1-9]\d{0,11})(\.\d{1,2})?$")


# -- keys: PEM files may hold PKCS#1 or PKCS#8 (CONTRACT.md); wechatpayv3 wants
# SubjectPublicKeyInfo, alipay-sdk-python signs only with PKCS#1. ----------------------
def load_private_key(path: str | Path) -> RSAPrivateKey:
    """The key in ``path``; loaded once per version of the file (a load costs ~50 ms)."""
    stat = Path(path).stat()
    return _load_private_key(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=32)
def _load_private_key(path: str, mtime_ns: int, size: int) -> RSAPrivateKey:
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def load_public_key(path: str | Path) -> RSAPublicKey:
    """A public key from a PEM file: SubjectPublicKeyInfo, PKCS#1 or an X.509 certificate."""
    data = Path(path).read_bytes()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def pkcs1_pem(key: RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def spki_pem(key: RSAPublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def retry_when_unavailable(attempt: Callable[[], T]) -> T:
    """Run ``attempt``, and once more if the provider was busy or unreachable: WeChat Pay and
    Alipay ask for a retry with the same parameters (every call here is idempotent for
    them)."""
    try:
        return attempt()
    except PaymentUnavailable:
        return attempt()


# -- money ----------------------------------------------------------------------------
def fen_to_yuan(fen: int) -> str:
    """1234 -> "12.34" (Alipay's amounts)."""
    return f"{fen // 100}.{fen % 100:02d}"


def yuan_to_fen(text: str) -> int:
    """ "12.34" -> 1234; ValueError for anything that is not a plain yuan amount."""
    if not isinstance(text, str) or not _YUAN.match(text):
        raise ValueError(f"not a yuan amount: {text!r}")
    return int(Decimal(text) * 100)


# -- time: stored naive UTC; providers speak Beijing time -------------------------------
def to_beijing(value: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as an aware Beijing time."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)


def parse_rfc3339(text: str) -> dt.datetime:
    """WeChat Pay v3: 2015-05-20T13:29:35+08:00."""
    return to_utc(dt.datetime.fromisoformat(text))


def format_rfc3339(value: dt.datetime) -> str:
    return to_beijing(value).isoformat(timespec="seconds")


def parse_compact(text: str) -> dt.datetime:
    """WeChat Pay v2: yyyyMMddHHmmss, Beijing time."""
    return to_utc(dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI))


def format_compact(value: dt.datetime) -> str:
    return to_beijing(value).strftime("%Y%m%d%H%M%S")


def parse_beijing(text: str) -> dt.datetime:
    """Alipay and WeChat Pay v2 refunds: yyyy-MM-dd HH:mm:ss[.SSS], Beijing time."""
    return to_utc(dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI))


def format_beijing(value: dt.datetime) -> str:
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S")


# -- a verified notice, checked before the domain stores it ----------------------------
_FEN = range(0, 2 ** 63)  # what a BIGINT column holds, never negative
# The columns that keep a notice's identifiers (alliance.payments.models).
_ID_LENGTHS = {"notification_id": 128, "out_trade_no": 64, "transaction_id": 64,
               "out_refund_no": 64, "refund_id": 64}


def well_formed(notice: PaymentNotice | RefundNotice) -> PaymentNotice | RefundNotice:
    """``notice`` when its fields have the types the providers' documents give them, else
    MALFORMED: a valid signature says who sent a notice, not that every field is sound. Its
    id is non-empty text (a repeat is known by it), identifiers are text their column
    holds, amounts are whole fen (not 78.9, not a string, not beyond 64 bits)."""
    def text(value, limit: int | None = None) -> bool:
        if not isinstance(value, str) or (limit is not None and len(value) > limit):
            return False
        try:
            value.encode("utf-8")  # a lone surrogate from JSON's \ud800 is not text
        except UnicodeEncodeError:
            return False
        return True

    def fen(value, optional: bool = False) -> bool:
        if value is None:
            return optional
        return isinstance(value, int) and not isinstance(value, bool) and value in _FEN

    refund = isinstance(notice, RefundNotice)
    sound = (bool(notice.notification_id)
             and all(text(getattr(notice, name), limit) for name, limit in _ID_LENGTHS.items()
                     if refund or name not in ("out_refund_no", "refund_id")))
    if refund:
        sound = sound and all(fen(v, optional=True) for v in (
            notice.refund_fen, notice.refunded_total_fen, notice.total_fen))
    else:
        sound = (sound and fen(notice.amount_fen) and text(notice.trade_state, 64)
                 and (notice.payer is None or text(notice.payer, 128)))
    if not sound:
        raise NotificationRejected("MALFORMED")
    return notice
