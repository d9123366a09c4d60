"""Prompt delivery of notifications, on a process of its own.

A payment commits an ``order.paid`` message already claimed for delivery; sending it is a
call through wechatpy and requests that costs about as much CPU as the rest of the payment.
On the server process it would share that process's GIL with the requests being served, so
``python -m server`` runs ``ALLIANCE_DELIVERY_PROCESSES`` (default 1) delivery process beside
its server processes: a server process hands the message's id over a pipe after the commit,
and the delivery process sends it on its threads (``deliver_handed_over_together``: the ids
that gathered on the pipe are read in one query; on MySQL their "sent" outcomes are written
together). The pipe never blocks a server: when it is full, or there is no delivery process (tests, 0), the message is
sent on the server's own delivery threads as before. Whatever a delivery process does not
finish (it died, WeChat failed) is still claimed under a lease in the outbox, which the
scheduler's ``deliver_due`` takes when the lease runs out.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import select
import signal
import time
from concurrent.futures import ThreadPoolExecutor

from alliance.db import init_db, is_mysql
from alliance.notifications.delivery import (Channels, SentOutcomes, deliver_handed_over_together,
                                             deliver_soon)
from alliance.notifications.models import OutboxMessage
from alliance.notifications.templates import TemplateBook
from config.settings import Settings
from wechat_handlers.api import make_wechat_clients
from wechat_handlers.messages import WechatMessageSender

log = logging.getLogger("alliance.notifications")

# A message id on the pipe: fixed width, so that every write (far below PIPE_BUF: whole or not
# at all) and every read of whole records keeps ids whole, however many server processes
# write and however many delivery processes read the one pipe.
RECORD = 20
# How long a delivery process lets ids gather on its pipe before it reads them: the messages
# of a burst of payments are then read with one query (and their outcomes written with one
# UPDATE, ``SentOutcomes``), for a few milliseconds more before each is sent.
GATHER_S = 0.02


def make_channels(settings: Settings, wechat_clients: dict) -> Channels:
    """The channels a notification leaves by: WeChat's subscribe and template messages."""
    return Channels(
        sender=WechatMessageSender(wechat_clients["miniapp"], wechat_clients["official_account"],
                                   settings.wechat_miniapp_appid),
        templates=TemplateBook.from_settings(settings),
        miniapp_appid=settings.wechat_miniapp_appid)


class PromptDelivery:
    """The OutboxNotifier's dispatch: a committed message goes to the delivery process when
    the server has one (``attach``), else, or when its pipe is full, to ``executor``."""

    def __init__(self, channels: Channels, executor: ThreadPoolExecutor):
        self.channels, self.executor = channels, executor
        self._pipe: int | None = None

    def attach(self, pipe: int) -> None:
        """Hand messages over to the delivery process reading the other end of ``pipe``."""
        os.set_blocking(pipe, False)
        self._pipe = pipe

    def __call__(self, message: OutboxMessage) -> None:
        if self._pipe is not None:
            try:
                os.write(self._pipe, b"%019d\n" % message.id)
                return
            except BlockingIOError:
                log.warning("delivery process behind: outbox message %s sent here",
                            message.id)
            except OSError:
                log.warning("delivery process unreachable: outbox message %s sent here",
                            message.id, exc_info=True)
        self.executor.submit(deliver_soon, self.channels, message)


def serve(settings: Settings, pipe: int) -> None:
    """A delivery process: send every message whose id arrives on ``pipe`` until SIGTERM,
    then finish the sends under way."""
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    init_db(settings.database_url, settings.delivery_threads + 2)
    channels = make_channels(settings, make_wechat_clients(settings))
    # On MySQL every statement is a round trip that costs the database server: the "sent"
    # outcomes are written together. On SQLite each delivery thread writes its own (in
    # the writers' turn): there, a batch's transaction made `notify` slower (bench/findings).
    outcomes = SentOutcomes(GATHER_S).start() if is_mysql() else None
    if outcomes is not None:
        channels = dataclasses.replace(channels, record_sent=outcomes)
    try:
        with ThreadPoolExecutor(settings.delivery_threads, thread_name_prefix="delivery") as pool:
            while not stopping:
                if not select.select([pipe], [], [], 0.5)[0]:
                    continue
                time.sleep(GATHER_S)
                ids = read_ids(pipe)
                if ids is None:
                    break
                deliver_handed_over_together(channels, ids, pool.submit)
    finally:
        if outcomes is not None:
            outcomes.stop()


def read_ids(pipe: int, at_most: int = 4096) -> list[int] | None:
    """Up to ``at_most`` message ids waiting on ``pipe`` (blocks until one is); None when
    every writer has closed it. Only whole records are ever read (writes are whole records),
    so a delivery process never takes part of an id another one reads the rest of."""
    chunk = os.read(pipe, RECORD * at_most)
    if not chunk:
        return None
    return [int(chunk[at:at + RECORD]) for at in range(0, len(chunk), RECORD)]
