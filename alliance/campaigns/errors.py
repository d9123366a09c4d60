"""The campaigns' errors (stable codes, Chinese messages)."""
from __future__ import annotations

from alliance.errors import Conflict, NotFound


class CampaignNotFound(NotFound):
    code = "CAMPAIGN_NOT_FOUND"
    message = "活动不存在"


class CampaignStateConflict(Conflict):
    code = "CAMPAIGN_STATE_CONFLICT"
    message = "活动当前状态不允许此操作"


class CampaignSoldOut(Conflict):
    code = "CAMPAIGN_SOLD_OUT"
    message = "活动库存已抢光"


class CampaignLimitReached(Conflict):
    code = "CAMPAIGN_LIMIT_REACHED"
    message = "已达到活动限购数量"


class CampaignBudgetExhausted(Conflict):
    code = "CAMPAIGN_BUDGET_EXHAUSTED"
    message = "活动预算已用完，请刷新后重新下单"


class CampaignParticipantNotFound(NotFound):
    code = "CAMPAIGN_PARTICIPANT_NOT_FOUND"
    message = "该商户未报名此活动"


class GroupNotFound(NotFound):
    code = "GROUP_NOT_FOUND"
    message = "拼团不存在"


class GroupBuyUnavailable(Conflict):
    """The item has no running group buy of that campaign (not approved, not started,
    ended, or not among its items)."""

    code = "GROUP_BUY_UNAVAILABLE"
    message = "该商品当前没有进行中的团购活动"


class GroupFull(Conflict):
    code = "GROUP_FULL"
    message = "该团已满员，请参加其他团或自己开团"


class GroupClosed(Conflict):
    code = "GROUP_CLOSED"
    message = "该团已结束，请参加其他团或自己开团"


class GroupAlreadyJoined(Conflict):
    code = "GROUP_ALREADY_JOINED"
    message = "您已参加该团"


class GroupPending(Conflict):
    """A group order waits for its group to fill: it is not fulfilled or refunded before."""

    code = "GROUP_PENDING"
    message = "拼团尚未成功，订单暂不能处理"
