"""Delivering the outbox: each message sent at most once, retried with backoff until WeChat
takes it or refuses it for good.

A deliverer claims a due message with a guarded UPDATE (pending, or sending with an expired
lease, and due -> sending with a lease), so two deliverers never hold the same message. The
channels are tried in order: the mini-program subscribe message, then the official-account
template message (for a user who follows the account). A permanent refusal (the user
declined, 43101; not a follower, 43004; bad openid, 40003; bad template, 40037/47003) moves
on to the next channel; a transient one (-1, 45009, network) puts the message back with an
exponential delay; when no channel is left the message is recorded as failed. Official-
account messages carry ``client_msg_id`` so that WeChat itself drops a repeat.

``deliver_due`` is what the scheduler runs; ``deliver_soon`` is what the server runs right
after the commit that wrote a message (on its delivery process, ``deliver_handed_over``, or
its own threads), so delivery is prompt without giving up durability.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Iterator

from peewee import JOIN

from alliance.accounts.models import WechatIdentity
from alliance.db import Arg, Prepared, connection, single_write, utcnow
from alliance.notifications.models import OutboxMessage
from alliance.notifications.templates import RenderError, TemplateBook
from alliance.officialaccount.models import OaFollower
from alliance.ports import MessageSender, SendFailed

log = logging.getLogger("alliance.notifications")

LEASE = dt.timedelta(seconds=60)
SOON_LEASE_LEFT = dt.timedelta(seconds=30)  # what a prompt delivery needs left of its lease
MAX_ATTEMPTS = 8
BASE_DELAY_S = 30
MAX_DELAY_S = 3600
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True)
class Channels:
    """How messages leave: the sender, the templates and the mini-program's appid."""

    sender: MessageSender
    templates: TemplateBook
    miniapp_appid: str


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


# Every message delivered runs these: their SQL is built once (alliance.db.Prepared).
_CLAIM = Prepared(lambda: OutboxMessage.update(
    status=SENDING, attempts=OutboxMessage.attempts + 1,
    next_attempt_at=Arg(1, OutboxMessage.next_attempt_at))
    .where(OutboxMessage.id == Arg(0), OutboxMessage.status.in_([PENDING, SENDING]),
           OutboxMessage.next_attempt_at <= Arg(2)))
_MESSAGE = Prepared(lambda: OutboxMessage.select().where(OutboxMessage.id == Arg(0)).limit(1))
# A handed-over message with its user's mini-program openid (None: no identity there), the
# first channel it tries: one query where there were two.
_MESSAGE_TO_SEND = Prepared(lambda: OutboxMessage.select(
    OutboxMessage, WechatIdentity.openid.alias("miniapp_openid"))
    .join(WechatIdentity, JOIN.LEFT_OUTER,
          on=((WechatIdentity.user == OutboxMessage.user_id) & (WechatIdentity.appid == Arg(1))))
    .where(OutboxMessage.id == Arg(0)).limit(1).objects())
_SENT = Prepared(lambda: OutboxMessage.update(
    status=SENT, last_error=None, sent_at=Arg(2, OutboxMessage.sent_at),
    channel=Arg(3, OutboxMessage.channel))
    .where(OutboxMessage.id == Arg(0), OutboxMessage.status == SENDING,
           OutboxMessage.attempts == Arg(1)))
_MINIAPP_OPENID = Prepared(lambda: WechatIdentity.select(WechatIdentity.openid)
                           .where(WechatIdentity.user == Arg(0), WechatIdentity.appid == Arg(1))
                           .limit(1).tuples())
_FOLLOWER_OPENID = Prepared(lambda: OaFollower.select(OaFollower.openid)
                            .where(OaFollower.user == Arg(0),
                                   OaFollower.subscribed == True)  # noqa: E712
                            .limit(1).tuples())


_UNREAD = object()  # the user's mini-program openid, not read yet


class _Retry(Exception):
    pass


class _Refused(Exception):
    pass


def deliver_due(channels: Channels, batch: int = 50,
                now: dt.datetime | None = None) -> DeliveryReport:
    """Deliver up to ``batch`` due outbox messages; what happened to each.

    Safe to run in several processes at once: each message is claimed by one of them.
    """
    now = now or utcnow()
    report = DeliveryReport()
    with connection():
        due = (OutboxMessage.select(OutboxMessage.id)
               .where(OutboxMessage.status.in_([PENDING, SENDING]),
                      OutboxMessage.next_attempt_at <= now)
               .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
               .limit(batch))
        for message_id in [row.id for row in due]:
            outcome = deliver_one(channels, message_id, now=now)
            if outcome is None:
                continue
            report.outcomes[message_id] = outcome
            if outcome == SENT:
                report.sent += 1
            elif outcome == PENDING:
                report.retried += 1
            else:
                report.failed += 1
    return report


def deliver_soon(channels: Channels, message: OutboxMessage, miniapp_openid=_UNREAD) -> None:
    """Deliver now a message the OutboxNotifier wrote claimed for this delivery (run on a
    worker after the commit that wrote it).

    The claim stands while at least ``SOON_LEASE_LEFT`` of its lease is left; a message
    that waited longer for a worker is claimed again as any due message is (after its lease,
    when no other deliverer took it meanwhile). Failures stay in the outbox for
    ``deliver_due``; nothing is raised.
    """
    try:
        with connection():
            if utcnow() + SOON_LEASE_LEFT <= message.next_attempt_at:
                _deliver(channels, message, miniapp_openid)
            else:
                deliver_one(channels, message.id)
    except Exception:
        log.exception("prompt delivery of outbox message %s failed", message.id)


def deliver_handed_over(channels: Channels, message_id: int) -> None:
    """``deliver_soon`` of a message another process wrote claimed and handed over by id
    (the server's delivery process); one no longer being sent is left alone."""
    try:
        with connection():
            message = _MESSAGE_TO_SEND.first(message_id, channels.miniapp_appid)
            if message is not None and message.status == SENDING:
                deliver_soon(channels, message, message.miniapp_openid)
    except Exception:
        log.exception("prompt delivery of outbox message %s failed", message_id)


def deliver_one(channels: Channels, message_id: int,
                now: dt.datetime | None = None) -> str | None:
    """Claim and deliver one due message; its new status, or None when not ours to send."""
    now = now or utcnow()
    message = _claim(message_id, now)
    if message is None:
        return None
    return _deliver(channels, message)


def _deliver(channels: Channels, message: OutboxMessage, miniapp_openid=_UNREAD) -> str:
    """Send a message claimed by this deliverer and record the outcome; its new status."""
    try:
        channel = _send(channels, message, miniapp_openid)
    except (RenderError, _Refused) as exc:
        return _finish(message, FAILED, error=str(exc))
    except _Retry as exc:
        if message.attempts >= MAX_ATTEMPTS:
            return _finish(message, FAILED, error=f"gave up after {message.attempts}: {exc}")
        delay = min(BASE_DELAY_S * 2 ** (message.attempts - 1), MAX_DELAY_S)
        return _finish(message, PENDING, error=str(exc),
                       next_attempt_at=utcnow() + dt.timedelta(seconds=delay))
    return _finish(message, SENT, channel=channel)


def _claim(message_id: int, now: dt.datetime) -> OutboxMessage | None:
    with single_write():
        claimed = _CLAIM.execute(message_id, now + LEASE, now)
    return _MESSAGE.first(message_id) if claimed else None


def _finish(message: OutboxMessage, status: str, *, error: str | None = None,
            channel: str | None = None, next_attempt_at: dt.datetime | None = None) -> str:
    # Only while the lease is still ours (same attempt): a deliverer that overran its
    # lease must not overwrite the outcome of the one that took over.
    if status == SENT:  # the usual outcome, its SQL kept
        with single_write():
            _SENT.execute(message.id, message.attempts, utcnow(), channel)
        return status
    values: dict = {"status": status, "last_error": error[:255] if error else None}
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with single_write():
        (OutboxMessage.update(**values)
         .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING,
                OutboxMessage.attempts == message.attempts)
         .execute())
    return status


def _targets(channels: Channels, user_id: int,
             miniapp_openid=_UNREAD) -> Iterator[tuple[str, str]]:
    """The user's channels in order, each looked up only when the one before did not take
    the message (the mini-program's openid may have been read with the message)."""
    if miniapp_openid is _UNREAD:
        identity = _MINIAPP_OPENID.first(user_id, channels.miniapp_appid)
        miniapp_openid = identity[0] if identity is not None else None
    if miniapp_openid is not None:
        yield "subscribe", miniapp_openid
    follower = _FOLLOWER_OPENID.first(user_id)
    if follower is not None:
        yield "oa", follower[0]


def _send(channels: Channels, message: OutboxMessage, miniapp_openid=_UNREAD) -> str:
    """Send through the first channel that takes it; the channel's name."""
    data = json.loads(message.payload)
    refusals = []
    for channel, openid in _targets(channels, message.user_id, miniapp_openid):
        rendered = channels.templates.render(channel, message.event, data)
        if rendered is None:
            refusals.append(f"{channel}:no_template")
            continue
        try:
            if channel == "subscribe":
                channels.sender.send_subscribe(openid, rendered.template_id, rendered.data,
                                               rendered.page)
            else:
                channels.sender.send_template(openid, rendered.template_id, rendered.data,
                                              miniprogram_page=rendered.page,
                                              client_msg_id=f"outbox-{message.id}")
            return channel
        except SendFailed as exc:
            if not exc.permanent:
                raise _Retry("; ".join(refusals + [f"{channel}:{exc.code}"])) from None
            refusals.append(f"{channel}:{exc.code}")
    raise _Refused("; ".join(refusals) or "no_channel: the user has no WeChat identity")
