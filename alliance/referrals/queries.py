"""Reads of referrals: a consumer's invitees and what they earned."""
from __future__ import annotations

from peewee import JOIN, fn

from alliance.accounts.models import User
from alliance.clock import to_local_iso
from alliance.db import utcnow
from alliance.paging import newest_first
from alliance.referrals.models import ReferralAttribution, ReferralReward
from alliance.referrals.services import BOUND, USER


def invitees(referrer_user_id: int, cursor: str | None, limit: int) -> dict:
    """The consumers this user referred, newest first, with their rewards and a summary."""
    query = (ReferralAttribution
             .select(ReferralAttribution, User, ReferralReward)
             .join(User, on=ReferralAttribution.invitee)
             .switch(ReferralAttribution)
             .join(ReferralReward, JOIN.LEFT_OUTER,
                   on=(ReferralReward.attribution == ReferralAttribution.id), attr="reward")
             .where(ReferralAttribution.referrer == referrer_user_id,
                    ReferralAttribution.source_kind == USER))
    rows, next_cursor = newest_first(query, ReferralAttribution.id, cursor, limit)
    now = utcnow()
    items = [_view(row, now) for row in rows]
    return {"items": items, "next_cursor": next_cursor, "summary": _summary(referrer_user_id)}


def _view(row: ReferralAttribution, now) -> dict:
    status = row.status
    if status == BOUND and row.expires_at < now:
        status = "expired"
    reward = getattr(row, "reward", None)
    return {
        "invitee": {"id": row.invitee.id, "nickname": row.invitee.nickname or "微信用户",
                    "avatar_url": row.invitee.avatar_url},
        "status": status,
        "channel": row.channel,
        "bound_at": to_local_iso(row.bound_at),
        "expires_at": to_local_iso(row.expires_at),
        "converted_at": to_local_iso(row.converted_at) if row.status == "converted" else None,
        "shared": None if row.share_kind is None else {"kind": row.share_kind,
                                                       "id": row.share_id},
        "reward": None if reward is None or reward.id is None else {
            "id": reward.id, "kind": reward.kind, "points": reward.points,
            "created_at": to_local_iso(reward.created_at)},
    }


def _summary(referrer_user_id: int) -> dict:
    invited = (ReferralAttribution.select()
               .where(ReferralAttribution.referrer == referrer_user_id,
                      ReferralAttribution.source_kind == USER).count())
    rewards = (ReferralReward
               .select(fn.COUNT(ReferralReward.id), fn.COALESCE(fn.SUM(ReferralReward.points), 0))
               .where(ReferralReward.referrer == referrer_user_id)
               .tuples().first())
    return {"invitees": invited, "rewards": rewards[0], "reward_points": int(rewards[1])}
