"""Scenes: what a QR code carries, and reading them back from what the mini-program reports.

A referral scene is ``r.<code>``: it fits WeChat's 32-character scene alphabet and survives
``encodeURIComponent`` unchanged. The plain referral link is ``<PUBLIC_BASE_URL>/r/<code>``
(WeChat opens the mini-program for it when the link prefix is configured, and passes the
link as ``q``). Official-account events carry the scene as ``qrscene_<scene>`` on follow.

A share scene is a referral scene naming what was shared: ``r.<code>.<letter><id>``, the
letter ``c`` for a campaign, ``g`` a group buy's group, ``i`` an item, ``m`` a merchant
(``r.ABCDEFGH.c1234567890`` is 22 characters); its link is ``/r/<code>?to=<letter><id>``.
Read back, it refers as its code does and tells the mini-program which page to open.
"""
from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

from alliance.errors import ValidationFailed
from alliance.randomcodes import random_code

SCENE_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at counters
CODE_LENGTH = 8
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
REFERRAL_PREFIX = "r."
LINK_PATH = "/r/"
SHARE_KINDS = {"campaign": "c", "group_buy": "g", "item": "i", "merchant": "m"}
_SHARED = {letter: kind for kind, letter in SHARE_KINDS.items()}
_TARGET_RE = re.compile(r"^([cgim])([1-9][0-9]{0,9})$")


def new_code() -> str:
    return random_code(CODE_ALPHABET, CODE_LENGTH)


def referral_scene(code: str) -> str:
    return REFERRAL_PREFIX + code


def referral_link(public_base_url: str, code: str) -> str:
    return f"{public_base_url.rstrip('/')}{LINK_PATH}{code}"


def share_target(kind: str, target_id: int) -> str:
    """What a share scene or link names after the code: ``c12`` for campaign 12."""
    return f"{SHARE_KINDS[kind]}{target_id}"


def share_scene(code: str, kind: str, target_id: int) -> str:
    return f"{REFERRAL_PREFIX}{code}.{share_target(kind, target_id)}"


def share_link(public_base_url: str, code: str, kind: str, target_id: int) -> str:
    return f"{referral_link(public_base_url, code)}?to={share_target(kind, target_id)}"


def validate_scene(scene: str) -> str:
    """``scene`` when WeChat accepts it in a mini-program code, else VALIDATION_FAILED."""
    if not SCENE_RE.match(scene or ""):
        raise ValidationFailed("场景值只能包含字母、数字和部分符号，最长 32 位",
                               details={"field": "scene", "pattern": SCENE_RE.pattern})
    return scene


def referral_code_of(reported: str) -> str | None:
    """The referral code in a scene or link as the mini-program reports it, else None.

    Accepts ``r.CODE``, ``qrscene_r.CODE``, the referral link, share scenes and links, and
    any of them URL-encoded once or twice (front ends forget ``decodeURIComponent``).
    """
    return read_scene(reported)[0]


def read_scene(reported: str) -> tuple[str | None, tuple[str, int] | None]:
    """(the referral code, what was shared as (kind, id)) in a reported scene or link; a
    code with a target it does not know still refers (the target is then None)."""
    text = (reported or "").strip()
    for _ in range(3):
        if "%" not in text:
            break
        text = unquote(text)
    if text.startswith("qrscene_"):
        text = text[len("qrscene_"):]
    if text.startswith(("http://", "https://")):
        link = urlparse(text)
        if not link.path.startswith(LINK_PATH):
            return None, None
        shared = parse_qs(link.query).get("to", [""])[0]
        text = REFERRAL_PREFIX + link.path[len(LINK_PATH):] + ("." + shared if shared else "")
    if not text.startswith(REFERRAL_PREFIX):
        return None, None
    code, _, shared = text[len(REFERRAL_PREFIX):].partition(".")
    code = code.upper()
    if not _CODE_RE.match(code):
        return None, None
    target = _TARGET_RE.match(shared)
    return code, (_SHARED[target[1]], int(target[2])) if target else None
