"""Pipelined transactions: on MySQL a transaction's writes go to the server together with the
next statement that must be answered, and the work runs again plainly when one of them does
not do what it assumed."""
import pytest
from peewee import IntegrityError

from alliance.accounts.models import User
from alliance.db import after_commit, connection, pipelined_transaction, transaction
from alliance.prepared import Arg, Prepared, PreparedInsert
from tests.support import MYSQL_URL, recorded_round_trips

mysql_only = pytest.mark.skipif(not MYSQL_URL, reason="MySQL only (TEST_DATABASE_URL)")

_NEW_USER = PreparedInsert(User)
_NEW_USER_RETURNING = PreparedInsert(User, returning=("id", "nickname"))
_RENAME = Prepared(lambda: User.update(nickname=Arg(1, User.nickname)).where(User.id == Arg(0)))
_NAME = Prepared(lambda: User.select(User.nickname).where(User.id == Arg(0)).limit(1).tuples())
NOBODY = 10 ** 9


def _user(nickname: str = "old", phone: str | None = None) -> int:
    return User.create(nickname=nickname, phone=phone).id


def test_the_work_commits_and_answers_on_either_database(database):
    with connection():
        existing = _user()

        def work():
            assert _RENAME.execute(existing, "new") == 1
            return _NEW_USER.create(nickname="made", phone="100")

        made = pipelined_transaction(work)
        assert _NAME.first(existing) == ("new",)
        assert User.get(User.phone == "100").id == made.id


@mysql_only
def test_writes_go_with_the_begin_and_the_next_read_in_one_round_trip(database):
    with connection():
        existing = _user()

        def work():
            assert _RENAME.execute(existing, "new") == 1
            made = _NEW_USER.create(nickname="made", phone="101")
            return made, _NAME.first(existing)

        with recorded_round_trips() as sent:
            made, name = pipelined_transaction(work)
        texts = [text for _, text in sent]
        assert len(texts) == 2, texts
        assert texts[0].startswith("BEGIN;UPDATE `user`"), texts[0]
        assert ";INSERT INTO `user`" in texts[0] and ";SELECT `t1`.`nickname`" in texts[0]
        assert texts[1] == "COMMIT"
        assert name == ("new",)  # the read sees the writes sent before it
        assert made.id == User.get(User.phone == "101").id


@mysql_only
def test_a_key_and_returning_values_arrive_when_first_read(database):
    with connection():
        def work():
            plain = _NEW_USER.create(nickname="plain", phone="102")
            returning = _NEW_USER_RETURNING.create(nickname="returning", phone="103")
            return plain, returning, returning.nickname

        with recorded_round_trips() as sent:
            plain, returning, nickname = pipelined_transaction(work)
        assert [text.split(" ", 1)[0] for _, text in sent] == ["BEGIN;INSERT", "COMMIT"]
        assert plain.id == User.get(User.phone == "102").id
        assert returning.id == User.get(User.phone == "103").id
        assert nickname == "returning"


@mysql_only
def test_a_guarded_update_that_matches_no_row_runs_the_work_again_plainly(database):
    runs = []
    with connection():
        def work():
            runs.append(1)
            _NEW_USER.create(nickname="before the guard", phone="104")
            if not _RENAME.execute(NOBODY, "nobody"):
                return "refused"
            return "applied"

        assert pipelined_transaction(work) == "refused"
        assert len(runs) == 2
        # The first run's insert went back with its transaction: one row, from the second.
        assert User.select().where(User.phone == "104").count() == 1


@mysql_only
def test_an_insert_a_unique_index_refuses_runs_the_work_again_plainly(database):
    runs = []
    with connection():
        existing = _user()
        _user("taken", "105")

        def work():
            runs.append(1)
            made = _NEW_USER.create_or_none(nickname="second", phone="105")
            _RENAME.execute(existing, "renamed")
            return made

        assert pipelined_transaction(work) is None
        assert len(runs) == 2
        assert _NAME.first(existing) == ("renamed",)
        assert User.select().where(User.phone == "105").count() == 1


@mysql_only
def test_the_first_runs_after_commit_work_goes_with_its_rollback(database):
    calls = []
    with connection():
        def work():
            after_commit(lambda: calls.append(1))
            _RENAME.execute(NOBODY, "nobody")

        pipelined_transaction(work)
    assert calls == [1]


@mysql_only
def test_the_surprise_passes_through_the_works_own_exception_handlers(database):
    caught = []
    with connection():
        existing = _user()

        def work():
            try:
                _RENAME.execute(NOBODY, "nobody")
                return _NAME.first(existing)  # sends the pipeline: the UPDATE matched nothing
            except Exception as exc:
                caught.append(exc)
                raise

        assert pipelined_transaction(work) == ("old",)
    assert caught == []


@mysql_only
def test_a_statement_sent_with_the_queue_fails_by_itself_as_it_would_alone(database):
    runs, refused = [], []
    with connection():
        existing = _user()
        _user("taken", "106")

        def work():
            runs.append(1)
            _RENAME.execute(existing, "kept")
            try:
                User.create(nickname="again", phone="106")  # sent with the queued UPDATE
            except IntegrityError:
                refused.append(1)
            return _NAME.first(existing)

        assert pipelined_transaction(work) == ("kept",)
        assert (runs, refused) == ([1], [1])


@mysql_only
def test_work_that_writes_nothing_begins_nothing(database):
    with connection():
        existing = _user()
        with recorded_round_trips() as sent:
            assert pipelined_transaction(lambda: _NAME.first(existing)) == ("old",)
            pipelined_transaction(lambda: None)
    assert [text.split(" ", 1)[0] for _, text in sent] == ["BEGIN;SELECT", "COMMIT", "COMMIT"]


@mysql_only
def test_inside_an_open_transaction_the_work_runs_plainly(database):
    with connection():
        existing = _user()
        with transaction():
            with recorded_round_trips() as sent:
                assert pipelined_transaction(lambda: _RENAME.execute(NOBODY, "x")) == 0
                assert pipelined_transaction(lambda: _RENAME.execute(existing, "y")) == 1
        # Each a savepoint of the open transaction, as transaction() makes, its UPDATE alone.
        updates = [text for _, text in sent if "UPDATE" in text]
        assert len(updates) == 2 and all(text.startswith("UPDATE") for text in updates)
