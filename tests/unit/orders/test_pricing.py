"""Checkout pricing: every rule of alliance/orders/pricing.py, in fen."""
from alliance.orders import pricing
from alliance.orders.pricing import LineInput, allocate, quote


def goods(price: int, quantity: int = 1, item_id: int = 1) -> LineInput:
    return LineInput(item_id, f"商品{item_id}", "goods", price, quantity)


def test_quote_adds_shipping_below_the_free_threshold():
    result = quote([goods(3000, 2)], "goods")
    assert (result.items_fen, result.shipping_fen, result.total_fen, result.payable_fen) == (
        6000, pricing.SHIPPING_FEN, 7000, 7000)


def test_quote_ships_free_from_the_threshold_after_discounts():
    assert quote([goods(9900)], "goods").shipping_fen == 0
    # 10 000 less a 5 % level discount is 9 500: below 99 yuan, so shipping is charged.
    assert quote([goods(10000)], "goods", level_percent_off=5).shipping_fen == pricing.SHIPPING_FEN


def test_quote_never_ships_services():
    service = LineInput(1, "精剪", "service", 100, 1)
    assert quote([service], "service").shipping_fen == 0


def test_quote_level_discount_rounds_down():
    result = quote([goods(999)], "goods", level_percent_off=5)
    assert result.level_discount_fen == 49  # 49.95 rounded down


def test_quote_caps_the_coupon_so_one_fen_is_left_to_pay():
    result = quote([goods(500)], "goods", coupon_discount_fen=800)
    assert (result.coupon_discount_fen, result.payable_fen - result.shipping_fen) == (499, 1)


def test_quote_caps_points_at_half_of_what_is_left():
    result = quote([goods(2001)], "goods", coupon_discount_fen=1, points=5000)
    assert (result.max_points, result.points_used, result.points_discount_fen) == (1000, 1000, 1000)


def test_quote_total_minus_discount_is_payable():
    result = quote([goods(1234, 3, 1), goods(999, 1, 2)], "goods", level_percent_off=7,
                   coupon_discount_fen=321, points=400)
    assert result.discount_fen == (result.level_discount_fen + result.coupon_discount_fen
                                   + result.points_discount_fen)
    assert result.payable_fen == result.total_fen - result.discount_fen
    assert sum(line.discount_fen for line in result.lines) == result.discount_fen
    assert all(line.payable_fen == line.amount_fen - line.discount_fen for line in result.lines)


def test_quote_earns_a_point_per_whole_yuan_of_items_times_the_multiplier():
    assert quote([goods(3050, 2)], "goods").earn_points == 61
    assert quote([goods(3050, 2)], "goods", multiplier_pct=150).earn_points == 91


def test_allocate_shares_exactly_by_largest_remainder():
    assert allocate(10, [1, 1, 1]) == [4, 3, 3]
    assert allocate(100, [3000, 1000]) == [75, 25]
    assert allocate(7, [0, 0]) == [0, 0]
    assert sum(allocate(999, [17, 23, 41, 1])) == 999


def test_member_day_discount_applies_after_the_level_discount_rounding_down():
    # Level: floor(3333 x 15 %) = floor(499.95) = 499, 2834 left; member day:
    # floor(2834 x 7 %) = floor(198.38) = 198 (added to the level's percent: 733).
    result = quote([goods(3333)], "goods", level_percent_off=15, member_day_percent_off=7)
    assert (result.level_discount_fen, result.member_day_discount_fen) == (499, 198)
    assert (result.discount_fen, result.payable_fen) == (697, 2636 + pricing.SHIPPING_FEN)
    assert result.breakdown()["member_day"] == {"discount_fen": 198, "discount_percent": 7,
                                                "points_multiplier_pct": 100}


def test_member_day_multiplier_multiplies_the_levels_and_rounds_once():
    # 26 whole yuan x 125 % x 150 % = 48.75 -> 48; 7 x 110 % x 190 % = 14.63 -> 14, where
    # rounding the level's step first would give 7 x 190 % = 13.3 -> 13.
    assert quote([goods(2636)], "goods", multiplier_pct=125,
                 member_day_multiplier_pct=150).earn_points == 48
    assert quote([goods(700)], "goods", multiplier_pct=110,
                 member_day_multiplier_pct=190).earn_points == 14
    assert quote([goods(700)], "goods").breakdown()["member_day"] is None


def test_member_day_discount_counts_before_coupons_shipping_and_the_line_shares():
    lines = [goods(6000, item_id=1), goods(4000, item_id=2)]
    result = quote(lines, "goods", level_percent_off=10, member_day_percent_off=10,
                   coupon_discount_fen=10_000)
    # 10000 -> 9000 -> 8100; the coupon is capped to leave 1 fen; shipping below 99 yuan.
    assert (result.member_day_discount_fen, result.coupon_discount_fen) == (900, 8099)
    assert result.shipping_fen == pricing.SHIPPING_FEN
    assert sum(line.discount_fen for line in result.lines) == result.discount_fen == 9999
