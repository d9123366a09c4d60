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
