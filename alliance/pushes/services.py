"""Use cases of merchant pushes: sending one to a segment of the merchant's members, and a
consumer's opt-outs.

A push takes one of the merchant's daily pushes (``MERCHANT_PUSH_DAILY_LIMIT`` per Shanghai
calendar day) by a guarded UPDATE of the day's counter, then writes one ``merchant.push``
outbox message per recipient (dedupe key per push and user), all in one transaction: the
outbox delivers them after the commit (the server passes a notifier that leaves them to
the scheduled sweep). Recipients are the merchant's members in the
segment, without the consumers who opted out of this merchant's pushes or of all.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from peewee import IntegrityError

from alliance.accounts.models import User
from alliance.clock import SHANGHAI
from alliance.db import db, transaction, utcnow
from alliance.errors import RateLimited, ValidationFailed
from alliance.members.models import MerchantMember
from alliance.merchants.models import Merchant
from alliance.merchants.queries import MerchantNotFound
from alliance.ports import Notifier
from alliance.pushes.models import (ALL_MERCHANTS, PLATFORM, MerchantPush, MerchantPushQuota,
                                    PushOptOut)

MAX_LEVELS = 20
MAX_DAYS = 3650


class PushLimitReached(RateLimited):
    code = "RATE_LIMITED"
    message = "今日推送次数已用完，请明天再试"


@dataclass(frozen=True)
class Segment:
    """Which members a push reaches: member levels (None: all), and the last visit within
    the last N days, or not within the last N days (never visited counts as not within)."""

    levels: tuple[int, ...] | None = None
    last_visit_within_days: int | None = None
    last_visit_before_days: int | None = None

    def as_dict(self) -> dict:
        values = asdict(self)
        values["levels"] = list(self.levels) if self.levels is not None else None
        return values


def segment_fields(raw: Any, allowed: set[str]) -> dict:
    """A request's ``segment`` object, of only ``allowed`` fields ({} when absent)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed("参数 segment 必须是对象", details={"field": "segment"})
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ValidationFailed("参数 segment 含有未知字段",
                               details={"field": "segment", "unknown": unknown})
    return raw


def segment_days(raw: dict, field: str) -> int | None:
    """A segment's number of days (1 to MAX_DAYS), or None when absent."""
    value = raw.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise ValidationFailed(f"参数 segment.{field} 应为 1 到 {MAX_DAYS} 的整数",
                               details={"field": f"segment.{field}", "minimum": 1,
                                        "maximum": MAX_DAYS})
    return value


def parse_segment(raw: Any) -> Segment:
    """The segment of a push request (``{}`` or absent: every member)."""
    raw = segment_fields(raw, {"levels", "last_visit_within_days", "last_visit_before_days"})
    levels = raw.get("levels")
    if levels is not None:
        if (not isinstance(levels, list) or not 1 <= len(levels) <= MAX_LEVELS
                or any(isinstance(x, bool) or not isinstance(x, int) or not 0 <= x <= 99
                       for x in levels)):
            raise ValidationFailed("参数 segment.levels 应为会员等级（0 到 99）的列表",
                                   details={"field": "segment.levels", "max_items": MAX_LEVELS})
        levels = tuple(sorted(set(levels)))
    within = segment_days(raw, "last_visit_within_days")
    before = segment_days(raw, "last_visit_before_days")
    if within is not None and before is not None and within <= before:
        raise ValidationFailed("最近到店的时间范围为空：within 须大于 before",
                               details={"field": "segment.last_visit_within_days"})
    return Segment(levels, within, before)


def local_day(now: dt.datetime) -> tuple[str, int]:
    """The Shanghai calendar day of naive-UTC ``now``, and the seconds until it ends."""
    local = now.replace(tzinfo=dt.timezone.utc).astimezone(SHANGHAI)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), SHANGHAI)
    return local.date().isoformat(), max(1, int((midnight - local).total_seconds()))


def recipients(merchant_id: int, segment: Segment, now: dt.datetime) -> list[int]:
    """The user ids a push of ``merchant_id`` to ``segment`` reaches now."""
    refused = PushOptOut.select(PushOptOut.user).where(
        PushOptOut.merchant_id.in_([ALL_MERCHANTS, merchant_id]))
    query = (MerchantMember.select(MerchantMember.user_id)
             .join(User, on=(MerchantMember.user_id == User.id))
             .where(MerchantMember.merchant == merchant_id, User.status == "active",
                    MerchantMember.user_id.not_in(refused)))
    if segment.levels is not None:
        query = query.where(MerchantMember.level.in_(list(segment.levels)))
    if segment.last_visit_within_days is not None:
        query = query.where(MerchantMember.last_visit_at
                            >= now - dt.timedelta(days=segment.last_visit_within_days))
    if segment.last_visit_before_days is not None:
        since = now - dt.timedelta(days=segment.last_visit_before_days)
        query = query.where(MerchantMember.last_visit_at.is_null()
                            | (MerchantMember.last_visit_at < since))
    return [row.user_id for row in query.order_by(MerchantMember.user_id)]


def ensure_quota_row(model, **keys) -> None:
    """The day's counter row of ``model`` (``keys``: its unique key, the Shanghai day in it)
    created at 0 if missing. In its own short transaction, before the push's: the guarded
    UPDATE (``take_quota``) then never follows a duplicate-key error, whose shared lock
    deadlocks concurrent updaters on InnoDB."""
    if model.select().where(*[getattr(model, k) == v for k, v in keys.items()]).exists():
        return
    try:
        with transaction():
            model.create(**keys, used=0)
    except IntegrityError:
        pass  # another push created it


def take_quota(model, daily_limit: int, retry_after: int, message: str | None = None,
               **keys) -> None:
    """Take one of the day's ``daily_limit`` on the counter row ``keys`` names (guarded:
    ``used < limit``), in the caller's transaction; RATE_LIMITED when none is left."""
    taken = (model.update(used=model.used + 1)
             .where(*[getattr(model, k) == v for k, v in keys.items()],
                    model.used < daily_limit).execute())
    if not taken:
        raise PushLimitReached(retry_after, message=message,
                               details={"daily_limit": daily_limit, "day": keys["local_day"]})


def send_push(notifier: Notifier, merchant_id: int, staff_user_id: int, *, title: str,
              content: str, segment: Segment, page: str | None, daily_limit: int,
              now: dt.datetime | None = None) -> MerchantPush:
    """Push ``title``/``content`` to the merchant's members in ``segment`` who did not opt
    out; the recorded push with its number of recipients. Raises RATE_LIMITED (with the
    seconds until the Shanghai day ends) when the merchant used its pushes for today."""
    now = now or utcnow()
    day, retry_after = local_day(now)
    merchant = Merchant.get_by_id(merchant_id)
    page = page or f"pages/merchant/detail?id={merchant_id}"
    ensure_quota_row(MerchantPushQuota, merchant=merchant_id, local_day=day)
    with transaction():
        take_quota(MerchantPushQuota, daily_limit, retry_after, merchant=merchant_id,
                   local_day=day)
        users = recipients(merchant_id, segment, now)
        push = MerchantPush.create(merchant=merchant_id, title=title, content=content,
                                   page=page, segment=json.dumps(segment.as_dict()),
                                   recipients=len(users), local_day=day,
                                   created_by_user_id=staff_user_id, created_at=now)
        data = {"push_id": push.id, "merchant_id": merchant_id, "merchant_name": merchant.name,
                "title": title, "content": content, "page": page}
        for user_id in users:
            notifier.notify("merchant.push", user_id=user_id, data=data,
                            dedupe_key=f"merchant.push:{push.id}:{user_id}")
    return push


def set_opt_out(user_id: int, merchant_id: int | None, opt_out: bool,
                platform: bool = False) -> None:
    """Refuse (``opt_out``) or accept again the pushes of one merchant, the platform's
    promotions (``platform``), or every push when neither is given. Idempotent."""
    scope = PLATFORM if platform else ALL_MERCHANTS if merchant_id is None else merchant_id
    with transaction():
        if merchant_id is not None and not Merchant.select().where(
                Merchant.id == merchant_id).exists():
            raise MerchantNotFound(details={"merchant_id": merchant_id})
        if not opt_out:
            (PushOptOut.delete()
             .where(PushOptOut.user == user_id, PushOptOut.merchant_id == scope).execute())
            return
        try:
            with db.atomic():
                PushOptOut.create(user=user_id, merchant_id=scope)
        except IntegrityError:
            pass  # already refused
