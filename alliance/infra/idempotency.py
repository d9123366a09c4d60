"""Idempotency keys: a repeated creating request returns the first answer and runs nothing.

A key belongs to one principal for 24 hours. ``begin`` claims the key (a unique row); the
caller then runs the request and ``complete``s the record with its answer, or ``abandon``s it
when the request failed in a way worth retrying (a server error).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

from peewee import IntegrityError

from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.infra.models import IdempotencyRecord

TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 128


class IdempotencyKeyReused(AllianceError):
    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422
    message = "该幂等键已用于另一个不同的请求"


class IdempotencyInProgress(AllianceError):
    code = "IDEMPOTENCY_IN_PROGRESS"
    http_status = 409
    message = "相同的请求正在处理中，请稍后"


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the body's JSON value."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, ensure_ascii=False)
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def begin(principal: str, key: str, print_: str) -> Replay | int:
    """Claim ``key`` for this request: the record id to complete, or the earlier answer."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed("Idempotency-Key 不合法",
                               details={"header": "Idempotency-Key", "max_length": MAX_KEY_LENGTH})
    # The INSERT alone claims a new key. (A DELETE of the key's expired record first, by
    # principal and key, took gap locks on the unique index: on MariaDB a burst of taps
    # with keys deadlocked against each other's INSERTs and answered 500.)
    try:
        with transaction():
            return IdempotencyRecord.create(principal=principal, key=key,
                                            fingerprint=print_).id
    except IntegrityError:
        pass
    record = IdempotencyRecord.get_or_none(IdempotencyRecord.principal == principal,
                                           IdempotencyRecord.key == key)
    if record is None:  # abandoned between our insert and read: claim it again
        return begin(principal, key, print_)
    expired = utcnow() - TTL
    if record.created_at < expired:  # the key is free again: its old record goes, by id
        with transaction():
            (IdempotencyRecord.delete()
             .where(IdempotencyRecord.id == record.id, IdempotencyRecord.created_at < expired)
             .execute())
        return begin(principal, key, print_)
    if record.fingerprint != print_:
        raise IdempotencyKeyReused(details={"header": "Idempotency-Key"})
    if record.state != "done":
        raise IdempotencyInProgress()
    return Replay(record.response_status, record.response_body)


def complete(record_id: int, status: int, body: str) -> None:
    with transaction():
        (IdempotencyRecord.update(state="done", response_status=status, response_body=body)
         .where(IdempotencyRecord.id == record_id).execute())


def abandon(record_id: int) -> None:
    with transaction():
        IdempotencyRecord.delete().where(IdempotencyRecord.id == record_id).execute()


def purge_expired() -> int:
    """Delete records older than 24 h; the count deleted."""
    with transaction():
        return (IdempotencyRecord.delete()
                .where(IdempotencyRecord.created_at < utcnow() - TTL).execute())
