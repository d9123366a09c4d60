"""Creating and changing coupon templates (by a merchant's managers, or by operators for
platform coupons), and the partner merchants that distribute them.

What a coupon is worth, where and how long it is valid are fixed at creation: coupons
already claimed keep those terms. Afterwards only the name, description, stock, per-user
limit, claim deadline and status change (to change the terms, end it and create another).
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import IntegrityError

from alliance.accounts.operators import record_audit
from alliance.catalog.models import CatalogItem
from alliance.checks import BodyFields, refuse_unknown
from alliance.coupons.errors import (CouponTemplateEnded, CouponTemplateNotFound,
                                     DistributionNotFound)
from alliance.coupons.models import (CHANNELS, center_of, KINDS, SCOPES, CouponDistribution,
                                     CouponTemplate)
from alliance.db import db, transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant
from alliance.merchants.queries import forget_merchant_detail

MAX_STOCK = 10_000_000
MAX_PER_USER = 20
MAX_FEN = 100_000_000
MAX_SCOPE_ITEMS = 50
MAX_VALID_DAYS = 366
MERCHANT_CHANNELS = frozenset({"own", "partner", "points"})
PLATFORM_CHANNELS = frozenset({"platform", "points"})
CREATE_FIELDS = frozenset({
    "name", "description", "kind", "threshold_fen", "discount_fen", "percent_off",
    "max_discount_fen", "item_id", "scope", "scope_item_ids", "valid_from", "valid_until",
    "valid_days", "claim_starts_at", "claim_ends_at", "total_stock", "per_user_limit",
    "channels", "points_cost"})
EDITABLE = frozenset({"name", "description", "total_stock", "per_user_limit", "claim_ends_at",
                      "status"})


_FIELDS = BodyFields("优惠券参数有误")
_invalid, _text = _FIELDS.invalid, _FIELDS.text


def _int(body: dict, field: str, low: int, high: int, default: int | None = None) -> int:
    return _FIELDS.integer(body.get(field, default), field, low, high)


def _time(body: dict, field: str) -> dt.datetime | None:
    return _FIELDS.time(body, field, required=False)


def _value_terms(body: dict, merchant_id: int | None) -> dict[str, Any]:
    """kind and what it is worth (满减, 折扣 with cap, or a service)."""
    kind = body.get("kind")
    if kind not in KINDS or (kind == "service" and merchant_id is None):
        raise _invalid("kind", "choice",
                       choices=list(KINDS) if merchant_id else ["fixed", "percent"])
    terms: dict[str, Any] = {"kind": kind,
                             "threshold_fen": _int(body, "threshold_fen", 0, MAX_FEN, 0)}
    if kind == "fixed":
        terms["discount_fen"] = _int(body, "discount_fen", 1, MAX_FEN)
        if terms["threshold_fen"] and terms["discount_fen"] > terms["threshold_fen"]:
            raise _invalid("discount_fen", "exceeds threshold", "减免金额不能超过使用门槛")
    elif kind == "percent":
        terms["percent_off"] = _int(body, "percent_off", 1, 90)
        terms["max_discount_fen"] = _int(body, "max_discount_fen", 1, MAX_FEN)
    else:
        item_id = _int(body, "item_id", 1, 2**31 - 1)
        if not CatalogItem.select().where(CatalogItem.id == item_id,
                                          CatalogItem.merchant == merchant_id,
                                          CatalogItem.kind == "service").exists():
            raise _invalid("item_id", "not a service of the merchant", "服务项目不存在")
        terms["item_id"] = item_id
    return terms


def _scope_terms(body: dict, merchant_id: int | None, kind: str) -> dict[str, Any]:
    scope = body.get("scope", "alliance" if merchant_id is None else "merchant")
    if merchant_id is None:
        allowed: tuple[str, ...] = ("alliance",)
    else:
        allowed = ("merchant",) if kind == "service" else SCOPES
    if scope not in allowed:
        raise _invalid("scope", "choice", choices=list(allowed))
    if scope != "items":
        return {"scope": scope, "scope_item_ids": "[]"}
    ids = body.get("scope_item_ids")
    if (not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SCOPE_ITEMS
            or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)):
        raise _invalid("scope_item_ids", "must list 1..50 item ids", max_items=MAX_SCOPE_ITEMS)
    unique = sorted(set(ids))
    found = CatalogItem.select().where(CatalogItem.id.in_(unique),
                                       CatalogItem.merchant == merchant_id).count()
    if found != len(unique):
        raise _invalid("scope_item_ids", "not items of the merchant", "适用商品不属于本商户")
    return {"scope": scope, "scope_item_ids": json.dumps(unique)}


def _time_terms(body: dict, now: dt.datetime) -> dict[str, Any]:
    """Validity (dates, or days after the claim) and the claim window."""
    valid_from, valid_until = _time(body, "valid_from"), _time(body, "valid_until")
    has_days = body.get("valid_days") is not None
    if has_days == (valid_from is not None or valid_until is not None):
        raise _invalid("valid_days", "choose one", "有效期请选择固定日期或领取后 N 天其中一种")
    terms: dict[str, Any] = {"valid_from": None, "valid_until": None, "valid_days": None}
    if has_days:
        terms["valid_days"] = _int(body, "valid_days", 1, MAX_VALID_DAYS)
    else:
        if valid_from is None or valid_until is None:
            raise _invalid("valid_until" if valid_from else "valid_from", "required")
        if valid_until <= max(valid_from, now):
            raise _invalid("valid_until", "must be later", "有效期结束时间必须晚于开始时间和现在")
        terms.update(valid_from=valid_from, valid_until=valid_until)
    terms["claim_starts_at"] = _time(body, "claim_starts_at") or now
    terms["claim_ends_at"] = _time(body, "claim_ends_at")
    if terms["claim_ends_at"] is not None and terms["claim_ends_at"] <= terms["claim_starts_at"]:
        raise _invalid("claim_ends_at", "must be later", "领取截止时间必须晚于开始时间")
    return terms


def _channel_terms(body: dict, merchant_id: int | None) -> dict[str, Any]:
    allowed = PLATFORM_CHANNELS if merchant_id is None else MERCHANT_CHANNELS
    channels = body.get("channels", ["platform"] if merchant_id is None else ["own"])
    if (not isinstance(channels, list) or not channels
            or not set(channels) <= allowed or len(set(channels)) != len(channels)):
        raise _invalid("channels", "choice", choices=sorted(allowed))
    if "points" in channels and len(channels) > 1:
        raise _invalid("channels", "points is exclusive", "积分兑换券不能同时免费领取")
    terms = {"channels": ",".join(c for c in CHANNELS if c in channels), "points_cost": 0,
             "center": center_of(channels)}
    if "points" in channels:
        terms["points_cost"] = _int(body, "points_cost", 1, MAX_FEN)
    elif body.get("points_cost") not in (None, 0):
        raise _invalid("points_cost", "points channel only", "只有积分兑换券才有积分价格")
    return terms


def clean_new_template(body: dict, merchant_id: int | None, now: dt.datetime) -> dict[str, Any]:
    """The columns of a new template from a request body, every field checked."""
    refuse_unknown(body, CREATE_FIELDS)
    values = {"name": _text(body, "name", 64, True),
              "description": _text(body, "description", 500, False) or "",
              "total_stock": _int(body, "total_stock", 1, MAX_STOCK),
              "per_user_limit": _int(body, "per_user_limit", 1, MAX_PER_USER, 1)}
    values.update(_value_terms(body, merchant_id))
    values.update(_scope_terms(body, merchant_id, values["kind"]))
    values.update(_time_terms(body, now))
    values.update(_channel_terms(body, merchant_id))
    return values


def create_template(body: dict, *, merchant_id: int | None, actor_kind: str, actor_id: int,
                    now: dt.datetime | None = None) -> CouponTemplate:
    """Create a template issued by ``merchant_id`` (None: a platform coupon, by an operator)."""
    now = now or utcnow()
    values = clean_new_template(body, merchant_id, now)
    with transaction():
        if merchant_id is not None:
            forget_merchant_detail(merchant_id)
        return CouponTemplate.create(merchant=merchant_id, created_by_kind=actor_kind,
                                     created_by=actor_id, created_at=now, updated_at=now,
                                     **values)


def get_template(template_id: int, merchant_id: int | None) -> CouponTemplate:
    """A template issued by ``merchant_id`` (None: the platform), or not found."""
    issuer = (CouponTemplate.merchant.is_null() if merchant_id is None
              else CouponTemplate.merchant == merchant_id)
    template = CouponTemplate.get_or_none((CouponTemplate.id == template_id) & issuer)
    if template is None:
        raise CouponTemplateNotFound(details={"template_id": template_id})
    return template


def update_template(template_id: int, merchant_id: int | None, changes: dict,
                    now: dt.datetime | None = None) -> CouponTemplate:
    """Change what may change of a template of ``merchant_id``; ended templates are final."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise ValidationFailed("这些字段创建后不能修改", details={"fields": sorted(unknown)})
    values: dict[str, Any] = {}
    if "name" in changes:
        values["name"] = _text(changes, "name", 64, True)
    if "description" in changes:
        values["description"] = _text(changes, "description", 500, False) or ""
    if "per_user_limit" in changes:
        values["per_user_limit"] = _int(changes, "per_user_limit", 1, MAX_PER_USER)
    if "claim_ends_at" in changes:
        values["claim_ends_at"] = _time(changes, "claim_ends_at")
    if "status" in changes and changes["status"] not in ("active", "paused", "ended"):
        raise _invalid("status", "choice", choices=["active", "paused", "ended"])
    now = now or utcnow()
    with transaction():
        template = get_template(template_id, merchant_id)
        if template.status == "ended":
            raise CouponTemplateEnded(details={"template_id": template_id})
        if "status" in changes:
            values["status"] = changes["status"]
        query = (CouponTemplate.update(updated_at=now, **values)
                 .where(CouponTemplate.id == template.id))
        if "total_stock" in changes:
            total = _int(changes, "total_stock", 1, MAX_STOCK)
            # Guarded: never below what was handed out, even while claims run.
            query = (CouponTemplate.update(updated_at=now, total_stock=total, **values)
                     .where(CouponTemplate.id == template.id, CouponTemplate.issued <= total))
        if query.execute() != 1:
            raise _invalid("total_stock", "below issued", "库存不能少于已发放数量",
                           issued=template.issued)
        forget_merchant_detail()  # its issuer's page and every distributor's
        return CouponTemplate.get_by_id(template.id)


def add_distribution(template_id: int, issuer_merchant_id: int, distributor_merchant_id: int,
                     commission_fen: int, *, actor_id: int,
                     cooperation_id: int | None = None) -> CouponDistribution:
    """Let a partner merchant hand out a template at its counter (or renew the terms of
    one that did): ``commission_fen`` is owed to it per redeemed coupon it distributed."""
    _int({"commission_fen": commission_fen}, "commission_fen", 0, MAX_FEN)
    with transaction():
        template = get_template(template_id, issuer_merchant_id)
        if "partner" not in template.channel_set:
            raise _invalid("template_id", "no partner channel", "该优惠券未开放合作商户发放")
        if template.status == "ended":
            raise CouponTemplateEnded(details={"template_id": template_id})
        if distributor_merchant_id == issuer_merchant_id or not Merchant.select().where(
                Merchant.id == distributor_merchant_id, Merchant.status == "approved").exists():
            raise _invalid("merchant_id", "not an approved partner", "合作商户不存在或未通过审核")
        values = dict(commission_fen=commission_fen, cooperation_id=cooperation_id,
                      status="active", ended_at=None)
        forget_merchant_detail(distributor_merchant_id)
        try:
            with db.atomic():
                return CouponDistribution.create(template=template,
                                                 distributor=distributor_merchant_id,
                                                 created_by=actor_id, **values)
        except IntegrityError:
            (CouponDistribution.update(**values)
             .where(CouponDistribution.template == template,
                    CouponDistribution.distributor == distributor_merchant_id).execute())
            return CouponDistribution.get(CouponDistribution.template == template,
                                          CouponDistribution.distributor == distributor_merchant_id)


def end_distribution(distribution_id: int, merchant_id: int,
                     now: dt.datetime | None = None) -> CouponDistribution:
    """Stop a distribution; either the issuer or the distributor may. Coupons already
    claimed through it keep their attribution."""
    with transaction():
        distribution = (CouponDistribution.select(CouponDistribution, CouponTemplate)
                        .join(CouponTemplate)
                        .where(CouponDistribution.id == distribution_id,
                               (CouponDistribution.distributor == merchant_id)
                               | (CouponTemplate.merchant == merchant_id)).first())
        if distribution is None:
            raise DistributionNotFound(details={"distribution_id": distribution_id})
        forget_merchant_detail(distribution.distributor_id)
        (CouponDistribution.update(status="ended", ended_at=now or utcnow())
         .where(CouponDistribution.id == distribution.id, CouponDistribution.status == "active")
         .execute())
        return CouponDistribution.get_by_id(distribution.id)


def create_platform_template(body: dict, operator_id: int,
                             now: dt.datetime | None = None) -> CouponTemplate:
    """An operator creates a platform coupon (funded by the platform), audited."""
    with transaction():
        template = create_template(body, merchant_id=None, actor_kind="operator",
                                   actor_id=operator_id, now=now)
        record_audit(operator_id, "coupon_template.create", "coupon_template", template.id,
                     details={"name": template.name, "total_stock": template.total_stock})
        return template


def update_platform_template(template_id: int, operator_id: int, changes: dict) -> CouponTemplate:
    """An operator changes a platform coupon template, audited."""
    with transaction():
        template = update_template(template_id, None, changes)
        record_audit(operator_id, "coupon_template.update", "coupon_template", template_id,
                     details=changes)
        return template
