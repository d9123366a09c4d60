"""The partner's share of the sales its coupons brought (settlement source
``cooperation_share``): charged on each order paid with a cooperation's coupon, given back by
its refunds to the fen, and counted on both merchants' statements."""
from alliance.coupons.claims import claim
from alliance.coupons.templates import create_template
from alliance.cooperation import services
from alliance.db import connection
from alliance.notifications.outbox import OutboxNotifier
from alliance.settlement.platform_commission import commission_of, give_back
from alliance.settlement.queries import period_summary
from tests.factories import make_merchant
from tests.settlement_support import SettlementCase

SHARE_BP = 1234


class CooperationShareTest(SettlementCase):
    def cooperation_coupon(self, partner, sales_share_bp: int = SHARE_BP) -> int:
        """A coupon of the merchant that ``partner`` handed out under an accepted
        cooperation (commission 300, the given share of sales); its id."""
        with connection():
            template = create_template(
                {"name": "影城送面馆券", "kind": "fixed", "threshold_fen": 0, "discount_fen": 500,
                 "valid_days": 30, "total_stock": 100, "channels": ["partner"]},
                merchant_id=self.merchant.id, actor_kind="user", actor_id=self.owner.id)
            cooperation = services.propose(
                OutboxNotifier(), self.merchant.id, self.owner.id,
                {"partner_merchant_id": partner.id, "kind": "coupon_distribution",
                 "template_ids": [template.id], "commission_fen": 300,
                 "sales_share_bp": sales_share_bp})
            services.accept(OutboxNotifier(), cooperation.id, partner.id, partner.owner_id, {})
            return claim(template.id, self.user_id("alice"), scene=f"p={partner.id}").id

    def test_the_issuer_owes_the_partner_its_share_of_each_order_on_both_statements(self):
        with connection():
            partner = make_merchant(name="星光影城")
        shared = self.paid_order(self.buyer, quantity=2, coupon_id=self.cooperation_coupon(partner))
        plain = self.paid_order(self.buyer)  # no cooperation's coupon: no share
        self.close(self.current)
        ours, theirs = self.statement(self.merchant, self.current), self.statement(partner, self.current)
        share = commission_of(shared["paid_fen"], SHARE_BP)
        assert share == (shared["paid_fen"] * SHARE_BP + 5000) // 10000 and share > 0
        assert self.lines(theirs) == {"partner_commission": 300, "cooperation_share": share}
        assert self.lines(ours)["cooperation_share"] == -share
        [owed] = [i for i in self.items(ours) if i.line == "cooperation_share"]
        assert (owed.order_no, owed.counterparty_merchant_id, owed.basis_fen, owed.rate_bp) == (
            shared["order_no"], partner.id, shared["paid_fen"], SHARE_BP)
        assert plain["order_no"] not in {i.order_no for i in self.items(theirs)}
        with connection():
            summary = period_summary(self.current.name)
        assert summary["balanced"] and summary["between_merchants_fen"] == 0

    def test_what_the_partnership_brought_counts_its_coupons_commissions_and_sales(self):
        with connection():
            partner = make_merchant(name="星光影城")
        order = self.paid_order(self.buyer, quantity=2, coupon_id=self.cooperation_coupon(partner))
        [listed] = self.api("GET", "/api/v1/merchant/cooperations", token=self.staff).json["items"]
        assert listed["results"] == {
            "coupons_claimed": 1, "customers": 1, "coupons_used": 1, "coupons_redeemed": 0,
            "commission_count": 1, "commission_fen": 300, "orders": 1,
            "sales_fen": order["paid_fen"], "refunded_fen": 0}
        self.refund(order["order_no"], order["paid_fen"])  # the coupon and commission go back
        detail = self.api("GET", f"/api/v1/merchant/cooperations/{listed['id']}",
                          token=self.staff).json
        assert (detail["results"]["coupons_used"], detail["results"]["orders"],
                detail["results"]["commission_fen"]) == (0, 0, 0)

    def test_refunds_give_back_exactly_the_share_that_was_charged(self):
        with connection():
            partner = make_merchant(name="星光影城")
        coupon_id = self.cooperation_coupon(partner)
        order = self.pay_at(self.in_last_month(15), quantity=3, coupon_id=coupon_id)
        order_no, paid = order["order_no"], order["paid_fen"]
        self.close(self.last)
        charged = commission_of(paid, SHARE_BP)
        assert self.lines(self.statement(partner, self.last))["cooperation_share"] == charged
        parts = [1001, 2333, paid - 1001 - 2333]
        for amount in parts:
            self.refund(order_no, amount)

        self.close(self.current)
        ours, theirs = self.statement(self.merchant, self.current), self.statement(partner, self.current)
        backs = [i.amount_fen for i in self.items(ours) if i.source_type == "cooperation_share_back"]
        expected = [give_back(charged, paid, sum(parts[:k]), sum(parts[:k + 1])) for k in range(3)]
        assert backs == [b for b in expected if b] and sum(backs) == charged
        assert self.lines(ours)["cooperation_share"] == charged
        assert self.lines(theirs)["cooperation_share"] == -charged

    def test_a_cooperation_without_a_share_of_sales_adds_no_line(self):
        with connection():
            partner = make_merchant(name="星光影城")
        self.paid_order(self.buyer, coupon_id=self.cooperation_coupon(partner, sales_share_bp=0))
        self.close(self.current)
        assert self.lines(self.statement(partner, self.current)) == {"partner_commission": 300}
