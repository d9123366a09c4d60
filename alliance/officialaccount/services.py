"""Handling what WeChat pushes to the official account: messages and events, once each.

A callback is recorded under its de-duplication key (``MsgId`` for messages, follower +
``CreateTime`` + event for events) in the same transaction as its effects; WeChat's retries
of it find the record and get the stored reply (or plain acknowledgement) without doing the
work twice. Followers are linked to users by unionid, which the user-info API tells.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.accounts.services import user_for_wechat_session
from alliance.db import db, transaction, utcnow
from alliance.errors import AllianceError
from alliance.officialaccount.models import OaAutoReply, OaFollower, OaInboundMessage
from alliance.ports import OaProfiles, OaUserInfo, WeChatSession
from alliance.referrals.services import record_touch

log = logging.getLogger("alliance.officialaccount")

SUBSCRIBE, UNSUBSCRIBE, SCAN, CLICK = "subscribe", "unsubscribe", "scan", "click"


@dataclass(frozen=True)
class Inbound:
    """One message or event from WeChat, as the domain needs it."""

    openid: str
    create_time: int
    msg_type: str  # text | event | image | ...
    event: str | None = None  # subscribe | unsubscribe | scan | click | ... (lower case)
    event_key: str | None = None  # the scene (without qrscene_) or the menu key
    msg_id: int | None = None
    content: str | None = None

    @property
    def dedupe_key(self) -> str:
        if self.msg_id:
            return f"msg:{self.msg_id}"
        return f"evt:{self.openid}:{self.create_time}:{self.event or self.msg_type}"

    @property
    def kind(self) -> str:
        return f"event:{self.event}" if self.msg_type == "event" else self.msg_type


@dataclass(frozen=True)
class OaConfig:
    appid: str
    referral_window_days: int


def handle_inbound(inbound: Inbound, profiles: OaProfiles, config: OaConfig) -> str | None:
    """The text to reply with (None: acknowledge only); each callback takes effect once."""
    seen = OaInboundMessage.get_or_none(OaInboundMessage.dedupe_key == inbound.dedupe_key)
    if seen is not None:
        return seen.reply
    profile = None
    if inbound.event in (SUBSCRIBE, SCAN):
        follower = OaFollower.get_or_none(OaFollower.openid == inbound.openid)
        if follower is None or follower.unionid is None:
            profile = _profile(profiles, inbound.openid)
    with transaction():
        try:
            with db.atomic():
                OaInboundMessage.create(dedupe_key=inbound.dedupe_key, openid=inbound.openid,
                                        kind=inbound.kind[:32])
        except IntegrityError:
            return OaInboundMessage.get(OaInboundMessage.dedupe_key == inbound.dedupe_key).reply
        reply = _effect(inbound, profile, config)
        if reply:
            (OaInboundMessage.update(reply=reply)
             .where(OaInboundMessage.dedupe_key == inbound.dedupe_key).execute())
        return reply


def _profile(profiles: OaProfiles, openid: str) -> OaUserInfo | None:
    # The reply must leave within WeChat's five seconds: a follower whose unionid cannot be
    # fetched now is linked on a later event.
    try:
        return profiles.user_info(openid)
    except AllianceError as exc:
        log.warning("user info of a follower unavailable: %s", exc.code)
        return None


def _effect(inbound: Inbound, profile: OaUserInfo | None, config: OaConfig) -> str | None:
    if inbound.msg_type == "text":
        return keyword_reply(inbound.content or "")
    if inbound.event == CLICK:
        return _rule_reply(CLICK, inbound.event_key or "")
    if inbound.event == UNSUBSCRIBE:
        (OaFollower.update(subscribed=False, unsubscribed_at=utcnow())
         .where(OaFollower.openid == inbound.openid).execute())
        return None
    if inbound.event in (SUBSCRIBE, SCAN):
        follower = _follow(inbound, profile, config.appid)
        if inbound.event_key and follower.user_id is not None:
            record_touch(follower.user_id, inbound.event_key, "oa", config.referral_window_days)
        return _rule_reply(SUBSCRIBE, "") if inbound.event == SUBSCRIBE else None
    return None


def _follow(inbound: Inbound, profile: OaUserInfo | None, appid: str) -> OaFollower:
    """The follower row, subscribed and linked to its user when the unionid is known."""
    now = utcnow()
    follower = OaFollower.get_or_none(OaFollower.openid == inbound.openid)
    if follower is None:
        scene = inbound.event_key[:64] if inbound.event_key else None
        follower = OaFollower.create(openid=inbound.openid, subscribed=True, subscribed_at=now,
                                     first_scene=scene)
    elif inbound.event == SUBSCRIBE or not follower.subscribed:
        follower.subscribed, follower.subscribed_at = True, now
        follower.save(only=[OaFollower.subscribed, OaFollower.subscribed_at])
    unionid = follower.unionid or (profile.unionid if profile else None)
    if unionid and follower.user_id is None:
        user, _ = user_for_wechat_session(WeChatSession(appid=appid, openid=inbound.openid,
                                                        unionid=unionid))
        follower.unionid, follower.user = unionid, user.id
        follower.save(only=[OaFollower.unionid, OaFollower.user])
    return follower


def keyword_reply(text: str) -> str | None:
    """The operators' reply to a text message: an exact keyword first, then a contained one."""
    text = text.strip().casefold()
    exact = _rule_reply("exact", text)
    if exact is not None:
        return exact
    rules = (OaAutoReply.select()
             .where(OaAutoReply.match == "contains", OaAutoReply.enabled == True)  # noqa: E712
             .order_by(OaAutoReply.priority.desc(), OaAutoReply.id))
    for rule in rules:
        if rule.keyword and rule.keyword in text:
            return rule.reply_text
    return None


def _rule_reply(match: str, keyword: str) -> str | None:
    rule = (OaAutoReply.select()
            .where(OaAutoReply.match == match, OaAutoReply.keyword == keyword,
                   OaAutoReply.enabled == True)  # noqa: E712
            .first())
    return rule.reply_text if rule else None
