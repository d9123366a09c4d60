import pytest

from alliance.errors import ValidationFailed
from alliance.merchants.browse import list_merchants
from alliance.merchants.geo import haversine_m
from tests.factories import DEMO_POINT, make_merchant, make_shop

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
