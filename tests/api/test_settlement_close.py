"""Closing a settlement period over real orders, refunds and partner commissions: what each
statement counts, that it balances to the fen, and that every event is counted once however
late it arrives and however many processes close the period."""
import datetime as dt
from unittest import mock

from alliance.commissions.models import CommissionEntry
from alliance.coupons.claims import claim
from alliance.coupons.templates import add_distribution, create_template
from alliance.db import connection, transaction, utcnow
from alliance.jobs.models import OK
from alliance.settlement import partner_commission
from alliance.settlement import statements as engine
from alliance.settlement.events import EventsWithdrawn
from alliance.settlement.models import SettlementItem, SettlementStatement
from alliance.settlement.platform_commission import commission_of, give_back
from alliance.settlement.queries import period_summary
from alliance.settlement.statements import PeriodNotClosed, close_period
from scheduler.jobs import JOBS
from alliance.points import services as points
from tests.factories import make_item, make_merchant, make_shop, make_template
from tests.scheduling import fire_together, scheduler_instances
from tests.settlement_support import SettlementCase


class ClosePeriodTest(SettlementCase):
    def test_a_period_counts_sales_and_the_platform_commission_to_the_fen(self):
        self.set_rate(self.merchant, 333)
        orders = [self.pay_at(self.in_last_month(3)), self.pay_at(self.in_last_month(9), quantity=2),
                  self.pay_at(self.in_last_month(20), self.service)]
        assert self.close(self.last)["statements"] == 1

        statement = self.statement(self.merchant, self.last)
        paid = [order["paid_fen"] for order in orders]
        charged = [commission_of(p, 333) for p in paid]
        assert charged == [(p * 333 + 5000) // 10000 for p in paid] and all(charged)
        assert self.lines(statement) == {"sales": sum(paid), "platform_commission": -sum(charged)}
        assert (statement.status, statement.net_fen, statement.item_count) == (
            "issued", sum(paid) - sum(charged), 6)
        fees = [item for item in self.items(statement) if item.line == "platform_commission"]
        assert sorted((i.order_no, i.amount_fen, i.basis_fen, i.rate_bp) for i in fees) == sorted(
            (o["order_no"], -c, p, 333) for o, c, p in zip(orders, charged, paid))

    def test_refunds_give_back_exactly_the_commission_that_was_charged(self):
        self.set_rate(self.merchant, 777)
        order = self.pay_at(self.in_last_month(15), quantity=3)
        order_no, paid = order["order_no"], order["paid_fen"]
        self.close(self.last)
        charged = commission_of(paid, 777)
        self.set_rate(self.merchant, 5000)  # a new rate does not change what was charged
        parts = [1001, 2333, paid - 1001 - 2333]
        for amount in parts:
            self.refund(order_no, amount)

        self.close(self.current)
        statement = self.statement(self.merchant, self.current)
        backs = [i.amount_fen for i in self.items(statement) if i.source_type == "platform_commission_back"]
        expected = [give_back(charged, paid, sum(parts[:k]), sum(parts[:k + 1])) for k in range(3)]
        assert backs == [b for b in expected if b] and sum(backs) == charged
        assert self.lines(statement) == {"refunds": -paid, "platform_commission": charged}

    def test_a_payment_applied_late_lands_on_the_next_statement_once(self):
        early = self.pay_at(self.in_last_month(2))
        assert self.close(self.last)["statements"] == 1
        late = self.pay_at(self.current.start - dt.timedelta(hours=1))  # notified after the close

        assert self.close(self.last) == {"period": self.last.name, "statements": 0, "items": 0,
                                         "skipped": 0}
        assert self.close(self.current)["statements"] == 1
        assert self.close(self.current)["statements"] == 0
        first, second = self.statement(self.merchant, self.last), self.statement(self.merchant, self.current)
        assert [i.order_no for i in self.items(first)] == [early["order_no"]]
        [item] = self.items(second)
        assert (item.order_no, item.amount_fen) == (late["order_no"], late["paid_fen"])
        assert item.occurred_at < self.last.end  # its own month, counted the month after

    def partner_coupon(self, partner) -> int:
        with connection():
            template = create_template(
                {"name": "影城送面馆券", "kind": "fixed", "threshold_fen": 0, "discount_fen": 500,
                 "valid_days": 30, "total_stock": 100, "channels": ["partner"]},
                merchant_id=self.merchant.id, actor_kind="user", actor_id=self.owner.id)
            add_distribution(template.id, self.merchant.id, partner.id, 300, actor_id=self.owner.id)
            return claim(template.id, self.user_id("alice"), scene=f"p={partner.id}").id

    def test_partner_commissions_count_on_both_sides_and_are_settled(self):
        with connection():
            partner = make_merchant(name="星光影城")
            idle = make_merchant(name="没有生意的店")
        kept = self.paid_order(self.buyer, coupon_id=self.partner_coupon(partner))
        undone = self.paid_order(self.buyer, coupon_id=self.partner_coupon(partner))
        self.refund(undone["order_no"], undone["paid_fen"])  # refunded in full: cancelled
        with connection():
            entries = {e.source_id.split(":")[1]: e for e in CommissionEntry.select()}
        assert entries[undone["order_no"]].status == "cancelled"

        self.close(self.current)
        ours, theirs = self.statement(self.merchant, self.current), self.statement(partner, self.current)
        assert self.statement(idle, self.current) is None
        assert self.lines(theirs) == {"partner_commission": 300}
        assert self.lines(ours)["partner_commission"] == -300
        [owed] = [i for i in self.items(ours) if i.line == "partner_commission"]
        [earned] = self.items(theirs)
        entry = entries[kept["order_no"]]
        assert (owed.source_id, owed.counterparty_merchant_id, owed.order_no) == (
            str(entry.id), partner.id, kept["order_no"])
        assert (earned.source_id, earned.counterparty_merchant_id) == (str(entry.id), self.merchant.id)
        with connection():
            settled = CommissionEntry.get_by_id(entry.id)
            summary = period_summary(self.current.name)
        assert settled.status == "settled" and settled.settled_at is not None
        assert summary["balanced"] and summary["between_merchants_fen"] == 0

    def test_discounts_another_party_funded_are_settled_and_balance(self):
        with connection():
            partner = make_merchant(name="星光影城")
            item = make_item(self.merchant, price_fen=10000, stock=5)
            shop = make_template(partner, threshold_fen=0, discount_fen=1500, scope="alliance")
            platform = make_template(None, threshold_fen=0, discount_fen=700)
            coupon_ids = [claim(t.id, self.user_id("alice")).id for t in (shop, platform)]
            points.earn(self.user_id("alice"), 400, merchant_id=partner.id,
                        idempotency_key="test:settle:partner-points")
        self.set_rate(self.merchant, 100)
        kept = self.paid_order(self.buyer, item, coupon_ids=coupon_ids, points=400)
        assert (kept["breakdown"]["coupon_discount_fen"], kept["breakdown"]["points_discount_fen"]) == (2200, 400)

        self.close(self.current)
        ours, theirs = self.statement(self.merchant, self.current), self.statement(partner, self.current)
        paid = kept["paid_fen"]
        assert self.lines(ours) == {"sales": paid, "platform_commission": -commission_of(paid, 100),
                                    "coupon_subsidy": 2200, "points_subsidy": 400}
        assert self.lines(theirs) == {"coupon_subsidy": -1500, "points_subsidy": -400}
        with connection():
            summary = period_summary(self.current.name)
        assert summary["balanced"] and summary["between_merchants_fen"] == 0
        assert summary["net_fen"] == ours.net_fen + theirs.net_fen == (
            paid - commission_of(paid, 100) + 700)  # the platform pays its own coupon

    def test_an_entry_cancelled_while_its_statement_is_built_is_withdrawn(self):
        with connection():
            partner = make_merchant(name="星光影城")
        order = self.paid_order(self.buyer, coupon_id=self.partner_coupon(partner))
        with connection():
            read = list(partner_commission.entries(self.current.start, self.current.end))
        self.refund(order["order_no"], order["paid_fen"])  # cancels the entry meanwhile
        with self.assertRaises(EventsWithdrawn) as withdrawn, transaction():
            partner_commission.settle(read, utcnow())
        assert withdrawn.exception.keys == {event.key for event in read}
        self.close(self.current)
        assert self.statement(partner, self.current) is None

    def test_a_stray_payment_is_neither_a_sale_nor_a_refund(self):
        order = self.order(self.buyer)
        payment = self.start_payment(self.buyer, order["order_no"])
        self.provider_pays(payment, amount_fen=payment["amount_fen"] + 100)  # another amount
        self.wait_for(lambda: [r for r in self.refunds(order["order_no"]) if r.status == "succeeded"])
        assert self.close(self.current)["statements"] == 0

    def test_a_period_not_yet_ended_is_refused(self):
        with self.assertRaises(PeriodNotClosed):
            self.close(self.current, now=utcnow())

    def test_two_processes_closing_one_period_count_each_event_once(self):
        with connection():
            others = [make_merchant(name=f"店{i}") for i in range(3)]
        for i, merchant in enumerate([self.merchant, *others]):
            with connection():
                make_shop(merchant)
                item = self.goods if merchant is self.merchant else make_item(
                    merchant, kind="goods", price_fen=2000 + i, stock=5)
            self.pay_at(self.in_last_month(5 + i), item)
        now = self.last.end + dt.timedelta(minutes=1)
        with mock.patch.object(engine, "MERCHANTS_PER_PASS", 2):  # several passes
            outcomes = self.run_together(4, lambda i: close_period(self.last.name, now))
        assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
        assert sum(o["statements"] for o in outcomes) == 4
        with connection():
            statements = list(SettlementStatement.select())
            items = SettlementItem.select().count()
        assert sorted(s.merchant_id for s in statements) == sorted(
            m.id for m in [self.merchant, *others])
        assert items == 4 and sum(s.item_count for s in statements) == 4

    def test_the_monthly_job_closes_last_month_once(self):
        order = self.pay_at(self.in_last_month(10))
        instances = scheduler_instances(self.app.settings["ctx"], JOBS, 2)
        assert self.call(fire_together, instances, "settlement.close_month").count(OK) == 1
        statement = self.statement(self.merchant, self.last)
        assert [i.order_no for i in self.items(statement)] == [order["order_no"]]
