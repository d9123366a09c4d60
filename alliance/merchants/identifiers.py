"""Chinese identifiers: the unified social credit code (GB 32100-2015) and the resident ID
number (GB 11643-1999), with their check characters, and how they are shown masked."""
from __future__ import annotations

import datetime as dt
import re

from alliance.errors import ValidationFailed

# GB 32100: 31 characters (no I, O, S, V, Z); weights 3^i mod 31.
_USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

# GB 11643: ISO 7064 MOD 11-2 over the first 17 digits.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidCreditCode(ValidationFailed):
    code = "INVALID_CREDIT_CODE"
    message = "统一社会信用代码不正确，请核对后重新填写"


class InvalidIdNumber(ValidationFailed):
    code = "INVALID_ID_NUMBER"
    message = "身份证号码不正确，请核对后重新填写"


def credit_code_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code from its first 17."""
    total = sum(_USCC_CHARSET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return _USCC_CHARSET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str, field: str = "credit_code") -> str:
    """The code in upper case when it is well formed and its check character is right."""
    code = (raw or "").strip().upper()
    if not _USCC_SHAPE.match(code):
        raise InvalidCreditCode(details={"field": field, "issue": "format",
                                         "expected": "18 characters of GB 32100"})
    if credit_code_check_char(code[:17]) != code[17]:
        raise InvalidCreditCode(details={"field": field, "issue": "check character"})
    return code


def id_number_check_char(first17: str) -> str:
    """The 18th character of a resident ID number from its first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def normalize_id_number(raw: str, field: str = "legal_rep_id_number") -> str:
    """The 18-digit ID number (X upper case) when its birth date and check digit are right."""
    number = (raw or "").strip().upper()
    if not _ID_SHAPE.match(number):
        raise InvalidIdNumber(details={"field": field, "issue": "format",
                                       "expected": "18 characters of GB 11643"})
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdNumber(details={"field": field, "issue": "birth date"}) from None
    if not dt.date(1900, 1, 1) <= born <= dt.date.today():
        raise InvalidIdNumber(details={"field": field, "issue": "birth date"})
    if id_number_check_char(number[:17]) != number[17]:
        raise InvalidIdNumber(details={"field": field, "issue": "check digit"})
    return number


def mask_id_number(number: str) -> str:
    """Only the first and last two characters show: ``11**************2X``."""
    return number[:2] + "*" * (len(number) - 4) + number[-2:]
