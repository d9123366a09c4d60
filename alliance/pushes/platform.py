"""Platform promotions: operators push a campaign to consumers (``campaign.promoted``).

Starting one takes one of the platform's daily promotions (``PLATFORM_PUSH_DAILY_LIMIT``
per Shanghai calendar day) by a guarded UPDATE of the day's counter, in the transaction that
records the push, audited. Its recipients (every active consumer, or those of a segment: members of merchants
of some industries, visitors within N days, registered within N days; never those who
refused the platform's promotions or every push) are written to the outbox in batches in
user id order: a batch is read after ``after_user_id``, its messages written (dedupe key per
push and user) and the cursor moved by an UPDATE guarded on the cursor read, all in one
transaction. So a batch is queued once however many schedulers run ``send_batches``, and a
crash loses nothing: the next run goes on from the cursor. The first batch is written when
the push starts; the outbox delivers after commit through the scheduled sweep.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from alliance.accounts.models import User
from alliance.accounts.operators import record_audit
from alliance.campaigns.errors import CampaignNotFound
from alliance.campaigns.models import APPROVED, Campaign
from alliance.clock import to_local_iso
from alliance.db import transaction, utcnow
from alliance.errors import Conflict, ValidationFailed
from alliance.members.models import MerchantMember
from alliance.merchants.industries import INDUSTRIES
from alliance.merchants.models import Merchant
from alliance.paging import newest_first
from alliance.ports import Notifier
from alliance.pushes.models import (ALL_MERCHANTS, PLATFORM, PlatformPush, PlatformPushQuota,
                                    PushOptOut)
from alliance.pushes.services import (ensure_quota_row, local_day, segment_days,
                                      segment_fields, take_quota)

BATCH = 500
SENDING, DONE = "sending", "done"


class CampaignNotPromotable(Conflict):
    code = "CAMPAIGN_NOT_PROMOTABLE"
    message = "只能推广已通过审核且未结束的活动"


@dataclass(frozen=True)
class Audience:
    """Which consumers a promotion reaches (every active one when all are None)."""

    industries: tuple[str, ...] | None = None  # members of merchants of these industries
    active_within_days: int | None = None  # visited a merchant within the last N days
    registered_within_days: int | None = None

    def as_dict(self) -> dict:
        values = asdict(self)
        values["industries"] = list(self.industries) if self.industries is not None else None
        return values


def parse_audience(raw: Any) -> Audience:
    """The segment of a promotion request (``{}`` or absent: every active consumer)."""
    raw = segment_fields(raw, {"industries", "active_within_days", "registered_within_days"})
    industries = raw.get("industries")
    if industries is not None:
        if (not isinstance(industries, list) or not 1 <= len(industries) <= len(INDUSTRIES)
                or any(not isinstance(i, str) or i not in INDUSTRIES for i in industries)):
            raise ValidationFailed("参数 segment.industries 应为行业代码列表",
                                   details={"field": "segment.industries",
                                            "choices": list(INDUSTRIES)})
        industries = tuple(sorted(set(industries)))
    return Audience(industries, segment_days(raw, "active_within_days"),
                    segment_days(raw, "registered_within_days"))


def _audience_batch(audience: Audience, after_user_id: int, now: dt.datetime,
                    limit: int) -> list[int]:
    """The next ``limit`` user ids after ``after_user_id`` the promotion reaches now."""
    refused = PushOptOut.select(PushOptOut.user).where(
        PushOptOut.merchant_id.in_([ALL_MERCHANTS, PLATFORM]))
    query = User.select(User.id).where(User.id > after_user_id, User.status == "active",
                                       User.id.not_in(refused))
    if audience.industries is not None:
        query = query.where(User.id.in_(
            MerchantMember.select(MerchantMember.user_id)
            .join(Merchant, on=(Merchant.id == MerchantMember.merchant))
            .where(Merchant.industry.in_(list(audience.industries)))))
    if audience.active_within_days is not None:
        since = now - dt.timedelta(days=audience.active_within_days)
        query = query.where(User.id.in_(MerchantMember.select(MerchantMember.user_id)
                                        .where(MerchantMember.last_visit_at >= since)))
    if audience.registered_within_days is not None:
        query = query.where(User.created_at
                            >= now - dt.timedelta(days=audience.registered_within_days))
    return [row.id for row in query.order_by(User.id).limit(limit)]


def start_promotion(notifier: Notifier, operator_id: int, campaign_id: int, *, title: str,
                    content: str, audience: Audience, daily_limit: int,
                    now: dt.datetime | None = None) -> PlatformPush:
    """Promote an approved campaign that is not over to the audience; the push, its first
    batch queued. RATE_LIMITED (with the seconds until the Shanghai day ends) beyond the
    day's promotions; CAMPAIGN_NOT_PROMOTABLE for a campaign consumers cannot join."""
    now = now or utcnow()
    campaign = Campaign.get_or_none(Campaign.id == campaign_id)
    if campaign is None:
        raise CampaignNotFound(details={"campaign_id": campaign_id})
    if campaign.status != APPROVED or campaign.ends_at <= now:
        raise CampaignNotPromotable(details={"campaign_id": campaign_id,
                                             "status": campaign.status,
                                             "ends_at": to_local_iso(campaign.ends_at)})
    day, retry_after = local_day(now)
    ensure_quota_row(PlatformPushQuota, local_day=day)
    with transaction():
        take_quota(PlatformPushQuota, daily_limit, retry_after,
                   "今日平台推广次数已用完，请明天再试", local_day=day)
        push = PlatformPush.create(campaign_id=campaign_id, title=title, content=content,
                                   segment=json.dumps(audience.as_dict()), local_day=day,
                                   created_by=operator_id, created_at=now)
        record_audit(operator_id, "campaign.promote", "campaign", campaign_id, title,
                     {"push_id": push.id, "segment": audience.as_dict()})
    send_batch(notifier, push.id, now)
    return PlatformPush.get_by_id(push.id)


def send_batch(notifier: Notifier, push_id: int, now: dt.datetime | None = None,
               limit: int | None = None) -> int:
    """Queue the push's next batch (``BATCH`` users); how many messages it wrote (0: none
    left, or another process queued this batch first)."""
    now, limit = now or utcnow(), limit or BATCH
    with transaction():
        push = PlatformPush.get_by_id(push_id)
        if push.status != SENDING:
            return 0
        audience = parse_audience(json.loads(push.segment))
        users = _audience_batch(audience, push.after_user_id, now, limit)
        moved = (PlatformPush.update(
                    after_user_id=users[-1] if users else push.after_user_id,
                    recipients=PlatformPush.recipients + len(users),
                    status=SENDING if len(users) == limit else DONE,
                    finished_at=None if len(users) == limit else now)
                 .where(PlatformPush.id == push.id,
                        PlatformPush.after_user_id == push.after_user_id,
                        PlatformPush.status == SENDING).execute())
        if not moved:
            return 0
        campaign = Campaign.get_by_id(push.campaign_id)
        data = {"push_id": push.id, "campaign_id": campaign.id,
                "campaign_name": campaign.name, "title": push.title, "content": push.content,
                "ends_at": to_local_iso(campaign.ends_at)}
        for user_id in users:
            notifier.notify("campaign.promoted", user_id=user_id, data=data,
                            dedupe_key=f"campaign.promoted:{push.id}:{user_id}")
    return len(users)


def send_batches(notifier: Notifier, now: dt.datetime | None = None,
                 budget: int = 20) -> dict[str, int]:
    """For the scheduler: queue up to ``budget`` batches of the pushes still sending."""
    queued = batches = 0
    for push_id in [p.id for p in PlatformPush.select(PlatformPush.id)
                    .where(PlatformPush.status == SENDING).order_by(PlatformPush.id)]:
        while batches < budget:
            written = send_batch(notifier, push_id, now)
            batches += 1
            queued += written
            if PlatformPush.get_by_id(push_id).status != SENDING:
                break
    return {"batches": batches, "queued": queued}


def push_view(push: PlatformPush) -> dict:
    return {"id": push.id, "campaign_id": push.campaign_id, "title": push.title,
            "content": push.content, "segment": json.loads(push.segment),
            "status": push.status, "recipients": push.recipients, "local_day": push.local_day,
            "created_by": push.created_by, "created_at": to_local_iso(push.created_at),
            "finished_at": to_local_iso(push.finished_at)}


def promotions(campaign_id: int | None, cursor: str | None, limit: int) -> dict:
    """The platform's promotions newest first (of one campaign, when given)."""
    query = PlatformPush.select()
    if campaign_id is not None:
        query = query.where(PlatformPush.campaign_id == campaign_id)
    rows, next_cursor = newest_first(query, PlatformPush.id, cursor, limit)
    return {"items": [push_view(p) for p in rows], "next_cursor": next_cursor}
