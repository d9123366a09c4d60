"""The lottery's errors (stable codes, Chinese messages)."""
from __future__ import annotations

from alliance.errors import Conflict, NotFound


class LotteryNotFound(NotFound):
    code = "LOTTERY_NOT_FOUND"
    message = "抽奖活动不存在"


class LotteryPrizeNotFound(NotFound):
    code = "LOTTERY_PRIZE_NOT_FOUND"
    message = "奖品不存在"


class LotteryStateConflict(Conflict):
    code = "LOTTERY_STATE_CONFLICT"
    message = "抽奖活动当前状态不允许此操作"


class LotteryNotStarted(Conflict):
    code = "LOTTERY_NOT_STARTED"
    message = "抽奖活动尚未开始"


class LotteryEnded(Conflict):
    code = "LOTTERY_ENDED"
    message = "抽奖活动已结束"


class LotteryDailyLimitReached(Conflict):
    code = "LOTTERY_DAILY_LIMIT_REACHED"
    message = "今日抽奖次数已用完，明天再来吧"


class LotteryTotalLimitReached(Conflict):
    code = "LOTTERY_TOTAL_LIMIT_REACHED"
    message = "您在本活动的抽奖次数已用完"


class LotteryPrizeStockShort(Conflict):
    code = "LOTTERY_PRIZE_STOCK_SHORT"
    message = "奖品剩余库存不足以减少这么多"
