"""The MySQL pool: no ROLLBACK round trip after plain reads, a rollback when one is needed."""
import time

import pymysql
import pytest

from peewee import MySQLDatabase

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


def _count_pings(monkeypatch) -> list:
    pings = []
    original = pymysql.connections.Connection.ping
    monkeypatch.setattr(pymysql.connections.Connection, "ping",
                        lambda conn, *args: pings.append(1) or original(conn, *args))
    return pings


def test_checkout_of_a_recently_used_connection_sends_no_ping(database, monkeypatch):
    with connection():
        User.select().count()
    pings = _count_pings(monkeypatch)
    for _ in range(3):
        with connection():
            User.select().count()
    assert pings == []


def test_checkout_pings_a_connection_idle_for_long(database, monkeypatch):
    with connection():
        User.select().count()
    monkeypatch.setattr(type(db.obj), "PING_AFTER_IDLE_S", 0.0)
    pings = _count_pings(monkeypatch)
    with connection():
        User.select().count()
    assert pings == [1]


def test_checkout_replaces_a_connection_the_server_closed(database):
    with connection():
        killed = db.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]
    killer = MySQLDatabase._connect(db.obj)  # a connection of its own, outside the pool
    try:
        cursor = killer.cursor()
        cursor.execute(f"KILL {killed}")
        for _ in range(100):  # until the server has closed it
            cursor.execute("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = %s",
                           (killed,))
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.01)
    finally:
        killer.close()
    time.sleep(0.05)  # the FIN reaches our socket
    with connection():
        current = db.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]
        assert User.select().count() == 0
    assert current != killed
