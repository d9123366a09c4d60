"""Reading QR codes back (tests): PNG through zxing-cpp, SVG by redrawing its modules."""
from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image, ImageDraw


def decode_png(content: bytes) -> list[str]:
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    return [result.text for result in zxingcpp.read_barcodes(image.convert("L"))]


def decode_svg(content: bytes) -> list[str]:
    """The texts of an SVG QR code made of unit squares (qrcode's SvgPathImage)."""
    text = content.decode()
    size = int(float(re.search(r'viewBox="0 0 ([\d.]+) ', text).group(1)))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    path = re.search(r'<path[^>]* d="([^"]+)"', text).group(1)
    for x, y in re.findall(r"M([\d.]+),([\d.]+)", path):
        left, top = int(float(x)) * scale, int(float(y)) * scale
        draw.rectangle((left, top, left + scale - 1, top + scale - 1), fill=0)
    return [result.text for result in zxingcpp.read_barcodes(image)]
