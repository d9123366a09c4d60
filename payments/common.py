"""What the payment adapters (and the sandbox that imitates the providers) share: RSA keys in
the formats each SDK insists on, yuan strings, and the providers' ways of writing time."""
from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from alliance.clock import SHANGHAI

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
def _to_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def to_beijing(value: dt.datetime) -> dt.datetime:
    """A stored naive-UTC time as an aware Beijing time."""
    return value.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)


def parse_rfc3339(text: str) -> dt.datetime:
    """WeChat Pay v3: 2015-05-20T13:29:35+08:00."""
    return _to_utc(dt.datetime.fromisoformat(text))


def format_rfc3339(value: dt.datetime) -> str:
    return to_beijing(value).isoformat(timespec="seconds")


def parse_compact(text: str) -> dt.datetime:
    """WeChat Pay v2: yyyyMMddHHmmss, Beijing time."""
    return _to_utc(dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=SHANGHAI))


def format_compact(value: dt.datetime) -> str:
    return to_beijing(value).strftime("%Y%m%d%H%M%S")


def parse_beijing(text: str) -> dt.datetime:
    """Alipay and WeChat Pay v2 refunds: yyyy-MM-dd HH:mm:ss[.SSS], Beijing time."""
    return _to_utc(dt.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI))


def format_beijing(value: dt.datetime) -> str:
    return to_beijing(value).strftime("%Y-%m-%d %H:%M:%S")
