"""Copies of one notification reaching a server process: applied once, the rest answered."""
import asyncio
import os
import subprocess
import sys
import time

import pytest

from alliance.infra import sharedboard
from alliance.infra.sharedboard import CLAIMED, UNAVAILABLE, SharedBoard

from alliance.payments.models import ABNORMAL, PROCESSED, RECEIVED
from alliance.payments.notices import NoticeOutcome
from alliance.ports import PaymentNotice
from payments.arrivals import NoticeArrivals


def notice(notification_id: str = "EV-1") -> PaymentNotice:
    return PaymentNotice(channel="wechatpay", notification_id=notification_id,
                         out_trade_no="T20261128000001", transaction_id="4200000001",
                         amount_fen=1234, paid=True, trade_state="SUCCESS", raw={})


class Applier:
    """Stands in for the worker that applies a notice: counts calls, and holds each until
    released (so that copies arrive while it is under way)."""

    def __init__(self, status: str = PROCESSED, fail_first: bool = False):
        self.calls = 0
        self.release = asyncio.Event()
        self.status, self.fail_first = status, fail_first

    async def __call__(self) -> NoticeOutcome:
        self.calls += 1
        call = self.calls
        await self.release.wait()
        if self.fail_first and call == 1:
            raise RuntimeError("order locked")
        return NoticeOutcome(record_id=7, status=self.status, duplicate=False)


def run(coro):
    return asyncio.run(coro)


def test_copies_arriving_together_are_applied_once():
    async def scenario():
        arrivals, apply = NoticeArrivals(), Applier()
        copies = [asyncio.create_task(arrivals.accept(notice(), apply)) for _ in range(3)]
        await asyncio.sleep(0)
        apply.release.set()
        return apply.calls, await asyncio.gather(*copies)

    calls, outcomes = run(scenario())
    assert calls == 1
    assert [(o.record_id, o.status, o.duplicate) for o in outcomes] == [
        (7, PROCESSED, False), (7, PROCESSED, True), (7, PROCESSED, True)]


def test_a_settled_notification_is_answered_from_memory():
    async def scenario():
        arrivals, apply = NoticeArrivals(), Applier(status=ABNORMAL)
        apply.release.set()
        first = await arrivals.accept(notice(), apply)
        again = await arrivals.accept(notice(), apply)
        other = await arrivals.accept(notice("EV-2"), apply)
        return apply.calls, first, again, other

    calls, first, again, other = run(scenario())
    assert calls == 2  # EV-1 once, EV-2 once
    assert (first.status, first.duplicate) == (ABNORMAL, False)
    assert (again.record_id, again.status, again.duplicate) == (7, ABNORMAL, True)
    assert other.duplicate is False


def test_a_copy_waiting_for_one_that_failed_applies_it_itself():
    async def scenario():
        arrivals, apply = NoticeArrivals(), Applier(fail_first=True)
        first = asyncio.create_task(arrivals.accept(notice(), apply))
        second = asyncio.create_task(arrivals.accept(notice(), apply))
        await asyncio.sleep(0)
        apply.release.set()
        with pytest.raises(RuntimeError):
            await first
        return apply.calls, await second

    calls, second = run(scenario())
    assert calls == 2
    assert (second.status, second.duplicate) == (PROCESSED, False)


def test_an_unsettled_notification_is_not_remembered():
    # Received without a handler (or its handler failed): the next copy must reach the
    # domain, which applies it then.
    async def scenario():
        arrivals, apply = NoticeArrivals(), Applier(status=RECEIVED)
        apply.release.set()
        await arrivals.accept(notice(), apply)
        await arrivals.accept(notice(), apply)
        return apply.calls, len(arrivals)

    assert run(scenario()) == (2, 0)


def test_memory_keeps_the_latest_settled_notifications():
    async def scenario():
        arrivals, apply = NoticeArrivals(remembered=2), Applier()
        apply.release.set()
        for notification_id in ("EV-1", "EV-2", "EV-3"):
            await arrivals.accept(notice(notification_id), apply)
        calls = apply.calls
        await arrivals.accept(notice("EV-3"), apply)  # remembered
        await arrivals.accept(notice("EV-1"), apply)  # forgotten: the domain answers
        return calls, apply.calls, len(arrivals)

    assert run(scenario()) == (3, 4, 2)


# Copies reaching two server processes of one parent, which share a board
# (alliance.infra.sharedboard): each NoticeArrivals below stands for one process.

def two_processes(board: SharedBoard | None = None):
    board = board or SharedBoard(slots=64)
    return (NoticeArrivals(board=board, owner=os.getpid()),
            NoticeArrivals(board=board, owner=os.getppid()))


def test_a_copy_reaching_another_process_waits_for_the_first_and_is_answered_from_the_board():
    async def scenario():
        here, there = two_processes()
        apply_here, apply_there = Applier(), Applier()
        first = asyncio.create_task(here.accept(notice(), apply_here))
        await asyncio.sleep(0)
        second = asyncio.create_task(there.accept(notice(), apply_there))
        await asyncio.sleep(0.02)  # the second polls the board meanwhile
        assert not second.done()
        apply_here.release.set()
        apply_there.release.set()
        later = await asyncio.wait_for(second, 1)
        again = await there.accept(notice(), apply_there)  # now from its own memory
        return apply_here.calls, apply_there.calls, await first, later, again

    calls_here, calls_there, first, later, again = run(scenario())
    assert (calls_here, calls_there) == (1, 0)
    assert (first.status, first.duplicate) == (PROCESSED, False)
    assert (later.record_id, later.status, later.duplicate) == (7, PROCESSED, True)
    assert (again.record_id, again.duplicate) == (7, True)


def test_another_process_answers_a_settled_abnormal_notification_from_the_board():
    async def scenario():
        here, there = two_processes()
        apply = Applier(status=ABNORMAL)
        apply.release.set()
        await here.accept(notice(), apply)
        return apply.calls, await there.accept(notice(), apply)

    calls, outcome = run(scenario())
    assert calls == 1
    assert (outcome.record_id, outcome.status, outcome.duplicate) == (7, ABNORMAL, True)


def test_when_the_first_process_fails_the_copy_in_the_other_applies_it():
    async def scenario():
        here, there = two_processes()
        failing, working = Applier(fail_first=True), Applier()
        first = asyncio.create_task(here.accept(notice(), failing))
        await asyncio.sleep(0)
        second = asyncio.create_task(there.accept(notice(), working))
        await asyncio.sleep(0.01)
        failing.release.set()
        working.release.set()
        with pytest.raises(RuntimeError):
            await first
        outcome = await asyncio.wait_for(second, 1)
        return working.calls, outcome

    calls, second = run(scenario())
    assert calls == 1
    assert (second.status, second.duplicate) == (PROCESSED, False)


def test_an_unsettled_notification_is_not_kept_on_the_board():
    async def scenario():
        here, there = two_processes()
        apply = Applier(status=RECEIVED)
        apply.release.set()
        await here.accept(notice(), apply)
        await there.accept(notice(), apply)
        return apply.calls

    assert run(scenario()) == 2


def applied_here(board: SharedBoard) -> tuple[int, NoticeOutcome]:
    """A copy reaching this process, whose applier answers at once: (its calls, the outcome)."""
    async def scenario():
        apply = Applier()
        apply.release.set()
        outcome = await asyncio.wait_for(NoticeArrivals(board=board).accept(notice(), apply), 1)
        return apply.calls, outcome

    return run(scenario())


def test_work_of_a_process_that_died_is_not_waited_for():
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    board = SharedBoard(slots=64)
    key = sharedboard.digest("wechatpay", "EV-1")
    assert board.claim(key, owner=gone.pid) is sharedboard.CLAIMED

    calls, outcome = applied_here(board)
    assert calls == 1 and outcome.duplicate is False


def test_a_copy_gives_up_waiting_and_goes_to_the_database(monkeypatch):
    monkeypatch.setattr("payments.arrivals.WAIT_S", 0.03)
    board = SharedBoard(slots=64)
    assert board.claim(sharedboard.digest("wechatpay", "EV-1"), owner=os.getppid()) is CLAIMED

    calls, outcome = applied_here(board)
    assert calls == 1 and outcome.duplicate is False  # the database's unique record decides


def test_a_slot_held_by_other_work_under_way_leaves_the_copy_to_the_database():
    board = SharedBoard(slots=1)  # every key falls on one slot
    assert board.claim(sharedboard.digest("wechatpay", "EV-0"), owner=os.getppid()) is CLAIMED
    assert board.claim(sharedboard.digest("wechatpay", "EV-1")) is UNAVAILABLE

    calls, outcome = applied_here(board)
    assert calls == 1 and outcome.duplicate is False


def test_a_settled_result_gives_its_slot_to_newer_work():
    board = SharedBoard(slots=1)
    old, new = sharedboard.digest("a"), sharedboard.digest("b")
    assert board.claim(old) is CLAIMED
    board.settle(old, 7, 1)
    assert board.claim(new) is CLAIMED
    assert board.claim(old) is UNAVAILABLE  # "b" is under way on the slot


def test_processes_forked_from_one_parent_see_each_others_work():
    board = SharedBoard(slots=64)
    key = sharedboard.digest("wechatpay", "EV-9")
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the other server process: claims, tells, then settles
        try:
            claimed = board.claim(key) is CLAIMED
            os.write(writer, b"1" if claimed else b"0")
            time.sleep(0.1)
            board.settle(key, 42, 2)
        finally:
            os._exit(0)
    try:
        assert os.read(reader, 1) == b"1"
        seen = board.claim(key)
        assert seen.state == sharedboard.UNDER_WAY and seen.owner == pid
        deadline = time.monotonic() + 5
        while seen.state != sharedboard.SETTLED and time.monotonic() < deadline:
            time.sleep(0.01)
            seen = board.claim(key)
        assert (seen.state, seen.value, seen.code) == (sharedboard.SETTLED, 42, 2)
    finally:
        os.waitpid(pid, 0)
        os.close(reader)
        os.close(writer)
