"""The order jobs under the scheduler: two instances over one database close each stale order
once, and a run that fails half-way leaves whole orders done or untouched for the next run."""
import datetime as dt
import json

from alliance.coupons.models import Coupon
from alliance.db import connection, db, is_mysql, utcnow
from alliance.jobs.models import FAILED, OK, JobRun
from alliance.orders.models import Order
from alliance.orders.reservations import points_key
from alliance.points.models import PointsEntry
from scheduler.jobs import JOBS
from scheduler.runner import Scheduler
from tests.orders_support import OrderTestCase
from tests.scheduling import fire_together, scheduler_instances

JOB = "orders.close_unpaid"
TRIGGER = "test_refuse_coupon_release"


class OrderJobsTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")
        self.give_points("alice", 10_000)
        self.clock = {"now": utcnow()}

    def stale_orders(self, count: int, pay_some: bool = False) -> list[str]:
        """``count`` pending orders (2 units, 100 points and a coupon each), past their
        deadline in the order they were placed; every other one with an open trade."""
        numbers = []
        for n in range(count):
            coupon_id = self.give_coupon("alice", discount_fen=300)
            created = self.order(self.buyer, quantity=2, points=100, coupon_id=coupon_id)
            if pay_some and n % 2:
                self.start_payment(self.buyer, created["order_no"])
            numbers.append(created["order_no"])
            with connection():
                (Order.update(expires_at=utcnow() - dt.timedelta(minutes=30 - n))
                 .where(Order.order_no == created["order_no"]).execute())
        return numbers

    def instances(self, count: int) -> list[Scheduler]:
        return scheduler_instances(self.app.settings["ctx"], JOBS, count,
                                   lambda: self.clock["now"])

    def holdings(self, order_no: str) -> tuple:
        """What the order holds: (status, coupon status, points given back, cancel reason)."""
        with connection():
            order = Order.get(Order.order_no == order_no)
            coupon = Coupon.get(Coupon.id == json.loads(order.coupon_ids)[0])
            refunded = PointsEntry.select().where(
                PointsEntry.idempotency_key == f"{points_key(order)}:release").count()
        return order.status, coupon.status, refunded, order.cancel_reason

    def ok_runs(self) -> list[JobRun]:
        with connection():
            return list(JobRun.select().where(JobRun.job == JOB, JobRun.outcome == OK)
                        .order_by(JobRun.id))

    def test_two_schedulers_close_each_stale_order_exactly_once(self):
        numbers = self.stale_orders(4, pay_some=True)
        assert (self.stock(self.goods), self.balance("alice")) == (2, 9_600)
        instances = self.instances(2)
        for minute in range(3):
            self.clock["now"] = utcnow() + dt.timedelta(minutes=minute)
            outcomes = self.call(fire_together, instances, JOB)
            assert outcomes.count(OK) == 1, outcomes
            assert set(outcomes) <= {OK, "done", "elsewhere"}, outcomes

        assert [self.holdings(no) for no in numbers] == [
            ("cancelled", "active", 1, "payment_timeout")] * 4
        assert (self.stock(self.goods), self.balance("alice")) == (10, 10_000)
        with connection():
            assert PointsEntry.select().where(PointsEntry.kind == "refund").count() == 4
            assert Coupon.select().where(Coupon.status == "locked").count() == 0
        runs = self.ok_runs()
        assert len(runs) == len({run.slot for run in runs}) == 3
        assert [json.loads(run.counts)["closed"] for run in runs] == [4, 0, 0]
        assert {a.status for no in numbers for a in self.attempts(no)} == {"closed"}

    def refuse_coupon_release(self, order_no: str) -> None:
        """A database trigger that fails the release of ``order_no``'s coupon: the last step
        of its cancel, after its stock and points have been given back."""
        if is_mysql():
            sql = (f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON coupon FOR EACH ROW BEGIN "
                   f"IF OLD.order_ref = '{order_no}' AND NEW.status = 'active' THEN "
                   "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'release refused'; END IF; END")
        else:
            sql = (f"CREATE TRIGGER {TRIGGER} BEFORE UPDATE ON coupon "
                   f"WHEN OLD.order_ref = '{order_no}' AND NEW.status = 'active' "
                   "BEGIN SELECT RAISE(ABORT, 'release refused'); END")
        with connection():
            db.execute_sql(sql)

    def allow_coupon_release(self) -> None:
        with connection():
            db.execute_sql(f"DROP TRIGGER IF EXISTS {TRIGGER}")

    def test_a_run_failing_half_way_leaves_whole_orders_and_the_next_run_completes(self):
        first, second, third = self.stale_orders(3)
        [scheduler] = self.instances(1)
        spec = next(s for s in scheduler.specs if s.name == JOB)
        self.refuse_coupon_release(second)
        try:
            assert self.call(scheduler.run_slot, spec) == FAILED
        finally:
            self.allow_coupon_release()

        assert self.holdings(first) == ("cancelled", "active", 1, "payment_timeout")
        assert self.holdings(second) == ("pending_payment", "locked", 0, "")
        assert self.holdings(third) == ("pending_payment", "locked", 0, "")
        assert (self.stock(self.goods), self.balance("alice")) == (6, 9_800)
        with connection():
            [failed] = JobRun.select().where(JobRun.job == JOB)
        assert failed.outcome == FAILED and "release refused" in failed.error

        assert self.call(scheduler.run_slot, spec) == OK  # the same slot, still due
        assert [self.holdings(no) for no in (first, second, third)] == [
            ("cancelled", "active", 1, "payment_timeout")] * 3
        assert (self.stock(self.goods), self.balance("alice")) == (10, 10_000)
        [run] = self.ok_runs()
        assert run.slot == failed.slot and json.loads(run.counts)["closed"] == 2
