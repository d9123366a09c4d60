"""Phone numbers and email addresses: validated, normalised, masked for display."""
from __future__ import annotations

import re

from alliance.errors import ValidationFailed

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
EMAIL_MAX_LENGTH = 191


class PhoneInvalid(ValidationFailed):
    code = "PHONE_INVALID"
    message = "请输入正确的中国大陆手机号"


class EmailInvalid(ValidationFailed):
    code = "EMAIL_INVALID"
    message = "请输入正确的邮箱地址"


def normalize_phone(raw: object, field: str = "phone") -> str:
    """A mainland mobile number as 11 digits; ``+86``/``0086``, spaces and dashes are dropped."""
    if not isinstance(raw, str):
        raise PhoneInvalid(details={"field": field, "issue": "format"})
    phone = re.sub(r"[\s-]", "", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix):]
            break
    if not _MOBILE.match(phone):
        raise PhoneInvalid(details={"field": field, "issue": "format",
                                    "expected": "mainland mobile, 1[3-9] and 9 digits"})
    return phone


def normalize_email(raw: object, field: str = "email") -> str:
    """An email address, trimmed and lower-cased."""
    if not isinstance(raw, str):
        raise EmailInvalid(details={"field": field, "issue": "format"})
    email = raw.strip().lower()
    if len(email) > EMAIL_MAX_LENGTH or not _EMAIL.match(email):
        raise EmailInvalid(details={"field": field, "issue": "format",
                                    "max_length": EMAIL_MAX_LENGTH})
    return email


def mask_phone(phone: str | None) -> str | None:
    """138****8000: what a response may show of a phone number."""
    if not phone:
        return None
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_email(email: str | None) -> str | None:
    """a***@example.com: what a response may show of an email address."""
    if not email:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"
