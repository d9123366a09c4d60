"""Prepared reads: SQL built once per dialect, arguments converted as peewee converts them."""
import datetime as dt
import time

import pytest

from alliance.accounts.models import RefreshFamily, User
from alliance.db import IntegrityError, connection, transaction
from alliance.prepared import Arg, Prepared, PreparedIn, PreparedInsert


def test_prepared_read_returns_what_the_query_returns_and_builds_once(database):
    builds = []

    def build():
        builds.append(1)
        return User.select().where(User.id == Arg(0), User.status == Arg(1)).limit(1)

    by_id = Prepared(build)
    with connection():
        alice = User.create(nickname="alice")
        User.create(nickname="bob")
        found = by_id.first(alice.id, "active")
        assert isinstance(found, User) and found.id == alice.id and found.nickname == "alice"
        assert isinstance(found.created_at, dt.datetime)
        assert found.created_at == User.get_by_id(alice.id).created_at
        assert by_id.first(alice.id, "disabled") is None
        assert by_id.rows(10_000, "active") == []
    assert len(builds) == 1


def test_prepared_arguments_pass_through_the_column_converter(database):
    revoked_at = dt.datetime(2026, 1, 2, 3, 4, 5)
    later = Prepared(lambda: RefreshFamily.select(RefreshFamily.id)
                     .where(RefreshFamily.revoked_at > Arg(0)).order_by(RefreshFamily.id))
    with connection():
        RefreshFamily.create(id="f1", subject_kind="user", subject_id="1", revoked_at=revoked_at)
        RefreshFamily.create(id="f2", subject_kind="user", subject_id="1",
                             revoked_at=revoked_at + dt.timedelta(days=1))
        # An hour before f1's revocation, written in Shanghai time: only a converted
        # argument (UTC, naive) compares right with the stored values.
        shanghai = dt.timezone(dt.timedelta(hours=8))
        aware = (revoked_at + dt.timedelta(hours=7)).replace(tzinfo=shanghai)
        assert [f.id for f in later.rows(aware)] == ["f1", "f2"]


def test_prepared_join_returns_the_joined_models_and_tuples(database):
    joined = Prepared(lambda: RefreshFamily.select(RefreshFamily, User)
                      .join(User, on=(RefreshFamily.subject_id == User.nickname))
                      .where(RefreshFamily.id == Arg(0)))
    pairs = Prepared(lambda: User.select(User.id, User.nickname)
                     .where(User.nickname.in_(["a", "b"])).order_by(User.id).tuples())
    with connection():
        a, b = User.create(nickname="a"), User.create(nickname="b")
        RefreshFamily.create(id="f1", subject_kind="user", subject_id="b")
        family = joined.first("f1")
        assert family.id == "f1" and family.user.id == b.id and family.user.nickname == "b"
        assert pairs.rows() == [(a.id, "a"), (b.id, "b")]


def test_prepared_in_keeps_one_statement_per_length_and_runs_long_lists_in_chunks(database):
    builds = []

    def build(ids):
        builds.append(len(ids))
        return (User.select(User.id, User.nickname)
                .where(User.id.in_(ids), User.status == Arg(0)).order_by(User.id).tuples())

    def rename(ids):
        builds.append(len(ids))
        return User.update(nickname=Arg(0, User.nickname)).where(User.id.in_(ids))

    named = PreparedIn(build, fixed=1, chunk=3)
    renamed = PreparedIn(rename, fixed=1, chunk=3)
    with connection():
        users = [User.create(nickname=f"u{k}") for k in range(7)]
        User.update(status="disabled").where(User.id == users[1].id).execute()
        ids = [u.id for u in users] + [10_000]  # one that does not exist
        assert named.rows(ids, "active") == [(u.id, u.nickname) for u in users if u != users[1]]
        assert named.rows(ids[:2], "disabled") == [(users[1].id, "u1")]
        assert named.rows([], "active") == []
        assert builds == [3, 2]  # chunks of 3, 3 and 2: one statement kept per length
        assert renamed.execute(ids, "renamed") == 7
        assert renamed.execute(ids[:1], "again") == 1
    assert builds == [3, 2, 3, 2, 1]
    assert {u.nickname for u in User.select()} == {"renamed", "again"}


def test_prepared_update_converts_its_values_and_counts_the_rows_it_matched(database):
    revoke = Prepared(lambda: RefreshFamily.update(revoked_at=Arg(1, RefreshFamily.revoked_at))
                      .where(RefreshFamily.id == Arg(0), RefreshFamily.revoked_at.is_null()))
    shanghai = dt.timezone(dt.timedelta(hours=8))
    with connection():
        RefreshFamily.create(id="f1", subject_kind="user", subject_id="1")
        assert revoke.execute("f1", dt.datetime(2026, 1, 2, 11, 4, 5, 999, tzinfo=shanghai)) == 1
        assert revoke.execute("f1", dt.datetime(2026, 1, 3)) == 0  # the guard holds
        assert RefreshFamily.get_by_id("f1").revoked_at == dt.datetime(2026, 1, 2, 3, 4, 5)


def test_prepared_insert_fills_defaults_per_call_and_returns_the_saved_row(database):
    new_user = PreparedInsert(User)
    with connection():
        first = new_user.create(nickname="a")
        time.sleep(1.1)
        second = new_user.create(nickname="b", status="disabled")
        assert first.id and second.id == first.id + 1 and not first.is_dirty()
        stored = User.get_by_id(second.id)
        assert (stored.nickname, stored.status) == ("b", "disabled")
        assert stored.created_at > User.get_by_id(first.id).created_at  # not frozen at build
        new_family = PreparedInsert(RefreshFamily)  # a key of its own is written too
        assert new_family.create(id="f1", subject_kind="user", subject_id="1").id == "f1"
        with pytest.raises(IntegrityError):
            new_family.create(id="f1", subject_kind="user", subject_id="2")


def test_refused_insert_leaves_the_transaction_going_without_a_savepoint(database):
    """create_or_none needs no savepoint: what the transaction did before and after the
    refused INSERT commits (SQLite and MySQL roll back only the statement)."""
    new_family = PreparedInsert(RefreshFamily)
    with transaction():
        User.create(nickname="before")
        assert new_family.create_or_none(id="f1", subject_kind="user", subject_id="1").id == "f1"
        assert new_family.create_or_none(id="f1", subject_kind="user", subject_id="2") is None
        User.create(nickname="after")
    with connection():
        assert sorted(u.nickname for u in User.select()) == ["after", "before"]
        assert [(f.id, f.subject_id) for f in RefreshFamily.select()] == [("f1", "1")]
