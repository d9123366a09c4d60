import datetime as dt

import pytest

from alliance.db import connection, utcnow
from alliance.infra import idempotency
from alliance.infra.models import IdempotencyRecord
from alliance.infra.idempotency import (IdempotencyInProgress, IdempotencyKeyReused, Replay,
                                        fingerprint)
from tests.support import recorded_sql


def test_begin_claims_a_new_key(database):
    assert isinstance(idempotency.begin("user:1", "k", "fp"), int)


def test_a_new_key_is_claimed_by_its_insert_alone(database):
    # A DELETE by principal and key before it took gap locks that deadlocked a burst of
    # taps with keys on MariaDB (500s).
    with recorded_sql() as statements:
        idempotency.begin("user:1", "k", "fp")
    assert [s.sql.split(" ", 1)[0] for s in statements] == ["INSERT"], statements


def test_a_key_older_than_a_day_is_free_again(database):
    first = idempotency.begin("user:1", "k", "fp")
    idempotency.complete(first, 201, '{"id": 7}')
    with connection():
        (IdempotencyRecord.update(created_at=utcnow() - dt.timedelta(hours=25))
         .where(IdempotencyRecord.id == first).execute())
    again = idempotency.begin("user:1", "k", "another request")
    assert isinstance(again, int)  # claimed, not replayed nor refused as reused
    with connection():
        [record] = IdempotencyRecord.select()
    assert (record.id, record.fingerprint, record.state) == (again, "another request",
                                                               "running")


def test_begin_while_first_runs_is_in_progress(database):
    idempotency.begin("user:1", "k", "fp")
    with pytest.raises(IdempotencyInProgress):
        idempotency.begin("user:1", "k", "fp")


def test_completed_key_replays(database):
    record = idempotency.begin("user:1", "k", "fp")
    idempotency.complete(record, 201, '{"id": 7}')
    assert idempotency.begin("user:1", "k", "fp") == Replay(201, '{"id": 7}')


def test_abandoned_key_can_run_again(database):
    idempotency.abandon(idempotency.begin("user:1", "k", "fp"))
    assert isinstance(idempotency.begin("user:1", "k", "fp"), int)


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
