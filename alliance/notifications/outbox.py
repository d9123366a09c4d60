"""Writing to the outbox: the Notifier that records notifications in the caller's transaction."""
from __future__ import annotations

import json
import logging
from typing import Callable

from alliance.db import after_commit, transaction, utcnow
from alliance.prepared import PreparedInsert
from alliance.notifications.delivery import LEASE, PENDING, SENDING
from alliance.notifications.models import OutboxMessage

log = logging.getLogger("alliance.notifications")

_NEW_MESSAGE = PreparedInsert(OutboxMessage)  # its SQL built once: every paid order writes one


class OutboxNotifier:
    """Implements the Notifier port by writing an outbox row (delivered by the outbox worker).

    ``dispatch(message)``, when given, runs after the commit that wrote the row: the server
    hands the message to a worker for prompt delivery (``deliver_soon``). The row is then
    written already claimed for that delivery, as a deliverer's claim leaves it (sending,
    first attempt, under a lease), so the prompt delivery needs no claim of its own; should
    it never happen (the process dies), ``deliver_due`` takes the message when the lease
    runs out. A hand-over that fails puts the message back due at once.
    """

    def __init__(self, dispatch: Callable[[OutboxMessage], None] | None = None):
        self._dispatch = dispatch

    def notify(self, event: str, *, user_id: int, data: dict,
               dedupe_key: str | None = None) -> None:
        """Record the notification; a repeated ``dedupe_key`` is ignored."""
        payload = json.dumps(data, ensure_ascii=False, default=str)
        claim = {}
        if self._dispatch is not None:  # whole seconds, as stored: the lease as others see it
            claim = {"status": SENDING, "attempts": 1,
                     "next_attempt_at": (utcnow() + LEASE).replace(microsecond=0)}
        if dedupe_key is None:
            message = _NEW_MESSAGE.create(event=event, user_id=user_id, payload=payload, **claim)
        else:
            message = _NEW_MESSAGE.create_or_none(event=event, user_id=user_id, payload=payload,
                                                  dedupe_key=dedupe_key, **claim)
            if message is None:  # notified already
                return
        if self._dispatch is not None:
            # The dispatch never blocks (a pipe, a thread pool's queue).
            after_commit(lambda: self._hand_over(message), quick=True)

    def _hand_over(self, message: OutboxMessage) -> None:
        # The business change is committed: nothing here may fail it. A message not handed
        # over is due again for deliver_due.
        try:
            self._dispatch(message)
        except Exception:
            log.warning("outbox message %s left for the scheduled delivery", message.id,
                        exc_info=True)
            _release(message)


def _release(message: OutboxMessage) -> None:
    """Give up the claim the row was written with (no delivery attempt was made)."""
    try:
        with transaction():
            (OutboxMessage.update(status=PENDING, attempts=OutboxMessage.attempts - 1,
                                  next_attempt_at=utcnow())
             .where(OutboxMessage.id == message.id, OutboxMessage.status == SENDING,
                    OutboxMessage.attempts == message.attempts).execute())
    except Exception:  # the lease still runs out: deliver_due takes it then
        log.warning("outbox message %s waits for its lease", message.id, exc_info=True)
