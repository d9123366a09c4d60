"""Reads of merchant pushes: a merchant's history, a consumer's opt-outs."""
from __future__ import annotations

import datetime as dt
import json

from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.merchants.models import Merchant
from alliance.paging import newest_first
from alliance.pushes.models import (ALL_MERCHANTS, PLATFORM, MerchantPush, MerchantPushQuota,
                                    PushOptOut)
from alliance.pushes.services import local_day


def push_view(push: MerchantPush) -> dict:
    return {"id": push.id, "title": push.title, "content": push.content, "page": push.page,
            "segment": json.loads(push.segment), "recipients": push.recipients,
            "created_by": push.created_by_user_id, "created_at": to_local_iso(push.created_at)}


def push_history(merchant_id: int, cursor: str | None, limit: int, daily_limit: int,
                 now: dt.datetime | None = None) -> dict:
    """The merchant's pushes, newest first, and today's use of its daily limit."""
    rows, next_cursor = newest_first(
        MerchantPush.select().where(MerchantPush.merchant == merchant_id), MerchantPush.id,
        cursor, limit)
    day, _ = local_day(now or utcnow())
    used = (MerchantPushQuota.select(MerchantPushQuota.used)
            .where(MerchantPushQuota.merchant == merchant_id,
                   MerchantPushQuota.local_day == day).scalar() or 0)
    return {"items": [push_view(p) for p in rows], "next_cursor": next_cursor,
            "today": {"day": day, "used": used, "daily_limit": daily_limit,
                      "remaining": max(0, daily_limit - used)}}


def push_preferences(user_id: int) -> dict:
    """Whether the consumer refuses every merchant's pushes, and the merchants refused."""
    rows = list(PushOptOut.select(PushOptOut, Merchant.name)
                .join(Merchant, on=(PushOptOut.merchant_id == Merchant.id), attr="merchant")
                .where(PushOptOut.user == user_id).order_by(PushOptOut.id))
    everything = PushOptOut.get_or_none(PushOptOut.user == user_id,
                                        PushOptOut.merchant_id == ALL_MERCHANTS)
    platform = PushOptOut.get_or_none(PushOptOut.user == user_id,
                                      PushOptOut.merchant_id == PLATFORM)
    return {"opt_out_all": everything is not None,
            "opt_out_all_since": to_local_iso(everything.created_at) if everything else None,
            "opt_out_platform": platform is not None,
            "items": [{"merchant_id": row.merchant_id, "merchant_name": row.merchant.name,
                       "opt_out": True, "since": to_local_iso(row.created_at)} for row in rows],
            "next_cursor": None}
