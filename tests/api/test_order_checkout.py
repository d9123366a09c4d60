"""Checkout at the HTTP level: server-side prices, the basket's rules, reservations that
fail as a whole, idempotent creation, the quote and the cart."""
from unittest import mock

from alliance.catalog.models import CatalogItem
from alliance.db import connection, is_mysql
from alliance.members.services import record_visit, set_level_rules
from alliance.orders import checkout
from alliance.orders.models import Order
from tests.factories import make_item, make_merchant
from tests.orders_support import OrderTestCase
from tests.support import pipelined_round_trips, recorded_round_trips, recorded_sql


class CheckoutTest(OrderTestCase):
    def setUp(self):
        super().setUp()
        self.buyer = self.token("alice")

    def post(self, items, **extra):
        return self.api("POST", "/api/v1/orders", {"items": items, **extra}, token=self.buyer)

    def orders_count(self) -> int:
        with connection():
            return Order.select().count()

    def test_prices_come_from_the_database(self):
        response = self.post([{"item_id": self.goods.id, "quantity": 1, "price_fen": 1}])
        assert response.json["items"][0]["unit_price_fen"] == 3000
        assert response.json["payable_fen"] == 4000

    def test_items_of_two_merchants_are_refused(self):
        with connection():
            other = make_item(make_merchant(), price_fen=100)
        response = self.post([{"item_id": self.goods.id, "quantity": 1},
                              {"item_id": other.id, "quantity": 1}])
        self.assert_error(response, 422, "ORDER_MULTIPLE_MERCHANTS")

    def test_goods_and_services_together_are_refused(self):
        response = self.post([{"item_id": self.goods.id, "quantity": 1},
                              {"item_id": self.service.id, "quantity": 1}])
        self.assert_error(response, 422, "ORDER_KINDS_MIXED")

    def test_unknown_or_off_shelf_items_are_not_found(self):
        with connection():
            hidden = make_item(self.merchant, status="off_shelf")
        self.assert_error(self.post([{"item_id": 999999, "quantity": 1}]), 404, "ITEM_NOT_FOUND")
        self.assert_error(self.post([{"item_id": hidden.id, "quantity": 1}]), 404, "ITEM_NOT_FOUND")

    def test_out_of_stock_changes_nothing(self):
        self.give_points("alice", 1000)
        response = self.post([{"item_id": self.goods.id, "quantity": 11}], points=100)
        self.assert_error(response, 409, "OUT_OF_STOCK")
        assert (self.stock(self.goods), self.balance("alice"), self.orders_count()) == (10, 1000, 0)

    def test_malformed_baskets_are_refused(self):
        self.assert_error(self.post([]), 400, "VALIDATION_FAILED")
        self.assert_error(self.post([{"item_id": self.goods.id, "quantity": 0}]), 400,
                          "VALIDATION_FAILED")
        self.assert_error(self.post([{"item_id": "x", "quantity": 1}]), 400, "VALIDATION_FAILED")

    def test_points_beyond_the_cap_or_the_balance_are_refused(self):
        self.give_points("alice", 100)
        self.assert_error(self.post([{"item_id": self.goods.id, "quantity": 1}], points=1501),
                          422, "POINTS_EXCEED_LIMIT")
        self.assert_error(self.post([{"item_id": self.goods.id, "quantity": 1}], points=101),
                          409, "POINTS_INSUFFICIENT")

    def test_coupon_discounts_and_is_held_by_the_order(self):
        coupon_id = self.give_coupon("alice", discount_fen=800, threshold_fen=3000)
        created = self.post([{"item_id": self.goods.id, "quantity": 1}], coupon_id=coupon_id).json
        assert (created["discount_fen"], created["payable_fen"], created["coupon_ids"]) == (
            800, 3200, [coupon_id])
        assert self.coupon_status(coupon_id) == "locked"
        again = self.post([{"item_id": self.goods.id, "quantity": 1}], coupon_id=coupon_id)
        self.assert_error(again, 409, "COUPON_NOT_USABLE")
        self.provider_pays(self.start_payment(self.buyer, created["order_no"]))
        assert self.coupon_status(coupon_id) == "used"

    def test_coupon_below_its_threshold_or_of_someone_else_is_refused(self):
        coupon_id = self.give_coupon("alice", discount_fen=800, threshold_fen=5000)
        self.assert_error(self.post([{"item_id": self.goods.id, "quantity": 1}],
                                    coupon_id=coupon_id), 409, "COUPON_THRESHOLD_NOT_MET")
        bobs = self.give_coupon("bob", discount_fen=100)
        self.assert_error(self.post([{"item_id": self.goods.id, "quantity": 1}], coupon_id=bobs),
                          404, "COUPON_NOT_FOUND")

    def test_member_level_discount_applies(self):
        with connection():
            set_level_rules(self.merchant.id, [{"name": "银卡", "min_spent_fen": 100,
                                                "discount_percent": 5,
                                                "points_multiplier_pct": 200}])
            record_visit(self.user_id("alice"), self.merchant.id, spent_fen=100)
        quote = self.api("POST", "/api/v1/orders/quote",
                         {"items": [{"item_id": self.goods.id, "quantity": 3}]}, token=self.buyer).json
        assert (quote["level_discount_percent"], quote["level_discount_fen"],
                quote["payable_fen"], quote["earn_points"]) == (5, 450, 9550, 170)
        assert self.orders_count() == 0 and self.stock(self.goods) == 10

    def test_same_idempotency_key_places_one_order(self):
        body = {"items": [{"item_id": self.goods.id, "quantity": 2}]}
        headers = {"Idempotency-Key": "checkout-1"}
        first = self.api("POST", "/api/v1/orders", body, token=self.buyer, headers=headers)
        second = self.api("POST", "/api/v1/orders", body, token=self.buyer, headers=headers)
        assert first.status == second.status == 201
        assert first.json["order_no"] == second.json["order_no"]
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert (self.orders_count(), self.stock(self.goods)) == (1, 8)

    def test_order_numbers_fit_the_providers(self):
        created = self.order(self.buyer)
        assert len(created["order_no"]) <= 32 and created["order_no"].isalnum()
        payment = self.start_payment(self.buyer, created["order_no"])
        assert 6 <= len(payment["out_trade_no"]) <= 32

    def test_a_taken_order_number_is_drawn_again_in_the_same_transaction(self):
        first = self.order(self.buyer)["order_no"]
        numbers = iter([first, "20261206120000123456"])
        with mock.patch.object(checkout, "new_order_no", lambda: next(numbers)):
            second = self.post([{"item_id": self.goods.id, "quantity": 1}])
        assert second.status == 201 and second.json["order_no"] == "20261206120000123456"
        assert second.json["merchant_name"] == self.merchant.name
        assert (self.orders_count(), self.stock(self.goods)) == (2, 8)

    def test_placing_an_order_reads_only_its_lines_after_its_transaction(self):
        # On MySQL every statement is a round trip: the merchant the pricing read answers
        # the view, an unpaid order has no service code to read, and a colliding number
        # needs no savepoint.
        with recorded_sql() as statements:
            created = self.post([{"item_id": self.service.id, "quantity": 1}])
        assert created.status == 201 and created.json["merchant_name"] == self.merchant.name
        insert = next(s for s in statements if s.sql.startswith('INSERT INTO "orders"'))
        mine = [s for s in statements if s.thread == insert.thread]
        assert not [s.sql for s in mine if s.sql.split(" ", 1)[0] in ("SAVEPOINT", "RELEASE")]
        after = [s.sql for s in mine[mine.index(insert):] if not s.in_transaction]
        assert len(after) == 1 and 'FROM "order_line"' in after[0], after

    def test_placing_an_order_sends_its_writes_to_mysql_together(self):
        # On MySQL every round trip costs more than most statements' own work: the items
        # are read with their merchant, the order's INSERT goes when its key is read, its
        # line, the stock it takes and the cart's DELETE in one round trip, then the COMMIT
        # (BEGIN goes with the first read; 10 round trips before).
        if not is_mysql():
            self.skipTest("SQLite has no round trips")
        with recorded_round_trips() as sent:
            created = self.post([{"item_id": self.goods.id, "quantity": 2}])
        assert created.status == 201, created.json
        trips = pipelined_round_trips(sent)
        assert len(trips) == 5, trips  # the item with its merchant, the buyer's terms, then:
        assert "JOIN `merchant`" in trips[0]
        assert trips[2].startswith("INSERT INTO `orders`") and ";" not in trips[2]
        assert [part.split(" ", 3)[:3] for part in trips[3].split(";")] == [
            ["INSERT", "INTO", "`order_line`"], ["UPDATE", "`catalog_item`", "SET"],
            ["DELETE", "FROM", "`cart_item`"]], trips[3]
        assert self.stock(self.goods) == 8

    def test_an_item_sold_out_meanwhile_is_answered_as_before(self):
        # The pipelined stock UPDATE matching no row runs the order again plainly: 409, the
        # points and the cart untouched, no order.
        self.give_points("alice", 1000)
        self.api("PUT", f"/api/v1/cart/items/{self.goods.id}", {"quantity": 1}, token=self.buyer)
        with connection():
            CatalogItem.update(stock=1).where(CatalogItem.id == self.goods.id).execute()
        response = self.post([{"item_id": self.goods.id, "quantity": 2}], points=100)
        self.assert_error(response, 409, "OUT_OF_STOCK")
        assert (self.stock(self.goods), self.balance("alice"), self.orders_count()) == (1, 1000, 0)
        cart = self.api("GET", "/api/v1/cart", token=self.buyer).json
        assert [i["item_id"] for i in cart["items"]] == [self.goods.id]

    def test_cart_keeps_items_until_they_are_ordered(self):
        put = self.api("PUT", f"/api/v1/cart/items/{self.goods.id}", {"quantity": 2}, token=self.buyer)
        assert put.status == 200 and [i["quantity"] for i in put.json["items"]] == [2]
        self.api("PUT", f"/api/v1/cart/items/{self.service.id}", {"quantity": 1}, token=self.buyer)
        self.assert_error(self.api("PUT", "/api/v1/cart/items/999999", {"quantity": 1},
                                   token=self.buyer), 404, "ITEM_NOT_FOUND")
        self.order(self.buyer, quantity=2)
        cart = self.api("GET", "/api/v1/cart", token=self.buyer).json
        assert [i["item_id"] for i in cart["items"]] == [self.service.id]
        removed = self.api("DELETE", f"/api/v1/cart/items/{self.service.id}", token=self.buyer)
        assert removed.json["items"] == []

    def test_my_orders_are_listed_newest_first_with_a_cursor(self):
        numbers = [self.order(self.buyer)["order_no"] for _ in range(3)]
        first = self.api("GET", "/api/v1/orders?limit=2", token=self.buyer).json
        rest = self.api("GET", f"/api/v1/orders?limit=2&cursor={first['next_cursor']}",
                        token=self.buyer).json
        assert [o["order_no"] for o in first["items"] + rest["items"]] == numbers[::-1]
        assert rest["next_cursor"] is None
        self.assert_error(self.api("GET", "/api/v1/orders?status=lost", token=self.buyer), 400,
                          "VALIDATION_FAILED")
