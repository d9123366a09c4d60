"""Storing uploaded images and handing them back: public ones by id, private ones by signed,
short-lived URL."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import secrets
import time

from peewee import fn
from PIL import Image, UnidentifiedImageError

from alliance.checks import ascii_digits
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, NotFound, RateLimited, ValidationFailed
from alliance.media.models import Upload
from alliance.ports import Storage

# Purposes: what an image is for decides who may see it.
PUBLIC_PURPOSES = ("logo", "shop_photo", "item_image", "review_photo")
PRIVATE_PURPOSES = ("licence", "id_card", "evidence")  # evidence: after-sales, complaints
PURPOSES = PUBLIC_PURPOSES + PRIVATE_PURPOSES
SIGNED_URL_TTL_S = 300
# Pixels an image may have (8000 x 8000): more than any phone's photo, far fewer than a few
# KB of PNG or WebP can declare and every viewer would have to decode.
MAX_PIXELS = 64_000_000

# Magic bytes decide the type; the client's file name and Content-Type are ignored.
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png", "PNG"),
)


class UnsupportedFileType(AllianceError):
    code = "UNSUPPORTED_FILE_TYPE"
    http_status = 415
    message = "只支持 JPEG、PNG 或 WebP 格式的图片"


class UploadTooLarge(AllianceError):
    code = "UPLOAD_TOO_LARGE"
    http_status = 413
    message = "图片太大"


class UploadNotFound(NotFound):
    code = "UPLOAD_NOT_FOUND"
    message = "图片不存在"


def sniff_image(data: bytes) -> tuple[str, str, str]:
    """(content type, suffix, Pillow format) of ``data`` from its magic bytes."""
    for magic, content_type, suffix, pil_format in _SIGNATURES:
        if data.startswith(magic):
            return content_type, suffix, pil_format
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", ".webp", "WEBP"
    raise UnsupportedFileType(details={"field": "file", "accepted": ["image/jpeg", "image/png",
                                                                    "image/webp"]})


def _check_decodes(data: bytes, pil_format: str) -> None:
    try:
        with Image.open(io.BytesIO(data), formats=[pil_format]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise Image.DecompressionBombError(f"{width}x{height}")
            image.verify()
    except Image.DecompressionBombError:
        # A few KB can declare billions of pixels: every phone showing it would decode them.
        raise UploadTooLarge(f"图片尺寸过大，最多 {MAX_PIXELS // 1_000_000} 百万像素",
                             details={"field": "file", "max_pixels": MAX_PIXELS}) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedFileType("图片已损坏或格式不正确",
                                  details={"field": "file", "issue": "does not decode"}) from None


def store_image(storage: Storage, owner_id: int | None, purpose: str, data: bytes,
                max_bytes: int, daily_bytes: int | None = None, *,
                operator_id: int | None = None) -> Upload:
    """Check an uploaded image (type by magic bytes, size, decodes) and keep it; refused
    RATE_LIMITED when the owner's uploads of the last 24 hours would pass ``daily_bytes``.
    An operator's upload (the platform's logo) names ``operator_id`` and has no owner."""
    if purpose not in PURPOSES:
        raise ValidationFailed("图片用途不正确", details={"field": "purpose",
                                                          "choices": list(PURPOSES)})
    if len(data) > max_bytes:
        raise UploadTooLarge(f"图片不能超过 {max_bytes // (1024 * 1024)} MB",
                             details={"field": "file", "limit_bytes": max_bytes,
                                      "size_bytes": len(data)})
    if not data:
        raise ValidationFailed("缺少图片文件", details={"field": "file", "issue": "empty"})
    if daily_bytes is not None:
        _within_daily_bytes(owner_id, operator_id, len(data), daily_bytes)
    content_type, suffix, pil_format = sniff_image(data)
    _check_decodes(data, pil_format)
    key = storage.save(data, suffix=suffix)
    try:
        with transaction():
            return Upload.create(id="u" + secrets.token_urlsafe(15), owner=owner_id,
                                 operator_id=operator_id, purpose=purpose, storage_key=key, content_type=content_type,
                                 size_bytes=len(data))
    except BaseException:
        storage.delete(key)
        raise


def _within_daily_bytes(owner_id: int | None, operator_id: int | None, size: int,
                        daily_bytes: int) -> None:
    """Refuse an upload that takes the owner past ``daily_bytes`` in 24 hours: storage is
    kept for good, and one account must not fill the disk (a bound, not an exact count:
    two uploads at the same moment may both pass)."""
    since = utcnow() - dt.timedelta(days=1)
    stored = (Upload.select(fn.COALESCE(fn.SUM(Upload.size_bytes), 0))
              .where(Upload.owner == owner_id if owner_id is not None
                     else Upload.operator_id == operator_id, Upload.created_at > since).scalar())
    if stored + size > daily_bytes:
        raise RateLimited(3600, message=f"今日上传的图片已达 {daily_bytes // (1024 * 1024)} MB 上限，请明天再试",
                          details={"field": "file", "limit_bytes_per_day": daily_bytes})


def get_upload(upload_id: str) -> Upload:
    """The upload with this id, or UPLOAD_NOT_FOUND."""
    upload = Upload.get_or_none(Upload.id == upload_id)
    if upload is None:
        raise UploadNotFound(details={"upload_id": upload_id})
    return upload


def owned_upload(owner_id: int, upload_id: object, purposes: tuple[str, ...], field: str) -> str:
    """Check that ``upload_id`` is an upload of ``owner_id`` for one of ``purposes``; the id."""
    upload = Upload.get_or_none(Upload.id == upload_id) if isinstance(upload_id, str) else None
    if upload is None or upload.owner_id != owner_id or upload.purpose not in purposes:
        raise ValidationFailed("图片不存在或不属于你，请重新上传",
                               details={"field": field, "issue": "unknown upload",
                                        "purposes": list(purposes)})
    return upload.id


def attachable_uploads(owner_id: int, upload_ids: object, purpose: str, field: str,
                       attached: list[str], max_items: int) -> list[str]:
    """A list of image ids to attach: each already ``attached`` or the caller's own upload."""
    if not isinstance(upload_ids, list) or len(upload_ids) > max_items:
        raise ValidationFailed(f"图片最多 {max_items} 张",
                               details={"field": field, "max_items": max_items})
    return [u if u in attached else owned_upload(owner_id, u, (purpose,), field)
            for u in upload_ids]


def public_path(upload_id: str | None) -> str | None:
    """The path a public image is served at (relative to PUBLIC_BASE_URL)."""
    return f"/media/{upload_id}" if upload_id else None


def _signature(secret: str, upload_id: str, expires: int) -> str:
    message = f"media:{upload_id}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def signed_path(secret: str, upload_id: str, ttl_s: int = SIGNED_URL_TTL_S) -> str:
    """A path to a private image that works for ``ttl_s`` seconds."""
    expires = int(time.time()) + ttl_s
    return f"/media/{upload_id}?exp={expires}&sig={_signature(secret, upload_id, expires)}"


def readable(upload: Upload, secret: str, expires: str | None, signature: str | None) -> bool:
    """Whether a request for ``upload`` may have it: public, or signed and not expired."""
    if upload.purpose in PUBLIC_PURPOSES:
        return True
    if (not expires or not signature or not ascii_digits(expires, 12)
            or int(expires) < time.time() or not signature.isascii()):
        return False
    return hmac.compare_digest(_signature(secret, upload.id, int(expires)), signature)
