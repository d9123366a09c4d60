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
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Callable, Iterator

from peewee import JOIN

from alliance.accounts.models import WechatIdentity
from alliance.db import connection, single_write, utcnow
from alliance.prepared import Arg, Prepared, PreparedIn
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
    """How messages leave: the sender, the templates and the mini-program's appid.

    ``record_sent``: where the "sent" outcomes go instead of one UPDATE each (a delivery
    process's ``SentOutcomes``)."""

    sender: MessageSender
    templates: TemplateBook
    miniapp_appid: str
    record_sent: Callable[[OutboxMessage, str], None] | None = None


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


# Every message delivered runs these: their SQL is built once (alliance.prepared.Prepared).
_CLAIM = Prepared(lambda: OutboxMessage.update(
    status=SENDING, attempts=OutboxMessage.attempts + 1,
    next_attempt_at=Arg(1, OutboxMessage.next_attempt_at))
    .where(OutboxMessage.id == Arg(0), OutboxMessage.status.in_([PENDING, SENDING]),
           OutboxMessage.next_attempt_at <= Arg(2)))
_MESSAGE = Prepared(lambda: OutboxMessage.select().where(OutboxMessage.id == Arg(0)).limit(1))
_MINIAPP_OPENID = Prepared(lambda: WechatIdentity.select(WechatIdentity.openid)
                           .where(WechatIdentity.user == Arg(0), WechatIdentity.appid == Arg(1))
                           .limit(1).tuples())
# The messages handed over to the delivery process, read together.
_MESSAGES_WITH_OPENID = PreparedIn(
    lambda ids: OutboxMessage.select(OutboxMessage, WechatIdentity.openid.alias("miniapp_openid"))
    .join(WechatIdentity, JOIN.LEFT_OUTER,
          on=((WechatIdentity.user == OutboxMessage.user_id) & (WechatIdentity.appid == Arg(0))))
    .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id).objects(), fixed=1)
# "Sent", for the messages of ``ids`` still being sent under the same attempt: one message
# (``_finish``) or a delivery process's batch (``SentOutcomes``).
_SENT = PreparedIn(
    lambda ids: OutboxMessage.update(status=SENT, last_error=None,
                                     sent_at=Arg(0, OutboxMessage.sent_at),
                                     channel=Arg(1, OutboxMessage.channel))
    .where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING,
           OutboxMessage.attempts == Arg(2)), fixed=3)
_FOLLOWER_OPENID = Prepared(lambda: OaFollower.select(OaFollower.openid)
                            .where(OaFollower.user == Arg(0),
                                   OaFollower.subscribed == True)  # noqa: E712
                            .limit(1).tuples())


_UNREAD = object()  # the user's mini-program openid, not read yet


class _Retry(Exception):
    pass


class _Refused(Exception):
    pass


def deliver_due(channels: Channels, batch: int = 50, now: dt.datetime | None = None, *,
                executor: Executor | None = None, budget_s: float = 0.0) -> DeliveryReport:
    """Deliver due outbox messages, ``batch`` at a time; what happened to each.

    One batch, or with ``budget_s`` batch after batch for as long as full batches keep coming
    and the time lasts: a promotion queues thousands of messages at once. With ``executor``
    the messages of a batch are sent on its threads together (each send waits on WeChat),
    each thread with its own connection. Safe to run in several processes at once: each
    message is claimed by one of them.
    """
    report = DeliveryReport()
    deadline = time.monotonic() + budget_s
    while True:
        moment = now or utcnow()
        with connection():
            due = [row.id for row in (
                OutboxMessage.select(OutboxMessage.id)
                .where(OutboxMessage.status.in_([PENDING, SENDING]),
                       OutboxMessage.next_attempt_at <= moment)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(batch))]
        if executor is None:
            with connection():
                outcomes = [deliver_one(channels, message_id, now=moment) for message_id in due]
        else:
            outcomes = list(executor.map(
                lambda message_id: _deliver_one_connected(channels, message_id, moment), due))
        for message_id, outcome in zip(due, outcomes):
            if outcome is None:
                continue
            report.outcomes[message_id] = outcome
            if outcome == SENT:
                report.sent += 1
            elif outcome == PENDING:
                report.retried += 1
            else:
                report.failed += 1
        if len(due) < batch or time.monotonic() >= deadline:
            return report


def _deliver_one_connected(channels: Channels, message_id: int,
                           now: dt.datetime) -> str | None:
    with connection():
        return deliver_one(channels, message_id, now=now)


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
    """``deliver_soon`` of a message another process wrote claimed and handed over by id;
    one no longer being sent is left alone (``deliver_handed_over_together`` of one id, sent
    on this thread)."""
    deliver_handed_over_together(channels, [message_id], _here)


def _here(fn, *args) -> None:
    fn(*args)


def deliver_handed_over_together(channels: Channels, message_ids: list[int],
                                 submit: Callable) -> None:
    """``deliver_handed_over`` of several ids read together from the delivery process's
    pipe: the messages are read in one query, and each one still being sent is handed to
    ``submit(deliver_soon, channels, message, openid)`` (the delivery threads)."""
    try:
        with connection():
            messages = _messages_to_send(message_ids, channels.miniapp_appid)
    except Exception:
        log.exception("outbox messages %s not read for prompt delivery (the sweep sends them)",
                      message_ids)
        return
    for message in messages:
        if message.status == SENDING:
            submit(deliver_soon, channels, message, message.miniapp_openid)


def _messages_to_send(message_ids: list[int], miniapp_appid: str) -> list[OutboxMessage]:
    """The messages with their user's mini-program openid (None: no identity there), the
    first channel each tries: one query (per 32)."""
    return _MESSAGES_WITH_OPENID.rows(sorted(message_ids), miniapp_appid)


class SentOutcomes:
    """The "sent" outcomes of a delivery process's threads, recorded together: one guarded
    UPDATE for all those that arrived within ``interval`` seconds (per channel), instead of
    one statement per message (the delivery process on MySQL, where each is a round trip).
    Each row is still updated only while it is being sent under the same attempt (a
    deliverer that overran its lease never overwrites the one that took over). Outcomes not
    recorded yet when the process dies leave their messages claimed: the scheduler's sweep
    sends them again when the lease runs out, as it would after a failed UPDATE of one."""

    MAX_PENDING = 10_000

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self._pending: list[tuple[int, int, str, dt.datetime]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, message: OutboxMessage, channel: str) -> None:
        with self._lock:
            self._pending.append((message.id, message.attempts, channel, utcnow()))

    def start(self) -> "SentOutcomes":
        self._thread = threading.Thread(target=self._run, name="sent-outcomes", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Record what is left and stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.record()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.record()

    def record(self) -> int:
        """Write the outcomes collected so far; how many rows they moved."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return 0
        moved = 0
        groups: dict[tuple[str, int], list[int]] = {}
        for message_id, attempts, channel, _ in pending:
            groups.setdefault((channel, attempts), []).append(message_id)
        sent_at = max(outcome[3] for outcome in pending)
        try:
            with connection():
                # By key (a list of ids, which both databases look up by the primary key),
                # one UPDATE per channel and attempt: nearly always one.
                for (channel, attempts), ids in sorted(groups.items()):
                    with single_write():
                        moved += _SENT.execute(ids, sent_at, channel, attempts)
        except Exception:
            log.exception("sent outcomes of %d outbox messages not recorded yet", len(pending))
            with self._lock:  # tried again with the next ones, up to a bound
                self._pending[:0] = pending[:max(0, self.MAX_PENDING - len(self._pending))]
        return moved


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
    if channels.record_sent is not None:
        channels.record_sent(message, channel)
        return SENT
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
            _SENT.execute([message.id], utcnow(), channel, message.attempts)
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
