"""Idempotency keys: a repeated creating request returns the first answer and runs nothing.

A key belongs to one principal for 24 hours. ``begin`` claims the key (a unique row); the
caller then runs the request and ``complete``s the record with its answer, or ``abandon``s it
when the request failed in a way worth retrying (a server error).

A claim is a lease: a process that dies half-way through a request (a crash, kill -9, a
deploy) leaves its record running, and a repeat of the request finding it older than
``LEASE`` takes it over and runs the request itself, rather than answering
IDEMPOTENCY_IN_PROGRESS until the key expires a day later.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import dataclass

from peewee import IntegrityError, Value, fn

from alliance.db import transaction, utcnow
from alliance.errors import AllianceError, ValidationFailed
from alliance.infra.models import IdempotencyRecord

log = logging.getLogger("alliance.idempotency")

TTL = dt.timedelta(hours=24)
# How long a claim is left to its request before a repeat may take it over: well beyond the
# longest a request can run, which no timeout bounds as a whole. The slowest, opening a
# payment, calls the provider one call after another: closing the other two channels'
# trades (and querying them), prepay and a query, each tried twice, in up to two rounds;
# 24 calls, each within upstream_timeout_s to connect and again to read (5 s): 4 minutes if
# every one timed out. A statement waits at most 50 s for a row lock on MariaDB
# (innodb_lock_wait_timeout), 15 s for SQLite's writers' turn. The client gave up long
# before (wx.request: 60 s).
LEASE = dt.timedelta(minutes=10)
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


@dataclass(frozen=True)
class Claim:
    """This request's hold on a key: its record, and when it was claimed (a takeover
    claims the record again, and the earlier holder can then no longer complete it)."""
    record_id: int
    claimed_at: dt.datetime


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and the body's JSON value."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, ensure_ascii=False)
    except ValueError:
        canonical = body.decode("utf-8", "replace")
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def begin(principal: str, key: str, print_: str) -> Replay | Claim:
    """Claim ``key`` for this request (to complete or abandon), or the earlier answer."""
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed("Idempotency-Key 不合法",
                               details={"header": "Idempotency-Key", "max_length": MAX_KEY_LENGTH})
    now = utcnow().replace(microsecond=0)  # as stored: the claim is compared with it
    # The INSERT alone claims a new key. (A DELETE of the key's expired record first, by
    # principal and key, took gap locks on the unique index: on MariaDB a burst of taps
    # with keys deadlocked against each other's INSERTs and answered 500.)
    try:
        with transaction():
            return Claim(IdempotencyRecord.create(principal=principal, key=key,
                                                  fingerprint=print_, created_at=now,
                                                  claimed_at=now).id, now)
    except IntegrityError:
        pass
    record = IdempotencyRecord.get_or_none(IdempotencyRecord.principal == principal,
                                           IdempotencyRecord.key == key)
    if record is None:  # abandoned between our insert and read: claim it again
        return begin(principal, key, print_)
    expired = now - TTL
    if record.claimed < expired:  # the key is free again: its old record goes, by id
        with transaction():
            (IdempotencyRecord.delete()
             .where(IdempotencyRecord.id == record.id, _claimed_before(expired))
             .execute())
        return begin(principal, key, print_)
    if record.fingerprint != print_:
        raise IdempotencyKeyReused(details={"header": "Idempotency-Key"})
    if record.state == "done":
        return Replay(record.response_status, record.response_body)
    lapsed = now - LEASE
    if record.claimed >= lapsed:
        raise IdempotencyInProgress()
    # Its process died with the request: take it over. The UPDATE by id locks that row
    # alone (MariaDB: no gap lock, no other index), and its guard lets one repeat of many
    # take it; the others then find a fresh claim.
    with transaction():
        taken = (IdempotencyRecord.update(claimed_at=now)
                 .where(IdempotencyRecord.id == record.id, IdempotencyRecord.state == "running",
                        _claimed_before(lapsed))
                 .execute())
    if taken:
        log.warning("idempotency key of %s taken over: its request, claimed at %s, never "
                    "finished", principal, record.claimed.isoformat())
        return Claim(record.id, now)
    return begin(principal, key, print_)  # taken over, finished or abandoned meanwhile


def _claimed_before(moment: dt.datetime):
    """``IdempotencyRecord.claimed < moment`` in SQL, the moment written as times are stored."""
    return (fn.COALESCE(IdempotencyRecord.claimed_at, IdempotencyRecord.created_at)
            < Value(moment, converter=IdempotencyRecord.created_at.db_value))


def _held(claim: Claim):
    """The claim's record, unless a repeat has taken it over since."""
    return ((IdempotencyRecord.id == claim.record_id)
            & (IdempotencyRecord.claimed_at == claim.claimed_at))


def complete(claim: Claim, status: int, body: str) -> None:
    with transaction():
        done = (IdempotencyRecord.update(state="done", response_status=status, response_body=body)
                .where(_held(claim)).execute())
    if not done:
        log.warning("idempotency record %s was taken over before its request finished: the "
                    "request ran longer than the lease", claim.record_id)


def abandon(claim: Claim) -> None:
    with transaction():
        IdempotencyRecord.delete().where(_held(claim)).execute()


def purge_expired() -> int:
    """Delete records claimed more than 24 h ago; the count deleted."""
    expired = utcnow() - TTL
    with transaction():
        # created_at (indexed) bounds the scan: a record is claimed at or after it.
        return (IdempotencyRecord.delete()
                .where(IdempotencyRecord.created_at < expired, _claimed_before(expired))
                .execute())
