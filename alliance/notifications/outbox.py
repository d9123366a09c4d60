"""Writing to the outbox: the Notifier that records notifications in the caller's transaction."""
from __future__ import annotations

import json

from peewee import IntegrityError

from alliance.db import db
from alliance.notifications.models import OutboxMessage


class OutboxNotifier:
    """Implements the Notifier port by writing an outbox row (delivered by the outbox worker)."""

    def notify(self, event: str, *, user_id: int, data: dict,
               dedupe_key: str | None = None) -> None:
        """Record the notification; a repeated ``dedupe_key`` is ignored."""
        payload = json.dumps(data, ensure_ascii=False, default=str)
        try:
            with db.atomic():  # a savepoint inside the caller's transaction
                OutboxMessage.create(event=event, user_id=user_id, payload=payload,
                                     dedupe_key=dedupe_key)
        except IntegrityError:
            if dedupe_key is None:
                raise
