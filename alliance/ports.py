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


@dataclass(frozen=True)
class OaQrCode:
    """An official-account parametric QR code: ``url`` is the content to draw."""

    ticket: str
    url: str
    expire_seconds: int | None


class QrCodeProvider(Protocol):
    """WeChat's QR code services (mini-program codes, official-account parametric codes).

    Implementations raise alliance.errors subclasses: RATE_LIMITED (45009),
    UPSTREAM_UNAVAILABLE (-1 or no answer), UPSTREAM_ERROR (anything else).
    """

    def miniprogram_code(self, scene: str, page: str | None = None) -> bytes:
        """The PNG of an unlimited mini-program code opening ``page`` with ``scene``."""

    def oa_qrcode(self, scene: str, expire_seconds: int | None = None) -> OaQrCode:
        """A parametric QR code of the official account (permanent when no expiry)."""


@dataclass(frozen=True)
class OaUserInfo:
    openid: str
    unionid: str | None
    subscribed: bool


class OaProfiles(Protocol):
    """The official account's user information (``cgi-bin/user/info``)."""

    def user_info(self, openid: str) -> OaUserInfo:
        """What WeChat says about a follower; raises AllianceError when it cannot answer."""


class SendFailed(Exception):
    """A message was not delivered; ``permanent`` ones must not be retried."""

    def __init__(self, code: str, message: str = "", *, permanent: bool):
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.permanent = permanent


class MessageSender(Protocol):
    """Sends WeChat messages to one person; raises SendFailed when WeChat refuses or is down."""

    def send_subscribe(self, openid: str, template_id: str, data: dict[str, str],
                       page: str | None) -> None:
        """A mini-program subscribe message (``data``: keyword -> value)."""

    def send_template(self, openid: str, template_id: str, data: dict[str, str], *,
                      miniprogram_page: str | None, client_msg_id: str) -> None:
        """An official-account template message; WeChat de-duplicates ``client_msg_id``."""
