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


class SmsSender(Protocol):
    """A text-message provider that sends verification codes to mainland mobiles.

    Implementations raise alliance.errors subclasses: RATE_LIMITED (the provider's flow
    control for that number), PHONE_INVALID (the provider refuses the number),
    UPSTREAM_UNAVAILABLE (no answer, or the provider is busy), SMS_SEND_FAILED (any other
    refusal, usually configuration: signature, template, balance).
    """

    def send_code(self, phone: str, code: str) -> str:
        """Send ``code`` to ``phone`` with the verification template; the provider's id."""


class MailSender(Protocol):
    """Outgoing mail. Raises UPSTREAM_UNAVAILABLE when the mail server cannot be reached
    and MAIL_SEND_FAILED when it refuses the message."""

    def send(self, to: str, subject: str, text: str) -> None:
        """Deliver a plain-text message to ``to``."""
