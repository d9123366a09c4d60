"""Drawing QR images: plain codes (PNG, SVG) and counter posters with the shop's name.

Making a code costs milliseconds; callers cache what they draw (``qrcodes.py``).
Posters need a font with Chinese glyphs: ``POSTER_FONT_FILE``, else the first of the
usual system CJK fonts (Debian: fonts-wqy-microhei, fonts-noto-cjk), else Pillow's own
font, which has no Chinese glyphs (a warning is logged).
"""
from __future__ import annotations

import functools
import io
import logging
from pathlib import Path

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger("alliance.referrals")

CJK_FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
POSTER_SIZE = (720, 1000)
POSTER_TAGLINE = "微信扫码关注 · 领取联盟会员福利"


def _qr(content: str, box_size: int) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         box_size=box_size, border=4)
    code.add_data(content)
    code.make(fit=True)
    return code


def qr_png(content: str, box_size: int = 10) -> bytes:
    """A PNG QR code of ``content``."""
    buffer = io.BytesIO()
    _qr(content, box_size).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(content: str) -> bytes:
    """An SVG QR code of ``content`` (one path, scalable)."""
    buffer = io.BytesIO()
    _qr(content, 10).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


@functools.lru_cache(maxsize=4)
def cjk_font_path(configured: str | None = None) -> str | None:
    """The font file to draw Chinese with, or None when the machine has none."""
    for candidate in ((configured,) if configured else ()) + CJK_FONT_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    log.warning("no Chinese font found: posters are drawn without Chinese glyphs "
                "(install fonts-wqy-microhei or set POSTER_FONT_FILE)")
    return None


def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _fit(draw: ImageDraw.ImageDraw, text: str, path: str | None, width: int,
         sizes: range) -> tuple[str, ImageFont.ImageFont]:
    """The largest font in ``sizes`` that fits ``text`` in ``width`` (cut with … at the end)."""
    font = _font(path, sizes.stop)
    for size in sizes:
        font = _font(path, size)
        if draw.textlength(text, font=font) <= width:
            return text, font
    while len(text) > 1 and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…", font


def counter_poster(content: str, shop_name: str, font_file: str | None = None) -> bytes:
    """A PNG poster for a shop counter: the shop's name above a QR code of ``content``."""
    width, height = POSTER_SIZE
    font_path = cjk_font_path(font_file)
    poster = Image.new("RGB", POSTER_SIZE, "white")
    draw = ImageDraw.Draw(poster)
    draw.rectangle((0, 0, width, 150), fill=(196, 30, 58))
    title, title_font = _fit(draw, shop_name.strip() or "联盟商户", font_path, width - 80,
                             range(64, 27, -4))
    draw.text((width / 2, 75), title, font=title_font, fill="white", anchor="mm")
    qr = _qr(content, 1)
    qr.box_size = max(1, (width - 140) // (qr.modules_count + 2 * qr.border))
    code = qr.make_image().get_image().convert("RGB")
    side = code.width
    poster.paste(code, ((width - side) // 2, 190))
    tagline, tag_font = _fit(draw, POSTER_TAGLINE, font_path, width - 80, range(36, 19, -2))
    draw.text((width / 2, 190 + side + 60), tagline, font=tag_font, fill=(60, 60, 60),
              anchor="mm")
    buffer = io.BytesIO()
    poster.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
