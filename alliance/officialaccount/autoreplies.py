"""Operators' automatic replies of the official account (every change is audit-logged)."""
from __future__ import annotations

from peewee import IntegrityError

from alliance.accounts.operators import record_audit
from alliance.checks import printable, unprintable
from alliance.clock import to_local_iso
from alliance.db import db, transaction, utcnow
from alliance.errors import Conflict, NotFound, ValidationFailed
from alliance.officialaccount.models import OaAutoReply
from alliance.paging import after, decode_keys, keyset_page

MATCHES = ("exact", "contains", "click", "subscribe")
MAX_REPLY = 600  # WeChat takes 2048 bytes of passive text reply: 600 characters fit any script


class AutoReplyExists(Conflict):
    code = "AUTO_REPLY_EXISTS"
    message = "该关键词已配置自动回复"


def _clean(match: str, keyword: str | None, reply_text: str) -> tuple[str, str]:
    if match not in MATCHES:
        raise ValidationFailed("匹配方式不合法", details={"field": "match", "choices": list(MATCHES)})
    keyword = (keyword or "").strip()
    if match == "subscribe":
        if keyword:
            raise ValidationFailed("关注回复不需要关键词", details={"field": "keyword"})
    elif not 1 <= len(keyword) <= 64:
        raise ValidationFailed("关键词长度须为 1-64 个字符",
                               details={"field": "keyword", "max_length": 64})
    if match in ("exact", "contains"):
        keyword = keyword.casefold()  # text messages are matched without regard to case
    reply_text = (reply_text or "").strip()
    if not 1 <= len(reply_text) <= MAX_REPLY or "]]>" in reply_text:
        raise ValidationFailed(f"回复内容须为 1-{MAX_REPLY} 个字符，且不能包含 ]]>",
                               details={"field": "reply_text", "max_length": MAX_REPLY})
    for field, value in (("keyword", keyword), ("reply_text", reply_text)):
        if not printable(value):
            raise unprintable(field, "内容含有不允许的控制字符")
    return keyword, reply_text


def create_auto_reply(operator_id: int, match: str, keyword: str | None, reply_text: str,
                      enabled: bool = True, priority: int = 0) -> OaAutoReply:
    """Add an automatic reply; one per (match, keyword)."""
    keyword, reply_text = _clean(match, keyword, reply_text)
    try:
        with transaction():
            with db.atomic():
                rule = OaAutoReply.create(match=match, keyword=keyword, reply_text=reply_text,
                                          enabled=enabled, priority=priority)
            record_audit(operator_id, "oa.auto_reply.create", "oa_auto_reply", rule.id,
                         details={"match": match, "keyword": keyword})
            return rule
    except IntegrityError:
        raise AutoReplyExists(details={"match": match, "keyword": keyword}) from None


def update_auto_reply(operator_id: int, rule_id: int, changes: dict) -> OaAutoReply:
    """Change an automatic reply's keyword, text, match, switch or priority."""
    try:
        with transaction():
            rule = get_auto_reply(rule_id)
            keyword, reply_text = _clean(changes.get("match", rule.match),
                                         changes.get("keyword", rule.keyword),
                                         changes.get("reply_text", rule.reply_text))
            with db.atomic():
                (OaAutoReply.update(match=changes.get("match", rule.match), keyword=keyword,
                                    reply_text=reply_text,
                                    enabled=changes.get("enabled", rule.enabled),
                                    priority=changes.get("priority", rule.priority),
                                    updated_at=utcnow())
                 .where(OaAutoReply.id == rule_id).execute())
            record_audit(operator_id, "oa.auto_reply.update", "oa_auto_reply", rule_id,
                         details={"changed": sorted(changes)})
    except IntegrityError:
        raise AutoReplyExists(details={"keyword": changes.get("keyword")}) from None
    return get_auto_reply(rule_id)


def delete_auto_reply(operator_id: int, rule_id: int) -> None:
    """Remove an automatic reply."""
    with transaction():
        rule = get_auto_reply(rule_id)
        rule.delete_instance()
        record_audit(operator_id, "oa.auto_reply.delete", "oa_auto_reply", rule_id,
                     details={"match": rule.match, "keyword": rule.keyword})


def get_auto_reply(rule_id: int) -> OaAutoReply:
    rule = OaAutoReply.get_or_none(OaAutoReply.id == rule_id)
    if rule is None:
        raise NotFound("自动回复不存在", code="AUTO_REPLY_NOT_FOUND")
    return rule


def list_auto_replies(cursor: str | None, limit: int) -> dict:
    query = OaAutoReply.select().order_by(OaAutoReply.id).limit(limit + 1)
    keys = decode_keys(cursor, (int,))
    if keys is not None:
        query = query.where(after((OaAutoReply.id,), keys, descending=False))
    rows, next_cursor = keyset_page(list(query), limit, lambda rule: (rule.id,))
    return {"items": [auto_reply_view(r) for r in rows], "next_cursor": next_cursor}


def auto_reply_view(rule: OaAutoReply) -> dict:
    return {"id": rule.id, "match": rule.match, "keyword": rule.keyword,
            "reply_text": rule.reply_text, "enabled": rule.enabled, "priority": rule.priority,
            "created_at": to_local_iso(rule.created_at),
            "updated_at": to_local_iso(rule.updated_at)}
