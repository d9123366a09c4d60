import datetime as dt

import pytest

from alliance.db import connection, utcnow
from alliance.infra import idempotency
from alliance.infra.models import IdempotencyRecord
from alliance.infra.idempotency import (LEASE, TTL, Claim, IdempotencyInProgress,
                                        IdempotencyKeyReused, Replay, fingerprint)
from tests.concurrency import run_at_once
from tests.support import age_idempotency_claim, recorded_sql


def test_begin_claims_a_new_key(database):
    assert isinstance(idempotency.begin("user:1", "k", "fp"), Claim)


def test_a_new_key_is_claimed_by_its_insert_alone(database):
    # A DELETE by principal and key before it took gap locks that deadlocked a burst of
    # taps with keys on MariaDB (500s).
    with recorded_sql() as statements:
        idempotency.begin("user:1", "k", "fp")
    assert [s.sql.split(" ", 1)[0] for s in statements] == ["INSERT"], statements


def test_a_key_older_than_a_day_is_free_again(database):
    first = idempotency.begin("user:1", "k", "fp")
    idempotency.complete(first, 201, '{"id": 7}')
    age_idempotency_claim("user:1", "k", dt.timedelta(hours=25))
    again = idempotency.begin("user:1", "k", "another request")
    assert isinstance(again, Claim)  # claimed, not replayed nor refused as reused
    with connection():
        [record] = IdempotencyRecord.select()
    assert (record.id, record.fingerprint, record.state) == (again.record_id, "another request",
                                                               "running")


def test_begin_while_first_runs_is_in_progress(database):
    idempotency.begin("user:1", "k", "fp")
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "k", "fp")


def test_begin_within_the_lease_is_in_progress(database):
    idempotency.begin("user:1", "k", "fp")
    age_idempotency_claim("user:1", "k", LEASE - dt.timedelta(seconds=5))
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "k", "fp")


def test_a_claim_older_than_the_lease_is_taken_over(database):
    first = idempotency.begin("user:1", "k", "fp")  # its process died before completing
    age_idempotency_claim("user:1", "k", LEASE + dt.timedelta(seconds=1))
    taken = idempotency.begin("user:1", "k", "fp")
    assert isinstance(taken, Claim) and taken.record_id == first.record_id
    with pytest.raises(IdempotencyInProgress):  # the takeover holds a fresh lease
        idempotency.begin("user:1", "k", "fp")
    idempotency.complete(taken, 201, '{"id": 7}')
    assert idempotency.begin("user:1", "k", "fp") == Replay(201, '{"id": 7}')


def test_a_lapsed_claim_with_another_request_is_still_refused_as_reused(database):
    idempotency.begin("user:1", "k", "fp")
    age_idempotency_claim("user:1", "k", LEASE + dt.timedelta(seconds=1))
    with pytest.raises(IdempotencyKeyReused):
        idempotency.begin("user:1", "k", "other")


def test_a_lapsed_claim_is_taken_over_by_one_of_many_repeats(database):
    idempotency.begin("user:1", "k", "fp")
    age_idempotency_claim("user:1", "k", LEASE + dt.timedelta(seconds=1))
    outcomes = run_at_once(8, lambda i: idempotency.begin("user:1", "k", "fp"))
    claims = [o for o in outcomes if isinstance(o, Claim)]
    refused = [o for o in outcomes if isinstance(o, IdempotencyInProgress)]
    assert (len(claims), len(refused)) == (1, 7), outcomes


def test_a_claim_taken_over_can_no_longer_be_completed_or_abandoned(database):
    # Had its request outlived the lease after all, it must not replace the answer of the
    # repeat that took over, nor free the key for a third run.
    idempotency.begin("user:1", "k", "fp")
    age_idempotency_claim("user:1", "k", LEASE + dt.timedelta(seconds=1))
    first = Claim(*_claim_of("k"))  # the first claim, as the lease has run out
    taken = idempotency.begin("user:1", "k", "fp")
    idempotency.abandon(first)
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "k", "fp")
    idempotency.complete(taken, 201, '{"id": 8}')
    idempotency.complete(first, 201, '{"id": 7}')
    assert idempotency.begin("user:1", "k", "fp") == Replay(201, '{"id": 8}')


def test_a_record_written_before_claimed_at_is_claimed_at_its_creation(database):
    with connection():  # as an older process (or migration 0019) leaves it
        IdempotencyRecord.create(principal="user:1", key="old", fingerprint="fp",
                                 created_at=utcnow() - LEASE - dt.timedelta(minutes=1),
                                 claimed_at=None)
        IdempotencyRecord.create(principal="user:1", key="new", fingerprint="fp")
    assert isinstance(idempotency.begin("user:1", "old", "fp"), Claim)
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "new", "fp")


def test_purge_keeps_a_day_from_the_last_claim(database):
    for key in ("done", "taken over", "running"):
        idempotency.begin("user:1", key, "fp")
        age_idempotency_claim("user:1", key, TTL + dt.timedelta(minutes=1))
    idempotency.complete(Claim(*_claim_of("done")), 201, "{}")
    with connection():  # taken over at 23 h 59 min, by a repeat still running
        (IdempotencyRecord.update(claimed_at=utcnow() - dt.timedelta(minutes=1))
         .where(IdempotencyRecord.key == "taken over").execute())
    assert idempotency.purge_expired() == 2
    with connection():
        assert [r.key for r in IdempotencyRecord.select()] == ["taken over"]
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "taken over", "fp")


def _claim_of(key: str) -> tuple[int, dt.datetime]:
    with connection():
        record = IdempotencyRecord.get(IdempotencyRecord.key == key)
    return record.id, record.claimed_at


def test_completed_key_replays(database):
    record = idempotency.begin("user:1", "k", "fp")
    idempotency.complete(record, 201, '{"id": 7}')
    assert idempotency.begin("user:1", "k", "fp") == Replay(201, '{"id": 7}')


def test_abandoned_key_can_run_again(database):
    idempotency.abandon(idempotency.begin("user:1", "k", "fp"))
    assert isinstance(idempotency.begin("user:1", "k", "fp"), Claim)


def test_different_request_with_same_key_is_refused(database):
    idempotency.begin("user:1", "k", "fp")
    with pytest.raises(IdempotencyKeyReused):
        idempotency.begin("user:1", "k", "other")


def test_fingerprint_ignores_json_formatting():
    assert fingerprint("POST", "/x", b'{"a":1,"b":2}') == fingerprint("POST", "/x", b'{ "b": 2, "a": 1 }')
    assert fingerprint("POST", "/x", b'{"a":1}') != fingerprint("POST", "/y", b'{"a":1}')


def test_overlong_key_is_a_validation_error(database):
    from alliance.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        idempotency.begin("user:1", "k" * 129, "fp")
