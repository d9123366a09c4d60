"""The refusals of the cooperation workflow (stable codes; messages for merchant staff)."""
from __future__ import annotations

from alliance.errors import Conflict, NotFound


class CooperationNotFound(NotFound):
    code = "COOPERATION_NOT_FOUND"
    message = "合作不存在"


class CooperationAlreadyOpen(Conflict):
    code = "COOPERATION_ALREADY_OPEN"
    message = "与该商户已有同类型的合作正在洽谈或进行中"


class CooperationNotYourTurn(Conflict):
    code = "COOPERATION_NOT_YOUR_TURN"
    message = "正在等待对方答复，请稍后再试"


class CooperationStatusConflict(Conflict):
    code = "COOPERATION_STATUS_CONFLICT"
    message = "合作状态已变化，无法执行此操作，请刷新后重试"


class CooperationTermsChanged(Conflict):
    code = "COOPERATION_TERMS_CHANGED"
    message = "合作条款已更新，请查看最新条款后再操作"


class CooperationNotProposer(Conflict):
    code = "COOPERATION_NOT_PROPOSER"
    message = "只有发起方可以撤回合作邀请"


class CooperationExpired(Conflict):
    code = "COOPERATION_EXPIRED"
    message = "合作邀请已过期（约定的结束时间已过），如需合作请重新发起"
