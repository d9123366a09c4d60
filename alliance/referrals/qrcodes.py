"""Referral QR images, each made once: WeChat is never asked twice for one scene.

The cache is a table (shared by every process and host). Whoever inserts a scene's row
claims it and asks WeChat; anyone else asking meanwhile waits for the image. A claim whose
maker died is taken over after ``CLAIM_LEASE``; a failed request removes its claim so the
next caller tries again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import unicodedata
from dataclasses import dataclass
from typing import Callable

from peewee import IntegrityError

from alliance.db import transaction, utcnow
from alliance.errors import UpstreamUnavailable, ValidationFailed
from alliance.merchants.queries import get_merchant
from alliance.ports import QrCodeProvider
from alliance.referrals import images, scenes
from alliance.referrals.models import QrImage
from alliance.referrals.services import MERCHANT, USER, code_for

CLAIM_LEASE = dt.timedelta(seconds=30)
WAIT_S = 8.0
POLL_S = 0.1
FORMATS = {"png": "image/png", "svg": "image/svg+xml"}


@dataclass(frozen=True)
class QrResult:
    content: bytes
    content_type: str
    scene: str


def cached(key: str, kind: str,
           produce: Callable[[], tuple[bytes | None, dict | None]]) -> QrImage:
    """The ready cache row for ``key``, produced (once, across processes) when missing."""
    row = QrImage.get_or_none(QrImage.key == key)
    if row is not None and row.status == "ready":
        return row
    claimed_at = _claim(key, kind)
    if claimed_at is None:
        return _wait_for(key)
    try:
        content, meta = produce()
    except BaseException:
        with transaction():
            QrImage.delete().where(QrImage.key == key, QrImage.status == "generating",
                                   QrImage.claimed_at == claimed_at).execute()
        raise
    with transaction():
        (QrImage.update(status="ready", content=content,
                        meta=json.dumps(meta) if meta is not None else None)
         .where(QrImage.key == key).execute())
    return QrImage.get(QrImage.key == key)


def _claim(key: str, kind: str) -> dt.datetime | None:
    """Take the right to produce ``key``; the claim's time, or None when someone holds it."""
    now = utcnow().replace(microsecond=0)
    try:
        with transaction():
            QrImage.create(key=key, kind=kind, status="generating", claimed_at=now)
        return now
    except IntegrityError:
        pass
    with transaction():
        taken = (QrImage.update(claimed_at=now)
                 .where(QrImage.key == key, QrImage.status == "generating",
                        QrImage.claimed_at < now - CLAIM_LEASE)
                 .execute())
    return now if taken else None


def _wait_for(key: str) -> QrImage:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        row = QrImage.get_or_none(QrImage.key == key)
        if row is not None and row.status == "ready":
            return row
        time.sleep(POLL_S)
    raise UpstreamUnavailable("二维码正在生成，请稍后再试", details={"retry_after": 2})


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationFailed("format 只能是 png 或 svg",
                               details={"field": "format", "choices": list(FORMATS)})
    return fmt


def code_image(provider: QrCodeProvider, fmt: str, scene: str, link: str,
               page: str | None = None) -> QrResult:
    """A mini-program code opening ``page`` (the home page when None) with ``scene`` (png),
    or a QR code of ``link`` (svg), each made once."""
    scene = scenes.validate_scene(scene)
    if check_format(fmt) == "png":
        key = f"wxacode:{scene}" if page is None else f"wxacode:{scene}:{page}"
        row = cached(key, "wxacode", lambda: (provider.miniprogram_code(scene, page), None))
    else:
        row = cached(f"svg:{link}", "svg", lambda: (images.qr_svg(link), None))
    return QrResult(bytes(row.content), FORMATS[fmt], scene)


def referral_qrcode(provider: QrCodeProvider, user_id: int, fmt: str,
                    public_base_url: str) -> QrResult:
    """The consumer's own referral code: a mini-program code (png) or a link QR (svg)."""
    check_format(fmt)
    code = code_for(USER, user_id)
    return code_image(provider, fmt, scenes.referral_scene(code),
                      scenes.referral_link(public_base_url, code))


def oa_qrcode_url(provider: QrCodeProvider, scene: str) -> str:
    """The content of the permanent official-account QR code for ``scene`` (made once)."""
    row = cached(f"oa_qrcode:{scene}", "oa_qrcode", lambda: _oa_ticket(provider, scene))
    return json.loads(row.meta)["url"]


def _oa_ticket(provider: QrCodeProvider, scene: str) -> tuple[None, dict]:
    ticket = provider.oa_qrcode(scene)
    return None, {"ticket": ticket.ticket, "url": ticket.url}


# Control characters and line or paragraph separators: the poster's title is one drawn line.
_BREAKS = frozenset({"Cc", "Zl", "Zp"})


def counter_poster(provider: QrCodeProvider, merchant_id: int, shop_name: str,
                   font_file: str | None = None) -> QrResult:
    """A counter poster of a partner merchant: scanning it follows the official account
    and attributes the consumer to the merchant."""
    shop_name = (shop_name or "").strip()
    if not 1 <= len(shop_name) <= 40:
        raise ValidationFailed("店铺名称长度须为 1-40 个字",
                               details={"field": "shop_name", "max_length": 40})
    if any(unicodedata.category(ch) in _BREAKS for ch in shop_name):
        raise ValidationFailed("店铺名称须为一行文字，不能含换行或控制字符",
                               details={"field": "shop_name", "issue": "control characters"})
    get_merchant(merchant_id)  # a poster is a code for that merchant, kept: it must exist
    scene = scenes.referral_scene(code_for(MERCHANT, merchant_id))
    url = oa_qrcode_url(provider, scene)
    digest = hashlib.sha256(f"{url}\n{shop_name}".encode()).hexdigest()[:24]
    row = cached(f"poster:{scene}:{digest}", "poster",
                 lambda: (images.counter_poster(url, shop_name, font_file), None))
    return QrResult(bytes(row.content), "image/png", scene)
