"""The operators' audit of merchants: pending -> approved | rejected (with a reason),
approved -> suspended (a violation) -> approved (reinstated).

Each move is one guarded UPDATE on the expected status (two operators acting at once:
one wins, the other gets MERCHANT_STATUS_CONFLICT), written to the merchant's history and
the operators' audit log, with the owner notified, all in one transaction.
"""
from __future__ import annotations

from alliance.accounts.operators import record_audit
from alliance.checks import printable, unprintable
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.merchants.models import Merchant, MerchantStatusChange
from alliance.merchants.queries import get_merchant
from alliance.merchants.shops import sync_listing
from alliance.ports import Notifier

# action -> (from status, to status, reason required)
TRANSITIONS = {
    "approve": ("pending", "approved", False),
    "reject": ("pending", "rejected", True),
    "suspend": ("approved", "suspended", True),
    "reinstate": ("suspended", "approved", False),
}
# What the owner's "merchant.audit_result" notification says happened.
RESULTS = {"approve": "approved", "reject": "rejected", "suspend": "suspended",
           "reinstate": "reinstated"}
MAX_REASON = 500


class MerchantStatusConflict(AllianceError):
    code = "MERCHANT_STATUS_CONFLICT"
    http_status = 409
    message = "商户当前状态不能执行此操作，请刷新后重试"


def review_merchant(notifier: Notifier, operator_id: int, merchant_id: int, action: str,
                    reason: str = "") -> Merchant:
    """Apply an audit ``action`` (approve, reject, suspend, reinstate) to the merchant."""
    if action not in TRANSITIONS:
        raise ValidationFailed("审核操作不正确", details={"field": "action",
                                                        "choices": list(TRANSITIONS)})
    source, target, needs_reason = TRANSITIONS[action]
    reason = (reason or "").strip()
    if needs_reason and not reason:
        raise ValidationFailed("请填写原因", details={"field": "reason", "issue": "required"})
    if len(reason) > MAX_REASON:
        raise ValidationFailed("原因太长", details={"field": "reason", "max_length": MAX_REASON})
    if not printable(reason):
        raise unprintable("reason", "原因含有不允许的控制字符")
    with transaction():
        merchant = get_merchant(merchant_id)
        now = utcnow()
        moved = (Merchant.update(status=target, status_reason=reason, reviewed_at=now,
                                 updated_at=now)
                 .where(Merchant.id == merchant_id, Merchant.status == source).execute())
        if moved != 1:
            raise MerchantStatusConflict(details={"status": merchant.status, "action": action,
                                                  "expected_status": source})
        change = MerchantStatusChange.create(merchant=merchant_id, from_status=source,
                                             to_status=target, actor_kind="operator",
                                             actor_id=operator_id, reason=reason)
        sync_listing(merchant_id)
        record_audit(operator_id, f"merchant.{action}", "merchant", merchant_id, reason,
                     {"from": source, "to": target})
        data = {"merchant_id": merchant_id, "merchant_name": merchant.name,
                "result": RESULTS[action], "status": target}
        if reason:  # else the template's default ("无")
            data["reason"] = reason
        notifier.notify("merchant.audit_result", user_id=merchant.owner_id, data=data,
                        dedupe_key=f"merchant-status:{change.id}")
        return get_merchant(merchant_id)
