"""SQLite writers queue for the write lock (a thread lock and a file lock) instead of
SQLite's busy handler, which sleeps up to 100 ms between tries while the lock sits free.

With the busy handler switched off (busy_timeout 0), a writer that found the lock taken
would fail at once with "database is locked": these tests would fail without the queue.
"""
import fcntl
import multiprocessing
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from peewee import IntegerField, Model

from alliance.engines import QueuedWriterSqliteDatabase, WriterBusy

WRITERS, TRANSACTIONS = 6, 25


def no_wait_database(path) -> QueuedWriterSqliteDatabase:
    """The queue alone: SQLite answers "locked" at once instead of waiting."""
    return QueuedWriterSqliteDatabase(str(path), pragmas={"journal_mode": "wal", "busy_timeout": 0},
                                      lock_type="IMMEDIATE", timeout=0, check_same_thread=False,
                                      max_connections=WRITERS * 2)


def counter_model(database):
    class Counter(Model):
        value = IntegerField()

        class Meta:
            database = None
            table_name = "counter"

    Counter._meta.set_database(database)
    return Counter


def bump(database, Counter, times: int) -> None:
    """Read-modify-write in a transaction that holds the lock a while."""
    for _ in range(times):
        with database.connection_context(), database.atomic():
            row = Counter.get_by_id(1)
            time.sleep(0.001)
            Counter.update(value=row.value + 1).where(Counter.id == 1).execute()


def prepared(tmp_path):
    database = no_wait_database(tmp_path / "queue.sqlite3")
    Counter = counter_model(database)
    with database.connection_context():
        database.create_tables([Counter])
        Counter.create(value=0)
    return database, Counter


def test_writer_threads_take_turns(tmp_path):
    database, Counter = prepared(tmp_path)
    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(bump, database, Counter, TRANSACTIONS) for _ in range(WRITERS)]:
            future.result()
    with database.connection_context():
        assert Counter.get_by_id(1).value == WRITERS * TRANSACTIONS
    database.close_all()


def _bump_in_process(path: str, times: int) -> None:
    database = no_wait_database(path)
    bump(database, counter_model(database), times)
    database.close_all()


def test_writer_processes_take_turns(tmp_path):
    database, Counter = prepared(tmp_path)
    database.close_all()
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_bump_in_process,
                                 args=(str(tmp_path / "queue.sqlite3"), TRANSACTIONS))
                 for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    with database.connection_context():
        assert Counter.get_by_id(1).value == 3 * TRANSACTIONS
    database.close_all()


def test_turn_ends_before_after_commit_callbacks(tmp_path):
    """A callback may start a transaction on another thread and wait for it."""
    database, Counter = prepared(tmp_path)
    done = []

    def write_elsewhere():
        thread = threading.Thread(target=lambda: (bump(database, Counter, 1), done.append(1)))
        thread.start()
        thread.join(10)

    with database.connection_context():
        with database.atomic():
            Counter.update(value=Counter.value + 1).where(Counter.id == 1).execute()
            database.after_commit(write_elsewhere)
        assert done == [1] and Counter.get_by_id(1).value == 2
    database.close_all()


def test_a_failed_transaction_ends_its_turn(tmp_path):
    database, Counter = prepared(tmp_path)
    try:
        with database.connection_context(), database.atomic():
            Counter.update(value=5).where(Counter.id == 1).execute()
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    bump(database, Counter, 1)  # would wait for a turn never given back
    with database.connection_context():
        assert Counter.get_by_id(1).value == 1
    database.close_all()


def _hold_turn(database, Counter, held: threading.Event, release: threading.Event) -> None:
    with database.connection_context(), database.atomic():
        Counter.update(value=Counter.value + 1).where(Counter.id == 1).execute()
        held.set()
        release.wait(10)


def test_turn_at_once_is_refused_while_another_thread_writes(tmp_path):
    # The event loop asks for the turn "at once": it must never queue behind a writer.
    database, Counter = prepared(tmp_path)
    held, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold_turn, args=(database, Counter, held, release))
    holder.start()
    held.wait(10)
    started = time.monotonic()
    try:
        with database.turn_at_once():
            raise AssertionError("the turn was taken")
    except WriterBusy:
        pass
    assert time.monotonic() - started < 0.5
    release.set()
    holder.join(10)
    with database.turn_at_once(), database.connection_context():
        with database.atomic():
            Counter.update(value=Counter.value + 1).where(Counter.id == 1).execute()
        assert Counter.get_by_id(1).value == 2
    database.close_all()


def test_turn_at_once_is_refused_while_another_process_writes(tmp_path):
    database, Counter = prepared(tmp_path)
    other = os.open(str(tmp_path / "queue.sqlite3.writer-lock"), os.O_RDWR | os.O_CREAT)
    fcntl.flock(other, fcntl.LOCK_EX)  # another process's turn (flock is per open file)
    try:
        try:
            with database.turn_at_once():
                raise AssertionError("the turn was taken")
        except WriterBusy:
            pass
    finally:
        fcntl.flock(other, fcntl.LOCK_UN)
        os.close(other)
    bump(database, Counter, 1)  # the refused attempt gave back what it held
    database.close_all()


def test_transactions_in_a_turn_at_once_keep_it_until_it_ends(tmp_path):
    # Taken at once, the turn is the enclosed work's: its transactions neither take it
    # again (they would wait for themselves) nor give it back between them.
    database, Counter = prepared(tmp_path)
    others = []
    with database.turn_at_once(), database.connection_context():
        for _ in range(2):
            with database.atomic():
                Counter.update(value=Counter.value + 1).where(Counter.id == 1).execute()
        writer = threading.Thread(target=lambda: (bump(database, Counter, 1), others.append(1)))
        writer.start()
        time.sleep(0.1)
        assert others == []  # waits for the turn, still held here
    writer.join(10)
    with database.connection_context():
        assert others == [1] and Counter.get_by_id(1).value == 3
    database.close_all()
