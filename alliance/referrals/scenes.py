"""Scenes: what a QR code carries, and reading them back from what the mini-program reports.

A referral scene is ``r.<code>``: it fits WeChat's 32-character scene alphabet and survives
``encodeURIComponent`` unchanged. The plain referral link is ``<PUBLIC_BASE_URL>/r/<code>``
(WeChat opens the mini-program for it when the link prefix is configured, and passes the
link as ``q``). Official-account events carry the scene as ``qrscene_<scene>`` on follow.
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlparse

from alliance.errors import ValidationFailed
from alliance.randomcodes import random_code

SCENE_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at counters
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
REFERRAL_PREFIX = "r."
LINK_PATH = "/r/"


def new_code() -> str:
    return random_code(CODE_ALPHABET, CODE_LENGTH)


def referral_scene(code: str) -> str:
    return REFERRAL_PREFIX + code


def referral_link(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}{LINK_PATH}{code}"


def validate_scene(scene: str) -> str:
    """``scene`` when WeChat accepts it in a mini-program code, else VALIDATION_FAILED."""
    if not SCENE_RE.match(scene or ""):
        raise ValidationFailed("场景值只能包含字母、数字和部分符号，最长 32 位",
                               details={"field": "scene", "pattern": SCENE_RE.pattern})
    return scene


def referral_code_of(reported: str) -> str | None:
    """The referral code in a scene or link as the mini-program reports it, else None.

    Accepts ``r.CODE``, ``qrscene_r.CODE``, the referral link, and any of them
    URL-encoded once or twice (front ends forget ``decodeURIComponent``).
    """
    text = (reported or "").strip()
    for _ in range(3):
        if "%" not in text:
            break
        text = unquote(text)
    if text.startswith("qrscene_"):
        text = text[len("qrscene_"):]
    if text.startswith(("http://", "https://")):
        path = urlparse(text).path
        text = REFERRAL_PREFIX + path[len(LINK_PATH):] if path.startswith(LINK_PATH) else ""
    if not text.startswith(REFERRAL_PREFIX):
        return None
    code = text[len(REFERRAL_PREFIX):].upper()
    return code if _CODE_RE.match(code) else None
