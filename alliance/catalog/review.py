"""The operators' side of the catalog: approve or reject new items and changed names,
images and prices; take down items that break the rules.

Every decision is one guarded UPDATE on what the operator saw (the status, and the pending
changes), recorded in the audit log, with the merchant's owner notified.
"""
from __future__ import annotations

import json

from alliance.accounts.operators import record_audit
from alliance.catalog.models import CatalogItem
from alliance.catalog.queries import ItemNotFound
from alliance.checks import printable, unprintable
from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.merchants.models import Merchant
from alliance.ports import Notifier

MAX_REASON = 500


class ItemNotInReview(AllianceError):
    code = "ITEM_NOT_IN_REVIEW"
    http_status = 409
    message = "商品没有待审核的内容，请刷新后重试"


class ItemAlreadyTakenDown(AllianceError):
    code = "ITEM_ALREADY_TAKEN_DOWN"
    http_status = 409
    message = "商品已下架处理"


def _item(item_id: int) -> CatalogItem:
    item = CatalogItem.get_or_none(CatalogItem.id == item_id)
    if item is None:
        raise ItemNotFound(details={"item_id": item_id})
    return item


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationFailed("请填写原因（不超过 500 字）",
                               details={"field": "reason", "max_length": MAX_REASON})
    if not printable(reason):
        raise unprintable("reason", "原因含有不允许的控制字符")
    return reason


def _same_review(item: CatalogItem):
    """The condition that the item is still as the operator read it."""
    pending = (CatalogItem.pending_changes.is_null() if item.pending_changes is None
               else CatalogItem.pending_changes == item.pending_changes)
    return (CatalogItem.id == item.id) & (CatalogItem.status == item.status) & pending


def _record(notifier: Notifier, operator_id: int, item: CatalogItem, action: str,
            reason: str, event: str) -> None:
    record_audit(operator_id, f"item.{action}", "catalog_item", item.id, reason,
                 {"merchant_id": item.merchant_id, "status": item.status,
                  "pending_changes": json.loads(item.pending_changes or "{}")})
    owner_id = Merchant.select(Merchant.owner).where(Merchant.id == item.merchant_id).scalar()
    data = {"item_id": item.id, "item_name": item.name, "merchant_id": item.merchant_id}
    if reason:
        data["reason"] = reason
    notifier.notify(event, user_id=owner_id, data=data)


def approve_item(notifier: Notifier, operator_id: int, item_id: int) -> CatalogItem:
    """Approve a new item (it goes on the shelf) or an item's pending changes (applied)."""
    with transaction():
        item = _item(item_id)
        now = utcnow()
        if item.status == "pending_review":
            update = {"status": "on_shelf"}
        elif item.review_pending and item.pending_changes:
            update = json.loads(item.pending_changes)
        else:
            raise ItemNotInReview(details={"status": item.status})
        moved = (CatalogItem.update(review_pending=False, pending_changes=None, review_note="",
                                    updated_at=now, **update)
                 .where(_same_review(item)).execute())
        if moved != 1:
            raise ItemNotInReview(details={"status": item.status})
        _record(notifier, operator_id, item, "approve", "", "catalog.item_approved")
        return CatalogItem.get_by_id(item.id)


def reject_item(notifier: Notifier, operator_id: int, item_id: int, reason: str) -> CatalogItem:
    """Reject a new item (status rejected) or an item's pending changes (dropped; the item
    keeps selling as approved before)."""
    reason = _reason(reason)
    with transaction():
        item = _item(item_id)
        if item.status == "pending_review":
            update = {"status": "rejected"}
        elif item.review_pending and item.pending_changes:
            update = {}
        else:
            raise ItemNotInReview(details={"status": item.status})
        moved = (CatalogItem.update(review_pending=False, pending_changes=None,
                                    review_note=reason, updated_at=utcnow(), **update)
                 .where(_same_review(item)).execute())
        if moved != 1:
            raise ItemNotInReview(details={"status": item.status})
        _record(notifier, operator_id, item, "reject", reason, "catalog.item_rejected")
        return CatalogItem.get_by_id(item.id)


def take_down_item(notifier: Notifier, operator_id: int, item_id: int,
                   reason: str) -> CatalogItem:
    """Take an item off sale for a violation; the merchant may fix it and resubmit."""
    reason = _reason(reason)
    with transaction():
        item = _item(item_id)
        moved = (CatalogItem.update(status="taken_down", review_pending=False,
                                    pending_changes=None, review_note=reason,
                                    updated_at=utcnow())
                 .where(CatalogItem.id == item.id, CatalogItem.status != "taken_down").execute())
        if moved != 1:
            raise ItemAlreadyTakenDown(details={"item_id": item_id})
        _record(notifier, operator_id, item, "take_down", reason, "catalog.item_taken_down")
        return CatalogItem.get_by_id(item.id)
