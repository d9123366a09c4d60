"""The MySQL pool: no ROLLBACK round trip after plain reads, a rollback when one is needed."""
import pymysql
import pytest

from alliance.accounts.models import User
from alliance.db import connection, db
from tests.support import MYSQL_URL

pytestmark = pytest.mark.skipif(not MYSQL_URL, reason="MySQL only (TEST_DATABASE_URL)")


def test_check_in_after_reads_sends_no_rollback(database, monkeypatch):
    rollbacks = []
    original = pymysql.connections.Connection.rollback
    monkeypatch.setattr(pymysql.connections.Connection, "rollback",
                        lambda conn: rollbacks.append(1) or original(conn))
    for _ in range(3):
        with connection():
            User.select().count()
    assert rollbacks == []


def test_check_in_rolls_back_a_transaction_left_open(database):
    with connection():
        db.execute_sql("BEGIN")
        User.create(nickname="never-committed")
    with connection():
        assert not User.select().where(User.nickname == "never-committed").exists()
