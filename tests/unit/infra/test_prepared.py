"""Prepared reads: SQL built once per dialect, arguments converted as peewee converts them."""
import datetime as dt

from alliance.accounts.models import RefreshFamily, User
from alliance.db import Arg, Prepared, connection


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
