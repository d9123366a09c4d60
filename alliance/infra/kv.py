"""A small shared key-value store with expiry, in the database."""
from __future__ import annotations

import datetime as dt

from alliance.db import is_mysql, transaction, utcnow
from alliance.prepared import Arg, Prepared
from alliance.infra.models import KeyValue

# Read for every call of the WeChat APIs (their access token): its SQL is built once.
_VALUE = Prepared(lambda: KeyValue.select(KeyValue.value, KeyValue.expires_at)
                  .where(KeyValue.key == Arg(0)).limit(1).tuples())


def get(key: str) -> str | None:
    row = _VALUE.first(key)
    if row is None or (row[1] is not None and row[1] <= utcnow()):
        return None
    return row[0]


def put(key: str, value: str, ttl_s: int | None = None) -> None:
    expires = utcnow() + dt.timedelta(seconds=ttl_s) if ttl_s else None
    with transaction():
        query = KeyValue.insert(key=key, value=value, expires_at=expires)
        if is_mysql():
            query = query.on_conflict(update={KeyValue.value: value, KeyValue.expires_at: expires})
        else:
            query = query.on_conflict(conflict_target=[KeyValue.key],
                                      update={KeyValue.value: value,
                                              KeyValue.expires_at: expires})
        query.execute()


def delete(key: str) -> None:
    with transaction():
        KeyValue.delete().where(KeyValue.key == key).execute()


def purge_expired() -> int:
    """Delete values whose expiry has passed; the count deleted."""
    with transaction():
        return (KeyValue.delete()
                .where(KeyValue.expires_at.is_null(False), KeyValue.expires_at <= utcnow())
                .execute())
