"""What the domain needs from the outside world, as Protocols.

Adapters (wechat_handlers, payments, sandbox) implement them; server/app.py chooses them once
from the settings. Later capabilities add their ports here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
