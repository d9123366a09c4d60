"""Writing to the outbox: the Notifier that records notifications in the caller's transaction."""
from __future__ import annotations

import json
import logging
from typing import Callable

from peewee import IntegrityError

from alliance.db import PreparedInsert, after_commit, db
from alliance.notifications.models import OutboxMessage

log = logging.getLogger("alliance.notifications")

_NEW_MESSAGE = PreparedInsert(OutboxMessage)  # its SQL built once: every paid order writes one


class OutboxNotifier:
    """Implements the Notifier port by writing an outbox row (delivered by the outbox worker).

    ``dispatch(message_id)``, when given, runs after the commit that wrote the row: the
    server hands the message to a worker for prompt delivery; the row stays due for
    ``deliver_due`` in case that attempt fails or the process dies.
    """

    def __init__(self, dispatch: Callable[[int], None] | None = None):
        self._dispatch = dispatch

    def notify(self, event: str, *, user_id: int, data: dict,
               dedupe_key: str | None = None) -> None:
        """Record the notification; a repeated ``dedupe_key`` is ignored."""
        payload = json.dumps(data, ensure_ascii=False, default=str)
        try:
            with db.atomic():  # a savepoint inside the caller's transaction
                message = _NEW_MESSAGE.create(event=event, user_id=user_id, payload=payload,
                                              dedupe_key=dedupe_key)
        except IntegrityError:
            if dedupe_key is None:
                raise
            return
        if self._dispatch is not None:
            after_commit(lambda: self._hand_over(message.id))

    def _hand_over(self, message_id: int) -> None:
        # The business change is committed: nothing here may fail it. An undelivered row
        # stays due for deliver_due.
        try:
            self._dispatch(message_id)
        except Exception:
            log.warning("outbox message %s left for the scheduled delivery", message_id,
                        exc_info=True)
