"""Checking the terms of a proposal or a counter-proposal (each failure names its field)."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from alliance.checks import printable
from alliance.clock import parse_iso
from alliance.coupons.models import CouponTemplate
from alliance.cooperation.models import KINDS, TERM_FIELDS
from alliance.errors import ValidationFailed

MAX_FEN = 100_000_000
MAX_BP = 10_000
MAX_TEMPLATES = 20
MAX_TEXT = 500
ID_MAX = 2**31 - 1
COUPON_KIND = "coupon_distribution"


def invalid(field: str, issue: str, message: str = "合作条款有误", **extra) -> ValidationFailed:
    return ValidationFailed(message, details={"field": field, "issue": issue, **extra})


def integer(body: dict, field: str, low: int, high: int, default: int | None = None) -> int:
    value = body.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(field, "range", minimum=low, maximum=high)
    return value


def text(body: dict, field: str, message: str) -> str:
    """Optional free text (Chinese), at most 500 characters; "" when absent."""
    value = body.get(field)
    if value is None:
        return ""
    if not isinstance(value, str) or len(value.strip()) > MAX_TEXT:
        raise invalid(field, "length", message, max_length=MAX_TEXT)
    if not printable(value):
        raise invalid(field, "control characters", message)
    return value.strip()


def kind_of(body: dict) -> str:
    kind = body.get("kind")
    if kind not in KINDS:
        raise invalid("kind", "choice", "请选择合作类型", choices=list(KINDS))
    return kind


def _ends_at(body: dict, now: dt.datetime) -> dt.datetime | None:
    value = body.get("ends_at")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        ends_at = parse_iso(value)
    except ValueError:
        raise invalid("ends_at", "format", "时间格式不正确（ISO 8601）") from None
    if ends_at <= now:
        raise invalid("ends_at", "must be later", "合作结束时间必须晚于现在")
    return ends_at


def check_templates(ids: list[int], issuer_id: int) -> None:
    """Each template must be the issuer's own, open to partner channels and active."""
    found = (CouponTemplate.select(CouponTemplate.id, CouponTemplate.channels)
             .where(CouponTemplate.id.in_(ids), CouponTemplate.merchant == issuer_id,
                    CouponTemplate.status == "active"))
    usable = {template.id for template in found if "partner" in template.channel_set}
    if usable != set(ids):
        raise invalid("template_ids", "not the proposer's active partner-channel templates",
                      "优惠券不存在、已停用或未开放合作商户发放",
                      template_ids=sorted(set(ids) - usable))


def _template_ids(body: dict, kind: str, issuer_id: int) -> list[int]:
    ids = body.get("template_ids")
    if kind != COUPON_KIND:
        if ids not in (None, []):
            raise invalid("template_ids", "coupon_distribution only", "只有代发优惠券合作可以指定优惠券")
        return []
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_TEMPLATES
            or any(isinstance(i, bool) or not isinstance(i, int) or not 1 <= i <= ID_MAX
                   for i in ids)
            or len(set(ids)) != len(ids)):
        raise invalid("template_ids", "must list 1..20 distinct template ids",
                      "请选择 1 到 20 张要代发的优惠券", max_items=MAX_TEMPLATES)
    check_templates(ids, issuer_id)
    return sorted(ids)


def clean_terms(body: dict, *, kind: str, issuer_id: int, current: dict[str, Any] | None,
                now: dt.datetime) -> dict[str, Any]:
    """The columns of the terms: those ``body`` gives, checked, over ``current`` (a
    counter-proposal changes what it names) or the defaults (a proposal)."""
    given = {field for field in TERM_FIELDS if field in body}
    if current is not None and not given:
        raise ValidationFailed("请至少修改一项合作条款",
                               details={"field": "terms", "issue": "required",
                                        "fields": list(TERM_FIELDS)})
    values: dict[str, Any] = dict(current or {"commission_fen": 0, "sales_share_bp": 0,
                                              "template_ids": "[]", "description": "",
                                              "ends_at": None})
    if current is None or "commission_fen" in given:
        values["commission_fen"] = integer(body, "commission_fen", 0, MAX_FEN, 0)
    if current is None or "sales_share_bp" in given:
        values["sales_share_bp"] = integer(body, "sales_share_bp", 0, MAX_BP, 0)
    if current is None or "template_ids" in given:
        values["template_ids"] = json.dumps(_template_ids(body, kind, issuer_id))
    if current is None or "description" in given:
        values["description"] = text(body, "description", "合作说明不能超过 500 字")
    if current is None or "ends_at" in given:
        values["ends_at"] = _ends_at(body, now)
    return values
