"""The permission registry: which role may do what.

A handler declares the permission it needs; a principal holds roles; this table decides.
Merchant roles are held per merchant (see the merchants domain); operator roles per console
account; every logged-in user holds ``consumer``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PERMISSIONS: dict[str, str] = {
    "self:read": "read one's own account, coupons, points and orders",
    "self:write": "change one's own account, claim coupons, place orders",
    "merchant:read": "read the shop's data",
    "merchant:account": "see and resubmit the merchant's application and certification",
    "merchant:catalog": "edit the shop's catalog and shop details",
    "merchant:staff": "invite and remove staff",
    "merchant:redeem": "scan member codes, redeem coupons and service codes",
    "merchant:redeem:undo": "undo a recent redemption",
    "merchant:orders": "handle orders: confirm, ship, refund decisions",
    "merchant:finance": "see sales, settlements and commissions",
    "merchant:marketing": "run coupons, campaigns, pushes and cooperation",
    "admin:merchants": "audit and manage merchants and goods",
    "admin:consumers": "see and manage consumers",
    "admin:orders": "see every order, handle abnormal ones",
    "admin:campaigns": "create and audit campaigns",
    "admin:complaints": "handle complaints and arbitration",
    "admin:analytics": "read platform analytics",
    "admin:settings": "system settings, roles, backup and restore",
    "admin:operators": "manage console accounts",
    "admin:jobs": "see scheduled job runs",
    "admin:oa": "configure the official account's automatic replies",
    "admin:settlement": "close settlement periods, read statements, record payouts, set commission rates",
}

_MERCHANT_ALL = {p for p in PERMISSIONS if p.startswith("merchant:")}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "consumer": frozenset({"self:read", "self:write"}),
    "merchant_owner": frozenset(_MERCHANT_ALL),
    "merchant_manager": frozenset(_MERCHANT_ALL - {"merchant:staff", "merchant:account"}),
    "merchant_clerk": frozenset({"merchant:read", "merchant:redeem"}),
    "administrator": frozenset(p for p in PERMISSIONS if p.startswith("admin:")),
    "operator": frozenset({"admin:merchants", "admin:consumers", "admin:orders",
                           "admin:campaigns", "admin:analytics", "admin:jobs", "admin:oa"}),
    "customer_service": frozenset({"admin:consumers", "admin:orders", "admin:complaints"}),
}

OPERATOR_ROLES = ("administrator", "operator", "customer_service")
# What the console shows operators of their roles and permissions.
ROLE_LABELS = {"administrator": "管理员", "operator": "运营", "customer_service": "客服"}
PERMISSION_LABELS = {
    "admin:merchants": "商户与商品审核、管理",
    "admin:consumers": "查看与管理消费者",
    "admin:orders": "查看全部订单、处理异常订单",
    "admin:campaigns": "创建与审核活动、平台优惠券",
    "admin:complaints": "处理投诉与售后仲裁",
    "admin:analytics": "查看平台数据分析",
    "admin:settings": "系统设置、系统状态、备份与恢复",
    "admin:operators": "管理员工账号与角色",
    "admin:jobs": "查看定时任务运行情况",
    "admin:oa": "配置公众号自动回复",
    "admin:settlement": "结算周期、对账单、打款记录与佣金比例",
}
MERCHANT_ROLES = ("merchant_owner", "merchant_manager", "merchant_clerk")


def role_allows(role: str, permission: str) -> bool:
    """True when ``role`` grants ``permission``; unknown names grant nothing."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unregistered permission {permission!r}")
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (consumer/staff) or an operator, with their global roles."""

    kind: str  # user | operator
    id: int
    roles: frozenset[str] = field(default_factory=frozenset)
    family_id: str | None = None

    def can(self, permission: str) -> bool:
        return any(role_allows(role, permission) for role in self.roles)

    @property
    def key(self) -> str:
        """A stable string naming this principal (idempotency keys, rate limits)."""
        return f"{self.kind}:{self.id}"
