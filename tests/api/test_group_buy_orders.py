"""Group buys (团购) in orders: a group that fills succeeds once and only then are its orders
fulfilled (a service code issued, goods shipped); a rush of joins never seats more than the
group's size; an unpaid order gives its seat back; a group that did not fill in time is
failed by the job, which refunds every paid member once through the provider and cancels
the unpaid ones, however often and from however many schedulers it runs."""
import datetime as dt
import json
from urllib.parse import urlsplit

import requests

from alliance.accounts.models import User
from alliance.campaigns import group_expiry
from alliance.campaigns.models import CampaignGroup, CampaignGroupMember, CampaignQuota
from alliance.db import connection, utcnow
from alliance.jobs.models import OK
from alliance.notifications.models import OutboxMessage
from alliance.orders.funding import campaign_subsidy_events
from alliance.orders.models import Order, OrderDiscount
from sandbox.models import SandboxRefund
from scheduler.jobs import JOBS
from tests.campaigns_support import CampaignTestCase, at
from tests.orders_support import Unreachable
from tests.concurrency import run_at_once
from tests.factories import make_item
from tests.scheduling import fire_together, scheduler_instances

WIDE = (dt.datetime(2000, 1, 1), dt.datetime(2100, 1, 1))


def outbox(event: str) -> list[dict]:
    with connection():
        return [json.loads(m.payload) for m in OutboxMessage.select()
                .where(OutboxMessage.event == event).order_by(OutboxMessage.id)]


class GroupSuccessTest(CampaignTestCase):
    def test_a_group_that_fills_succeeds_and_only_then_issues_service_codes(self):
        campaign_id = self.group_buy(self.service, price=3500, size=3)
        alice, bob, carol, dave = (self.token(n) for n in ("alice", "bob", "carol", "dave"))
        with connection():
            User.update(nickname="爱丽丝").where(User.id == self.user_id("alice")).execute()
        started = self.start_group(alice, campaign_id, self.service)
        group_id = started["group_buy"]["group_id"]
        assert (started["payable_fen"], started["breakdown"]["campaign_discount_fen"]) == (
            3500, 1500)
        assert started["group_buy"]["status"] == "open"
        paid = self.pay(alice, started["order_no"])
        # Paid, but waiting for the group: no service code yet.
        assert (paid["status"], paid.get("service_code")) == ("paid", None)
        response = self.join_group(bob, group_id, self.service)
        assert response.status == 201, response.body
        self.pay(bob, response.json["order_no"])
        self.assert_error(self.join_group(alice, group_id, self.service), 409,
                          "GROUP_ALREADY_JOINED")
        last = self.join_group(carol, group_id, self.service)
        assert last.status == 201, last.body
        self.assert_error(self.join_group(dave, group_id, self.service), 409, "GROUP_FULL")
        view = self.api("GET", f"/api/v1/group-buys/{group_id}").json
        assert (view["joined"], view["paid"], view["seats_left"], view["status"]) == (
            3, 2, 0, "open")
        assert [m["nickname"] for m in view["members"]] == ["爱**", "微信用户", "微信用户"]
        assert "爱丽丝" not in json.dumps(view, ensure_ascii=False)
        assert [m["leader"] for m in view["members"]] == [True, False, False]
        assert self.get_order(bob, response.json["order_no"]).get("service_code") is None
        self.pay(carol, last.json["order_no"])
        assert self.group(group_id).status == "succeeded"
        orders = [(alice, started["order_no"]), (bob, response.json["order_no"]),
                  (carol, last.json["order_no"])]
        for token, order_no in orders:
            order = self.get_order(token, order_no)
            assert (order["status"], order["group_buy"]["status"]) == (
                "service_issued", "succeeded"), order
            assert order["service_code"]["code"].startswith("S")
        assert sorted(n["order_no"] for n in outbox("group_buy.succeeded")) == sorted(
            no for _, no in orders)
        code = self.get_order(alice, started["order_no"])["service_code"]["code"]
        redeemed = self.api("POST", "/api/v1/merchant/redemptions", {"code": code},
                            token=self.staff)
        assert redeemed.status == 201, redeemed.body
        with connection():
            discounts = list(OrderDiscount.select().join(Order).where(
                Order.order_no == started["order_no"]))
        assert [(d.kind, d.funder_merchant_id, d.amount_fen) for d in discounts] == [
            ("campaign", self.merchant.id, 1500)]
        effect = self.api("GET", f"/api/v1/merchant/campaigns/{campaign_id}/effect",
                          token=self.staff).json
        assert (effect["orders"], effect["discount_fen"], effect["groups"]["started"],
                effect["groups"]["succeeded"]) == (3, 4500, 1, 1)

    def test_a_waiting_goods_order_is_not_shipped_or_refunded_until_its_platform_group_fills(self):
        response = self.api("POST", "/api/admin/v1/campaigns", {
            "kind": "group_buy", "name": "平台两人团", "starts_at": at(-1), "ends_at": at(60),
            "group_size": 2, "group_hours": 2, "join_requires_approval": False},
            token=self.operator)
        assert response.status == 201, response.body
        campaign_id = response.json["id"]
        joined = self.api("POST", f"/api/v1/merchant/campaigns/{campaign_id}/join",
                          {"items": [{"item_id": self.goods.id, "campaign_price_fen": 2000}]},
                          token=self.staff)
        assert joined.status == 201 and joined.json["status"] == "approved", joined.body
        self.flash(price=2500)  # the same item's flash price is not added to the group price
        alice, bob = self.token("alice"), self.token("bob")
        started = self.start_group(alice, campaign_id, coupon_id=self.give_coupon("alice", 300))
        assert (started["breakdown"]["campaign_discount_fen"],
                started["breakdown"]["coupon_discount_fen"]) == (1000, 300)
        order_no = started["order_no"]
        self.pay(alice, order_no)
        ship = {"carrier": "顺丰", "tracking_no": "SF100"}
        path = f"/api/v1/merchant/orders/{order_no}"
        self.assert_error(self.api("POST", path + "/shipment", ship, token=self.staff), 409,
                          "GROUP_PENDING")
        self.assert_error(self.api("POST", path + "/refunds", {"amount_fen": 100, "reason": "缺货"},
                                   token=self.staff), 409, "GROUP_PENDING")
        self.assert_error(self.api("POST", f"/api/v1/orders/{order_no}/after-sales",
                                   {"kind": "refund", "reason": "不想要了"}, token=alice),
                          409, "GROUP_PENDING")
        assert campaign_subsidy_events(*WIDE)[0].amount_fen == 1000  # paid: owed by the platform
        joined = self.join_group(bob, started["group_buy"]["group_id"])
        assert joined.status == 201, joined.body
        self.pay(bob, joined.json["order_no"])
        shipped = self.api("POST", path + "/shipment", ship, token=self.staff)
        assert shipped.status == 200 and shipped.json["status"] == "shipped", shipped.body
        assert sorted(e.amount_fen for e in campaign_subsidy_events(*WIDE)) == [1000, 1000]
        effect = self.api("GET", f"/api/admin/v1/campaigns/{campaign_id}/effect",
                          token=self.operator).json
        assert effect["groups"] == {"started": 1, "open": 0, "succeeded": 1, "failed": 0,
                                    "refunds": 0, "refunded_fen": 0}


    def test_two_last_payments_at_once_succeed_the_group_once(self):
        campaign_id = self.group_buy(self.service, price=4000, size=3)
        leader = self.token("leader")
        started = self.start_group(leader, campaign_id, self.service)
        self.pay(leader, started["order_no"])
        group_id = started["group_buy"]["group_id"]
        sandbox, sends, orders = self.extras["wechatpay_sandbox"], [], []
        for name in ("bob", "carol"):
            token = self.token(name)
            joined = self.join_group(token, group_id, self.service)
            assert joined.status == 201, joined.body
            payment = self.start_payment(token, joined.json["order_no"])
            with connection():
                sends.append(sandbox.pay({"out_trade_no": payment["out_trade_no"]})[1])
            orders.append((token, joined.json["order_no"]))
        statuses = self.run_together(2, lambda i: requests.post(
            self.get_url(urlsplit(sends[i].url).path), data=sends[i].body,
            headers=sends[i].headers, timeout=20).status_code)
        assert statuses == [204, 204]
        group = self.group(group_id)
        assert (group.status, group.paid_count, group.seats_taken) == ("succeeded", 3, 3)
        for token, order_no in orders + [(leader, started["order_no"])]:
            assert self.get_order(token, order_no)["status"] == "service_issued"
        assert len(outbox("group_buy.succeeded")) == 3


class GroupSeatsTest(CampaignTestCase):
    def test_a_rush_of_joins_never_seats_more_than_the_group_size(self):
        with connection():
            item = make_item(self.merchant, price_fen=3000, stock=50)
        campaign_id = self.group_buy(item, price=1500, size=4)
        started = self.start_group(self.token("leader"), campaign_id, item)
        group_id = started["group_buy"]["group_id"]
        tokens = [self.token(f"joiner-{i}") for i in range(10)]
        body = {"items": [{"item_id": item.id, "quantity": 1}],
                "group_buy": {"group_id": group_id}}
        outcomes = self.run_blocking(lambda: run_at_once(
            10, lambda i: self.post_from_thread("/api/v1/orders", body, tokens[i])))
        statuses = sorted(status for status, _ in outcomes)
        assert statuses == [201] * 3 + [409] * 7, outcomes
        assert {a["error"]["code"] for s, a in outcomes if s == 409} == {"GROUP_FULL"}
        assert self.group(group_id).seats_taken == 4
        with connection():
            assert CampaignGroupMember.select().where(
                CampaignGroupMember.group == group_id).count() == 4
        assert self.stock(item) == 46  # refused joins took no stock

    def test_a_double_tap_takes_one_seat(self):
        campaign_id = self.group_buy(size=5)
        started = self.start_group(self.token("leader"), campaign_id)
        bob = self.token("bob")
        body = {"items": [{"item_id": self.goods.id, "quantity": 1}],
                "group_buy": {"group_id": started["group_buy"]["group_id"]}}
        outcomes = self.run_blocking(lambda: run_at_once(
            2, lambda i: self.post_from_thread("/api/v1/orders", body, bob)))
        assert sorted(s for s, _ in outcomes) == [201, 409], outcomes
        assert [a["error"]["code"] for s, a in outcomes if s == 409] == ["GROUP_ALREADY_JOINED"]
        assert self.group(started["group_buy"]["group_id"]).seats_taken == 2

    def test_a_cancelled_unpaid_order_frees_its_seat_once(self):
        campaign_id = self.group_buy(size=2, stock=5, per_user_limit=1)
        alice, bob, carol = self.token("alice"), self.token("bob"), self.token("carol")
        group_id = self.start_group(alice, campaign_id)["group_buy"]["group_id"]
        joined = self.join_group(bob, group_id)
        assert joined.status == 201, joined.body
        self.assert_error(self.join_group(carol, group_id), 409, "GROUP_FULL")
        cancel = f"/api/v1/orders/{joined.json['order_no']}/cancel"
        assert self.api("POST", cancel, {}, token=bob).status == 200
        self.assert_error(self.api("POST", cancel, {}, token=bob), 409, "ORDER_STATE_CONFLICT")
        assert self.group(group_id).seats_taken == 1
        assert self.campaign_item(campaign_id).stock_left == 4
        with connection():
            assert sorted(q.units for q in CampaignQuota.select()) == [0, 1]
        again = self.join_group(bob, group_id)  # the seat and the quota came back
        assert again.status == 201, again.body
        assert self.group(group_id).seats_taken == 2


class GroupFailureTest(CampaignTestCase):
    def run_job(self, now: dt.datetime) -> dict:
        def run():
            with connection():
                return group_expiry.fail_expired_groups(self.octx, now=now)
        return self.run_blocking(run)

    def test_a_group_past_its_deadline_refunds_its_paid_members_once_and_cancels_the_rest(self):
        campaign_id = self.group_buy(price=2000, size=4, stock=10)
        names = ("alice", "bob", "carol")
        tokens = {n: self.token(n) for n in names}
        started = self.start_group(tokens["alice"], campaign_id)
        group_id = started["group_buy"]["group_id"]
        bob = self.join_group(tokens["bob"], group_id).json
        carol = self.join_group(tokens["carol"], group_id).json
        for name, order in (("alice", started), ("bob", bob)):
            self.pay(tokens[name], order["order_no"])
        assert self.stock(self.goods) == 7 and self.campaign_item(campaign_id).stock_left == 7
        assert self.run_job(utcnow()) == {"failed": 0, "refunded": 0, "cancelled": 0}
        with connection():  # its deadline passes
            (CampaignGroup.update(deadline=utcnow() - dt.timedelta(minutes=1))
             .where(CampaignGroup.id == group_id).execute())
        later = utcnow() + dt.timedelta(minutes=5)
        # Two schedulers fire the job's slot together: one runs it.
        outcomes = self.call(fire_together, scheduler_instances(self.app.settings["ctx"], JOBS, 2),
                             "campaigns.fail_expired_groups")
        assert outcomes.count(OK) == 1, outcomes
        assert self.run_job(later) == {"failed": 0, "refunded": 0, "cancelled": 0}
        paid = [started["order_no"], bob["order_no"]]
        self.wait_for(lambda: all(Order.get(Order.order_no == no).status == "refunded"
                                  for no in paid))
        assert self.run_job(later) == {"failed": 0, "refunded": 0, "cancelled": 0}
        group = self.group(group_id)
        assert (group.status, group.settled_at is not None) == ("failed", True)
        for order_no in paid:
            [refund] = self.refunds(order_no)
            assert (refund.kind, refund.amount_fen, refund.status) == (
                "group_failed", 2000 + 1000, "succeeded")
            with connection():
                assert SandboxRefund.select().where(
                    SandboxRefund.out_refund_no == refund.out_refund_no).count() == 1
        assert self.row(carol["order_no"]).status == "cancelled"
        assert self.stock(self.goods) == 10 and self.campaign_item(campaign_id).stock_left == 10
        assert sorted(n["order_no"] for n in outbox("group_buy.failed")) == sorted(
            [started["order_no"], bob["order_no"], carol["order_no"]])
        view = self.api("GET", f"/api/v1/group-buys/{group_id}").json
        assert (view["status"], view["joinable"]) == ("failed", False)
        self.assert_error(self.join_group(self.token("dave"), group_id), 409, "GROUP_CLOSED")
        effect = self.api("GET", f"/api/v1/merchant/campaigns/{campaign_id}/effect",
                          token=self.staff).json
        assert effect["groups"] == {"started": 1, "open": 0, "succeeded": 0, "failed": 1,
                                    "refunds": 2, "refunded_fen": 6000}
        assert effect["orders"] == 0

    def expire_group(self, group_id: int) -> None:
        with connection():
            (CampaignGroup.update(deadline=utcnow() - dt.timedelta(minutes=1))
             .where(CampaignGroup.id == group_id).execute())

    def test_a_member_paying_as_the_group_fails_is_refunded_once(self):
        campaign_id = self.group_buy(price=2000, size=3, stock=10)
        alice, bob = self.token("alice"), self.token("bob")
        started = self.start_group(alice, campaign_id)
        group_id = started["group_buy"]["group_id"]
        self.pay(alice, started["order_no"])
        joined = self.join_group(bob, group_id).json
        payment = self.start_payment(bob, joined["order_no"])
        paid = self.api("POST", "/_sandbox/wechatpay/_control/pay",
                        {"out_trade_no": payment["out_trade_no"], "delay_s": 1})
        assert paid.status == 202  # Bob paid at WeChat Pay; the notification is late
        self.expire_group(group_id)
        # Closing Bob's trade finds it paid: his payment is applied, not his order cancelled,
        # and the next pass refunds it as it refunded Alice's.
        assert self.run_job(utcnow()) == {"failed": 1, "refunded": 1, "cancelled": 0}
        assert self.row(joined["order_no"]).status == "paid"
        assert self.run_job(utcnow()) == {"failed": 0, "refunded": 1, "cancelled": 0}
        self.spin(1.5)  # the late notification arrives: a repeat, no second effect
        assert self.run_job(utcnow()) == {"failed": 0, "refunded": 0, "cancelled": 0}
        for order_no in (started["order_no"], joined["order_no"]):
            self.wait_for(lambda no=order_no: self.row(no).status == "refunded")
            [refund] = self.refunds(order_no)
            assert (refund.kind, refund.amount_fen, refund.status) == (
                "group_failed", 2000 + 1000, "succeeded")
        assert self.sandbox_trade(payment["out_trade_no"]).refunded_fen == 3000
        group = self.group(group_id)
        assert (group.status, group.settled_at is not None) == ("failed", True)
        assert self.stock(self.goods) == 10 and self.campaign_item(campaign_id).stock_left == 10
        assert sorted(n["order_no"] for n in outbox("group_buy.failed")) == sorted(
            [started["order_no"], joined["order_no"]])

    def test_a_payment_arriving_after_its_order_was_cancelled_with_the_group_is_refunded(self):
        campaign_id = self.group_buy(price=2000, size=3, stock=10)
        alice, bob = self.token("alice"), self.token("bob")
        started = self.start_group(alice, campaign_id)
        group_id = started["group_buy"]["group_id"]
        joined = self.join_group(bob, group_id).json
        payment = self.start_payment(bob, joined["order_no"])
        gateways = self.extras["payment_gateways"]
        gateways["wechatpay"] = Unreachable(gateways["wechatpay"])  # its close is not answered
        self.expire_group(group_id)
        assert self.run_job(utcnow()) == {"failed": 1, "refunded": 0, "cancelled": 2}
        gateways["wechatpay"] = gateways["wechatpay"].gateway
        self.provider_pays(payment)  # Bob paid anyway
        [refund] = self.wait_for(lambda: [r for r in self.refunds(joined["order_no"])
                                          if r.status == "succeeded"])
        assert (refund.kind, refund.amount_fen) == ("stray_payment", payment["amount_fen"])
        assert self.sandbox_trade(payment["out_trade_no"]).refunded_fen == payment["amount_fen"]
        order = self.get_order(bob, joined["order_no"])
        assert (order["status"], order["paid_fen"]) == ("cancelled", 0)
        assert self.run_job(utcnow()) == {"failed": 0, "refunded": 0, "cancelled": 0}
        group = self.group(group_id)
        assert (group.status, group.seats_taken) == ("failed", 0)
        assert self.stock(self.goods) == 10 and self.campaign_item(campaign_id).stock_left == 10

    def test_a_campaign_ended_early_fails_its_open_groups(self):
        campaign_id = self.group_buy(price=2500, size=2)
        alice = self.token("alice")
        started = self.start_group(alice, campaign_id)
        self.pay(alice, started["order_no"])
        ended = self.api("POST", f"/api/v1/merchant/campaigns/{campaign_id}/end", {},
                         token=self.staff)
        assert ended.status == 200, ended.body
        self.assert_error(self.join_group(self.token("bob"), started["group_buy"]["group_id"]),
                          409, "GROUP_CLOSED")
        assert self.run_job(utcnow() + dt.timedelta(seconds=1))["failed"] == 1
        self.wait_for(lambda: Order.get(Order.order_no == started["order_no"]).status
                      == "refunded")
        assert [r.amount_fen for r in self.refunds(started["order_no"])] == [2500 + 1000]
