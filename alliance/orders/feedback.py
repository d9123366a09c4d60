"""What buyers say: reviews of completed orders (once per item, with photos) that feed the
merchant's rating, and complaints and suggestions to the platform that operators resolve.

A complaint is about a merchant (or one of the buyer's orders there); a suggestion
(category ``suggestion``, 意见建议) is about the platform and may name no merchant. When an
operator closes either, the consumer is told the outcome and the operator's answer
(``complaint.resolved`` through the outbox, in the closing transaction)."""
from __future__ import annotations

import json

from peewee import IntegrityError

from alliance.accounts.operators import record_audit
from alliance.clock import to_local_iso
from alliance.db import db, transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.media.services import public_path
from alliance.merchants.aggregates import record_rating
from alliance.merchants.models import Merchant
from alliance.merchants.queries import get_approved_merchant
from alliance.orders.access import owned_order
from alliance.orders.aftersale_models import Complaint, Review
from alliance.orders.aftersales import photo_ids
from alliance.orders.errors import AlreadyReviewed, ComplaintNotFound, OrderStateConflict
from alliance.orders.models import COMPLETED, OrderLine
from alliance.orders.queries import newest_page, where_given
from alliance.ports import Notifier

SUGGESTION = "suggestion"
COMPLAINT_CATEGORIES = ("quality", "service", "fraud", "refund", "other", SUGGESTION)
COMPLAINT_OUTCOMES = ("resolved", "dismissed")
PLATFORM_SUBJECT = "平台意见建议"  # what a suggestion without a merchant is about


def add_review(user_id: int, order_no: str, line_id: int, rating: int, content: str = "",
               photos: list | None = None) -> Review:
    """Review one item of a completed order: once per item (ALREADY_REVIEWED)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValidationFailed("评分须为 1 到 5 的整数", details={"field": "rating"})
    with transaction():
        order = owned_order(user_id, order_no)
        if order.status != COMPLETED:
            raise OrderStateConflict("订单完成后才能评价", details={"status": order.status})
        line = OrderLine.get_or_none(OrderLine.id == line_id, OrderLine.order == order.id)
        if line is None:
            raise ValidationFailed("订单中没有该商品", details={"field": "line_id"})
        marked = (OrderLine.update(reviewed=True)
                  .where(OrderLine.id == line.id, OrderLine.reviewed == False).execute())  # noqa: E712
        if not marked:
            raise AlreadyReviewed(details={"line_id": line_id})
        try:
            with db.atomic():
                review = Review.create(order=order.id, line=line.id, user_id=user_id,
                                       merchant_id=order.merchant_id, item_id=line.item_id,
                                       rating=rating, content=content,
                                       photos=photo_ids(user_id, photos or [], "review_photo"))
        except IntegrityError:
            raise AlreadyReviewed(details={"line_id": line_id}) from None
        record_rating(order.merchant_id, rating)
    return review


def review_view(review: Review) -> dict:
    return {"id": review.id, "merchant_id": review.merchant_id, "item_id": review.item_id,
            "order_line_id": review.line_id, "rating": review.rating, "content": review.content,
            "photo_urls": [public_path(p) for p in json.loads(review.photos)],
            "reply": review.reply, "replied_at": to_local_iso(review.replied_at),
            "created_at": to_local_iso(review.created_at)}


def list_reviews(merchant_id: int, item_id: int | None = None, cursor: str | None = None,
                 limit: int = 20) -> dict:
    """An approved merchant's reviews, newest first (optionally of one item)."""
    get_approved_merchant(merchant_id)
    query = where_given(Review.select(), (Review.merchant_id, merchant_id),
                        (Review.item_id, item_id))
    return newest_page(query, Review, cursor, limit, review_view)


def reply_review(merchant_id: int, review_id: int, reply: str) -> Review:
    """The merchant answers a review of its own (the latest answer stands)."""
    with transaction():
        changed = (Review.update(reply=reply, replied_at=utcnow())
                   .where(Review.id == review_id, Review.merchant_id == merchant_id).execute())
        if not changed:
            raise ValidationFailed("评价不存在", code="REVIEW_NOT_FOUND", http_status=404,
                                   details={"review_id": review_id})
    return Review.get_by_id(review_id)


def file_complaint(user_id: int, *, category: str, content: str, order_no: str | None = None,
                   merchant_id: int | None = None, photos: list | None = None) -> Complaint:
    """A complaint about a merchant or one of the buyer's orders; a suggestion about one, or
    about the platform (no merchant)."""
    if category not in COMPLAINT_CATEGORIES:
        raise ValidationFailed("投诉类型不正确", details={"field": "category",
                                                          "choices": list(COMPLAINT_CATEGORIES)})
    with transaction():
        order = owned_order(user_id, order_no) if order_no else None
        if order is not None:
            merchant_id = order.merchant_id
        elif merchant_id is None and category == SUGGESTION:
            pass  # about the platform
        elif merchant_id is None or Merchant.get_or_none(Merchant.id == merchant_id) is None:
            raise ValidationFailed("请指定订单或商户", details={"field": "merchant_id"})
        return Complaint.create(user_id=user_id, merchant_id=merchant_id,
                                order_id=order.id if order else None, category=category,
                                content=content, photos=photo_ids(user_id, photos or [], "evidence"))


def get_complaint(complaint_id: int, user_id: int | None = None) -> Complaint:
    query = Complaint.select().where(Complaint.id == complaint_id)
    if user_id is not None:
        query = query.where(Complaint.user_id == user_id)
    found = query.first()
    if found is None:
        raise ComplaintNotFound(details={"complaint_id": complaint_id})
    return found


def resolve_complaint(notifier: Notifier, operator_id: int, complaint_id: int, outcome: str,
                      resolution: str) -> Complaint:
    """An operator closes a complaint as resolved or dismissed, with the resolution (audited);
    the consumer is told."""
    if outcome not in COMPLAINT_OUTCOMES:
        raise ValidationFailed("处理结果不正确", details={"field": "outcome",
                                                          "choices": list(COMPLAINT_OUTCOMES)})
    with transaction():
        complaint = get_complaint(complaint_id)
        closed = (Complaint.update(status=outcome, resolution=resolution, operator_id=operator_id,
                                   resolved_at=utcnow())
                  .where(Complaint.id == complaint.id, Complaint.status == "open").execute())
        if not closed:
            raise OrderStateConflict("投诉已处理", details={"status": complaint.status})
        record_audit(operator_id, "complaint.resolve", "complaint", complaint_id, resolution,
                     {"outcome": outcome})
        notifier.notify("complaint.resolved", user_id=complaint.user_id,
                        data={"complaint_id": complaint.id, "subject": _subject(complaint),
                              "result": outcome, "resolution": resolution},
                        dedupe_key=f"complaint.resolved:{complaint.id}")
    return Complaint.get_by_id(complaint_id)


def _subject(complaint: Complaint) -> str:
    if complaint.merchant_id is None:
        return PLATFORM_SUBJECT
    name = Merchant.select(Merchant.name).where(Merchant.id == complaint.merchant_id).scalar()
    return f"关于「{name or '商户'}」的{'建议' if complaint.category == SUGGESTION else '投诉'}"


def list_complaints(*, user_id: int | None = None, status: str | None = None,
                    category: str | None = None, cursor: str | None = None,
                    limit: int = 20) -> dict:
    """Complaints and suggestions newest first: a buyer's own, or all (operators), by
    status and category."""
    query = where_given(Complaint.select(), (Complaint.user_id, user_id),
                        (Complaint.status, status), (Complaint.category, category))
    return newest_page(query, Complaint, cursor, limit, complaint_view)


def complaint_view(complaint: Complaint) -> dict:
    return {"id": complaint.id, "merchant_id": complaint.merchant_id,
            "order_id": complaint.order_id, "category": complaint.category,
            "content": complaint.content, "photo_count": len(json.loads(complaint.photos)),
            "status": complaint.status, "resolution": complaint.resolution,
            "created_at": to_local_iso(complaint.created_at),
            "resolved_at": to_local_iso(complaint.resolved_at)}
