"""Copies of one notification reaching a server process: applied once, the rest answered."""
import asyncio

import pytest

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
