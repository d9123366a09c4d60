import random

import pytest

from alliance.errors import ValidationFailed
from alliance.merchants.browse import list_merchants
from alliance.merchants.geo import haversine_m, lat_band
from alliance.merchants.models import Shop
from alliance.merchants.shops import update_shop
from tests.factories import DEMO_POINT, make_merchant, make_shop, nearest_by_hand

LAT, LNG = DEMO_POINT


def _ids(result):
    return [m["id"] for m in result["items"]]


def _place(distance_north_m: float, **merchant):
    merchant = make_merchant(**merchant)
    make_shop(merchant, LAT + distance_north_m / 111_195, LNG)
    return merchant


def test_nearest_first_orders_by_distance_to_the_nearest_shop(database):
    far, near, middle = _place(3000), _place(200), _place(900)
    make_shop(far, LAT - 50 / 111_195, LNG)  # far's second shop is the closest of all
    result = list_merchants(lat=LAT, lng=LNG)
    assert _ids(result) == [far.id, near.id, middle.id]
    assert [m["distance_m"] for m in result["items"]] == [50, 200, 900]


def test_distance_pages_neither_overlap_nor_skip(database):
    placed = [_place(100 * i + 50) for i in range(25)]
    seen, cursor = [], None
    while True:
        result = list_merchants(lat=LAT, lng=LNG, limit=7, cursor=cursor)
        seen += _ids(result)
        cursor = result["next_cursor"]
        if cursor is None:
            break
    assert seen == [m.id for m in placed]


def _all_pages(lat: float, lng: float, limit: int) -> list[tuple[int, int]]:
    """(merchant id, distance_m) of every page of the nearest-first list, in order."""
    seen, cursor = [], None
    while True:
        result = list_merchants(lat=lat, lng=lng, limit=limit, cursor=cursor)
        seen += [(m["id"], m["distance_m"]) for m in result["items"]]
        cursor = result["next_cursor"]
        if cursor is None:
            return seen


def test_distance_pages_across_latitude_bands_follow_the_exact_distance(database):
    rng = random.Random(5)
    merchants = [make_merchant() for _ in range(30)]
    for n in range(90):  # shops within about 6 km: a dozen latitude bands, every direction
        make_shop(merchants[n % 30], LAT + rng.uniform(-0.055, 0.055),
                  LNG + rng.uniform(-0.065, 0.065))
    for edge in (3118, 3122, 3123, 3127):  # and shops exactly on band edges
        make_shop(merchants[edge % 30], edge / 100, LNG + 0.001)
    for lat, lng in ((LAT, LNG), (31.23, LNG), (31.2, 121.5), (LAT + 0.05, LNG - 0.06)):
        expected = nearest_by_hand(lat, lng)
        assert len(expected) == 30
        for limit in (1, 7, 20):
            assert _all_pages(lat, lng, limit) == expected


def test_shops_exactly_on_a_band_edge_are_found_from_either_side(database):
    on_edge = make_merchant()
    make_shop(on_edge, 31.22, LNG)
    assert lat_band(31.22) != lat_band(31.22 - 1e-9)
    for lat in (31.22, 31.22 - 1e-9, 31.22 + 1e-9, 31.2195, 31.2205):
        assert _ids(list_merchants(lat=lat, lng=LNG)) == [on_edge.id]


@pytest.mark.parametrize("lat, lng, shops", [
    (89.95, 0.0, [(89.99, 170.0), (89.96, -100.0), (90.0, 0.0), (89.2, 0.0)]),
    (-89.99, 120.0, [(-90.0, 0.0), (-89.98, -60.0), (-89.5, 120.0)]),
    (0.0, 179.995, [(0.0, -179.995), (0.001, 179.999), (-0.001, 180.0), (0.0, -180.0)]),
    (31.0, -180.0, [(31.0, 179.99), (31.0, -179.99), (31.5, 180.0)]),
])
def test_searches_near_the_poles_and_the_antimeridian_find_shops_across_them(database, lat, lng,
                                                                          shops):
    for shop_lat, shop_lng in shops:
        make_shop(make_merchant(), shop_lat, shop_lng)
    expected = nearest_by_hand(lat, lng)
    assert len(expected) == len(shops)
    assert _all_pages(lat, lng, 2) == expected


def test_a_moved_shop_is_found_at_its_new_place(database):
    merchant = make_merchant()
    shop = make_shop(merchant, LAT, LNG)
    new_lat = LAT + 0.3  # 33 km north, 30 latitude bands away
    neighbours = [_place(0.3 * 111_195 + north) for north in (500, 800)]
    update_shop(merchant.id, shop.id, None, {"lat": new_lat, "lng": LNG})
    result = list_merchants(lat=new_lat, lng=LNG, limit=1)
    assert _ids(result) == [merchant.id] and result["items"][0]["distance_m"] == 0
    assert _all_pages(new_lat, LNG, 1) == [(merchant.id, 0), (neighbours[0].id, 500),
                                           (neighbours[1].id, 800)]


def test_distance_sort_grows_the_box_until_the_page_is_full(database):
    near, far = _place(300), _place(40_000)
    assert _ids(list_merchants(lat=LAT, lng=LNG)) == [near.id, far.id]


def test_merchants_beyond_the_nearby_horizon_are_left_out_of_distance_order(database):
    near, _ = _place(300), _place(150_000)
    assert _ids(list_merchants(lat=LAT, lng=LNG)) == [near.id]


def test_unapproved_merchants_are_not_listed(database):
    listed = _place(100)
    _place(200, status="pending")
    _place(300, status="suspended")
    _place(400, status="rejected")
    assert _ids(list_merchants(lat=LAT, lng=LNG)) == [listed.id]
    assert _ids(list_merchants()) == [listed.id]


def test_closed_shops_are_not_nearby_but_their_merchant_stays_popular(database):
    merchant = make_merchant()
    make_shop(merchant, LAT, LNG + 0.001, status="closed")
    assert _ids(list_merchants(lat=LAT, lng=LNG)) == []
    assert _ids(list_merchants()) == [merchant.id]


def test_industry_and_name_filter_both_orders(database):
    noodles = _place(500, industry="catering", name="老街面馆")
    _place(100, industry="catering", name="咖啡馆")
    _place(50, industry="entertainment", name="面面影城")
    assert _ids(list_merchants(lat=LAT, lng=LNG, industry="catering", q="面")) == [noodles.id]
    assert _ids(list_merchants(industry="catering", q="面")) == [noodles.id]
    cafe = _ids(list_merchants(lat=LAT, lng=LNG, q="咖啡"))
    assert _ids(list_merchants(lat=LAT, lng=LNG, industry="catering")) == cafe + [noodles.id]
    assert _ids(list_merchants(lat=LAT, lng=LNG, industry="catering", limit=1,
                               cursor=list_merchants(lat=LAT, lng=LNG, industry="catering",
                                                     limit=1)["next_cursor"])) == [noodles.id]


def test_name_search_treats_wildcards_literally(database):
    _place(100, name="百分百")
    assert _ids(list_merchants(q="%")) == []


def test_popular_orders_by_popularity_with_distance_when_located(database):
    low, high = _place(100, popularity=5), _place(900, popularity=50)
    result = list_merchants(lat=LAT, lng=LNG, sort="popular")
    assert _ids(result) == [high.id, low.id]
    assert result["items"][0]["distance_m"] == 900
    assert "distance_m" not in list_merchants(sort="popular")["items"][0]


def test_popular_pages_neither_overlap_nor_skip(database):
    merchants = [_place(100, popularity=i % 3) for i in range(10)]
    first = list_merchants(limit=4)
    second = list_merchants(limit=4, cursor=first["next_cursor"])
    third = list_merchants(limit=4, cursor=second["next_cursor"])
    assert third["next_cursor"] is None
    assert sorted(_ids(first) + _ids(second) + _ids(third)) == sorted(m.id for m in merchants)


def test_rating_is_null_until_reviewed(database):
    from alliance.merchants.aggregates import record_rating

    merchant = _place(100)
    assert list_merchants()["items"][0]["rating"] is None
    record_rating(merchant.id, 5)
    record_rating(merchant.id, 4)
    assert list_merchants()["items"][0]["rating"] == 4.5


@pytest.mark.parametrize("kwargs, field", [
    ({"sort": "distance"}, "lat"), ({"lat": LAT}, "lng"), ({"industry": "banking"}, "industry"),
    ({"sort": "cheapest"}, "sort"),
])
def test_bad_browse_arguments_name_the_field(database, kwargs, field):
    with pytest.raises(ValidationFailed) as error:
        list_merchants(**kwargs)
    assert error.value.details["field"] == field


def test_forged_cursor_is_refused(database):
    with pytest.raises(ValidationFailed) as error:
        list_merchants(lat=LAT, lng=LNG, cursor="not-a-cursor")
    assert error.value.details == {"field": "cursor"}
    with pytest.raises(ValidationFailed):
        list_merchants(lat=LAT, lng=LNG, cursor="WyJ4IiwxXQ")  # ["x", 1]


def test_haversine_matches_a_known_distance():
    # People's Square to the Bund (about 1.5 km).
    assert 1_400 < haversine_m(31.2304, 121.4737, 31.2400, 121.4900) < 1_900
