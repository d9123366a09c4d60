"""Operators run lotteries (``admin:campaigns``); each use case owns its transaction and is
audited.

A lottery is written whole while it is a ``draft`` (its prizes replaced as a list). Once
``active``, what consumers were shown holds: only its title, description and end may
change, and a limited prize's stock may be added to or taken from (``restock``, a guarded
UPDATE that never leaves it below zero), never its weights. ``ended`` changes nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from alliance.accounts.operators import record_audit
from alliance.checks import BodyFields, refuse_unknown
from alliance.coupons.models import CouponTemplate
from alliance.db import transaction, utcnow
from alliance.lottery.errors import (LotteryNotFound, LotteryPrizeNotFound,
                                     LotteryPrizeStockShort, LotteryStateConflict)
from alliance.lottery.models import (ACTIVE, COUPON, DRAFT, ENDED, NONE, POINTS, PRIZE_KINDS,
                                     Lottery, LotteryPrize)

MAX_DAYS = 366
MAX_PRIZES = 12
MAX_POINTS = 1_000_000
MAX_WEIGHT = 1_000_000
MAX_STOCK = 10_000_000
LIMIT_FIELDS = {"daily_limit": 1000, "total_limit": 100_000}
FIELDS = frozenset({"title", "description", "points_cost", "starts_at", "ends_at",
                    "daily_limit", "total_limit", "prizes"})
ACTIVE_EDITABLE = frozenset({"title", "description", "ends_at"})
PRIZE_FIELDS = frozenset({"kind", "name", "coupon_template_id", "points", "weight", "stock"})
DEFAULT_NAMES = {NONE: "谢谢参与"}

_FIELDS = BodyFields("抽奖活动参数有误")
_invalid, _text, _int = _FIELDS.invalid, _FIELDS.text, _FIELDS.integer


def _window(starts_at: dt.datetime, ends_at: dt.datetime, now: dt.datetime) -> None:
    if ends_at <= starts_at or ends_at - starts_at > dt.timedelta(days=MAX_DAYS):
        raise _invalid("ends_at", "range", "结束时间须晚于开始时间，且活动不超过 366 天")
    if ends_at <= now:
        raise _invalid("ends_at", "past", "结束时间须晚于现在")


def _limit(body: dict, name: str) -> int | None:
    value = body.get(name)
    return None if value is None else _int(value, name, 1, LIMIT_FIELDS[name])


def clean_prizes(value: Any) -> list[dict]:
    """2..12 prizes, exactly one of them ``none`` (谢谢参与, unlimited: what a prize that
    cannot be given turns into); coupons of platform templates that have not ended, with a
    stock; points with an amount and a stock or none (unlimited); weights 0..1,000,000
    adding up to at least 1."""
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_PRIZES:
        raise _invalid("prizes", "length", "奖品须为 2 到 12 个", min=2, max=MAX_PRIZES)
    prizes = []
    for i, entry in enumerate(value):
        field = f"prizes[{i}]"
        if not isinstance(entry, dict):
            raise _invalid(field, "must be an object")
        unknown = sorted(set(entry) - PRIZE_FIELDS)
        if unknown:
            raise _invalid(f"{field}.{unknown[0]}", "unknown", "包含不支持的字段")
        kind = entry.get("kind")
        if kind not in PRIZE_KINDS:
            raise _invalid(f"{field}.kind", "choice", choices=list(PRIZE_KINDS))
        prize = {"position": i + 1, "kind": kind, "coupon_template_id": None, "points": None,
                 "weight": _int(entry.get("weight"), f"{field}.weight", 0, MAX_WEIGHT),
                 "stock": None}
        stock = entry.get("stock")
        if kind == NONE:
            if stock is not None or "points" in entry or "coupon_template_id" in entry:
                raise _invalid(field, "kind", "谢谢参与不设库存、积分或优惠券")
            default_name = DEFAULT_NAMES[NONE]
        elif kind == POINTS:
            if "coupon_template_id" in entry:
                raise _invalid(f"{field}.coupon_template_id", "kind", "积分奖品不设优惠券")
            prize["points"] = _int(entry.get("points"), f"{field}.points", 1, MAX_POINTS)
            prize["stock"] = None if stock is None else _int(stock, f"{field}.stock", 0,
                                                             MAX_STOCK)
            default_name = f"{prize['points']} 积分"
        else:
            if "points" in entry:
                raise _invalid(f"{field}.points", "kind", "优惠券奖品不设积分")
            template = _platform_template(entry.get("coupon_template_id"),
                                          f"{field}.coupon_template_id")
            prize["coupon_template_id"] = template.id
            prize["stock"] = _int(stock, f"{field}.stock", 0, MAX_STOCK)
            default_name = template.name
        named = f"{field}.name"
        prize["name"] = _text({named: entry.get("name")}, named, 64, False) or default_name
        prizes.append(prize)
    if [p["kind"] for p in prizes].count(NONE) != 1:
        raise _invalid("prizes", "none", "奖品中须有且只有一个“谢谢参与”")
    if sum(p["weight"] for p in prizes) < 1:
        raise _invalid("prizes", "weights", "奖品权重之和须大于 0")
    return prizes


def _platform_template(value: Any, field: str) -> CouponTemplate:
    """A platform coupon template (issued and funded by the platform) that has not ended:
    a lottery gives no merchant's coupons away."""
    template_id = _int(value, field, 1, 2 ** 31 - 1)
    template = CouponTemplate.get_or_none(CouponTemplate.id == template_id)
    if template is None or template.merchant_id is not None or template.status == "ended":
        raise _invalid(field, "not found", "优惠券不存在、不是平台券或已结束")
    return template


def _clean(body: Any, now: dt.datetime, current: Lottery | None = None) -> dict[str, Any]:
    """The lottery's fields from a create (``current`` None) or a draft's change."""
    if not isinstance(body, dict) or (current is not None and not body):
        raise _invalid("body", "empty", "没有要修改的内容")
    refuse_unknown(body, FIELDS)
    fields: dict[str, Any] = {}
    if current is None or "title" in body:
        fields["title"] = _text(body, "title", 64, True)
    if "description" in body:
        fields["description"] = _text(body, "description", 500, False) or ""
    if current is None or "points_cost" in body:
        fields["points_cost"] = _int(body.get("points_cost"), "points_cost", 1, MAX_POINTS)
    for name in ("starts_at", "ends_at"):
        if current is None or name in body:
            fields[name] = _FIELDS.time(body, name, required=True)
    if current is None or {"starts_at", "ends_at"} & set(body):
        _window(fields.get("starts_at", current and current.starts_at),
                fields.get("ends_at", current and current.ends_at), now)
    for name in LIMIT_FIELDS:
        if current is None or name in body:
            fields[name] = _limit(body, name)
    return fields


def _replace_prizes(lottery: Lottery, prizes: list[dict]) -> None:
    LotteryPrize.delete().where(LotteryPrize.lottery == lottery.id).execute()
    for prize in prizes:
        stock = prize.pop("stock")
        LotteryPrize.create(lottery=lottery, stock_total=stock, stock_left=stock, **prize)


def get_lottery(lottery_id: int) -> Lottery:
    lottery = Lottery.get_or_none(Lottery.id == lottery_id)
    if lottery is None:
        raise LotteryNotFound(details={"lottery_id": lottery_id})
    return lottery


def create_lottery(body: dict, operator_id: int, now: dt.datetime | None = None) -> Lottery:
    """An operator creates a lottery, a ``draft`` with its prizes."""
    now = now or utcnow()
    with transaction():
        fields = _clean(body, now)
        prizes = clean_prizes(body.get("prizes"))
        lottery = Lottery.create(**fields, status=DRAFT, created_by=operator_id,
                                 created_at=now, updated_at=now)
        _replace_prizes(lottery, prizes)
        record_audit(operator_id, "lottery.create", "lottery", lottery.id,
                     details={"title": lottery.title})
        return lottery


def update_lottery(lottery_id: int, operator_id: int, changes: dict,
                   now: dt.datetime | None = None) -> Lottery:
    """A draft changes in whole (``prizes`` replaces the list); an active lottery only its
    title, description and end (LOTTERY_STATE_CONFLICT for the rest); an ended one not."""
    now = now or utcnow()
    with transaction():
        lottery = get_lottery(lottery_id)
        if lottery.status == ENDED:
            raise LotteryStateConflict(details={"status": lottery.status})
        kept = set(changes) - ACTIVE_EDITABLE if isinstance(changes, dict) else set()
        if lottery.status == ACTIVE and kept:
            field = sorted(kept)[0]
            raise LotteryStateConflict("抽奖活动已上线，只能修改标题、说明和结束时间", details={
                "field": field, "editable": sorted(ACTIVE_EDITABLE)})
        fields = _clean(changes, now, lottery)
        prizes = clean_prizes(changes["prizes"]) if "prizes" in changes else None
        moved = (Lottery.update(**fields, updated_at=now)
                 .where(Lottery.id == lottery.id, Lottery.status == lottery.status).execute())
        if not moved:
            raise LotteryStateConflict(details={"status": "changed meanwhile"})
        if prizes is not None:
            _replace_prizes(lottery, prizes)
        record_audit(operator_id, "lottery.update", "lottery", lottery.id, details=changes)
        return get_lottery(lottery.id)


def activate_lottery(lottery_id: int, operator_id: int,
                     now: dt.datetime | None = None) -> Lottery:
    """A draft goes live: consumers draw from its start. Its coupon prizes' templates must
    still be platform templates that have not ended, and its end still ahead."""
    now = now or utcnow()
    with transaction():
        lottery = get_lottery(lottery_id)
        if lottery.status != DRAFT:
            raise LotteryStateConflict(details={"status": lottery.status})
        if lottery.ends_at <= now:
            raise LotteryStateConflict("结束时间已过，请先修改结束时间", details={"field": "ends_at"})
        for prize in LotteryPrize.select().where(LotteryPrize.lottery == lottery.id,
                                                 LotteryPrize.kind == COUPON):
            template = CouponTemplate.get_or_none(CouponTemplate.id == prize.coupon_template_id)
            if template is None or template.status == "ended":
                raise LotteryStateConflict("奖品优惠券已结束，请更换奖品", details={
                    "prize_id": prize.id, "coupon_template_id": prize.coupon_template_id})
        moved = (Lottery.update(status=ACTIVE, activated_at=now, updated_at=now)
                 .where(Lottery.id == lottery.id, Lottery.status == DRAFT).execute())
        if not moved:
            raise LotteryStateConflict(details={"status": "changed meanwhile"})
        record_audit(operator_id, "lottery.activate", "lottery", lottery.id)
        return get_lottery(lottery.id)


def end_lottery(lottery_id: int, operator_id: int, now: dt.datetime | None = None) -> Lottery:
    """End a draft or active lottery now: no draw after this commits (a draw checks the
    lottery in its own guarded statement, so one running now either commits first or is
    refused)."""
    now = now or utcnow()
    with transaction():
        lottery = get_lottery(lottery_id)
        ended = (Lottery.update(status=ENDED, ended_at=now, updated_at=now)
                 .where(Lottery.id == lottery.id, Lottery.status != ENDED).execute())
        if not ended:
            raise LotteryStateConflict(details={"status": ENDED})
        record_audit(operator_id, "lottery.end", "lottery", lottery.id)
        return get_lottery(lottery.id)


def restock_prize(lottery_id: int, prize_id: int, operator_id: int,
                  body: dict) -> LotteryPrize:
    """Add to (``delta`` > 0) or take from (< 0) a limited prize's stock, of a lottery that
    has not ended; what is left never goes below zero (LOTTERY_PRIZE_STOCK_SHORT), however
    many draws take from it meanwhile."""
    if not isinstance(body, dict):
        raise _invalid("body", "must be an object")
    refuse_unknown(body, {"delta"})
    delta = _int(body.get("delta"), "delta", -MAX_STOCK, MAX_STOCK)
    if delta == 0:
        raise _invalid("delta", "range", "调整数量不能为 0")
    with transaction():
        lottery = get_lottery(lottery_id)
        prize = LotteryPrize.get_or_none(LotteryPrize.id == prize_id,
                                         LotteryPrize.lottery == lottery.id)
        if prize is None:
            raise LotteryPrizeNotFound(details={"prize_id": prize_id})
        if lottery.status == ENDED:
            raise LotteryStateConflict(details={"status": lottery.status})
        if prize.stock_left is None:
            raise LotteryStateConflict("该奖品不限库存", details={"prize_id": prize_id})
        changed = (LotteryPrize.update(stock_left=LotteryPrize.stock_left + delta,
                                       stock_total=LotteryPrize.stock_total + delta)
                   .where(LotteryPrize.id == prize.id, LotteryPrize.stock_left + delta >= 0,
                          LotteryPrize.stock_left + delta <= MAX_STOCK)
                   .execute())
        if not changed:
            raise LotteryPrizeStockShort(details={"prize_id": prize_id, "delta": delta,
                                                  "stock_left": prize.stock_left})
        # (The lottery row is left alone: draws hold it shared while they take a prize.)
        record_audit(operator_id, "lottery.restock", "lottery", lottery.id,
                     details={"prize_id": prize_id, "delta": delta})
        return LotteryPrize.get_by_id(prize.id)
