"""The helpers that turn what a client sends into query bounds, at the edges of the values a
request can carry (a cursor's keys, the calendar's first and last days)."""
import datetime as dt

import pytest

from alliance.clock import parse_iso
from alliance.errors import ValidationFailed
from alliance.orders.queries import day_range, utc_bounds
from alliance.paging import decode_cursor, decode_keys, encode_cursor


@pytest.mark.parametrize("keys", [[2 ** 63 - 1, -2 ** 63], ["7", 1.5], [None, [1], {"a": 1}]])
def test_keys_a_column_can_hold_come_back_as_they_were_sent(keys):
    assert decode_cursor(encode_cursor(*keys)) == keys


@pytest.mark.parametrize("keys", [[2 ** 63], [-2 ** 63 - 1], [1, 2 ** 64], [float("nan")],
                                  [float("inf")], [1.0, float("-inf")]])
def test_keys_no_column_holds_are_refused(keys):
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(encode_cursor(*keys))
    assert caught.value.details == {"field": "cursor"}


def test_a_number_beyond_floats_is_refused():
    import base64

    cursor = base64.urlsafe_b64encode(b"[1e400]").decode().rstrip("=")
    with pytest.raises(ValidationFailed):
        decode_keys(cursor, (float,))


def test_a_time_before_the_calendar_in_utc_is_a_value_error():
    with pytest.raises(ValueError):
        parse_iso("0001-01-01T00:00:00+08:00")
    assert parse_iso("0001-01-01T08:00:00+08:00") == dt.datetime(1, 1, 1)
    assert parse_iso("9999-12-31T23:59:59") == dt.datetime(9999, 12, 31, 15, 59, 59)


def test_the_calendars_ends_bound_a_day_range_with_the_earliest_and_latest_times():
    first_start, first_end = utc_bounds(dt.date(1, 1, 1), dt.date(1, 1, 1))
    assert first_start == dt.datetime.min and dt.datetime(1, 1, 1) < first_end < dt.datetime(1, 1, 2)
    assert utc_bounds(dt.date(9999, 12, 31), dt.date.max) == (dt.datetime(9999, 12, 30, 16),
                                                             dt.datetime.max)
    assert utc_bounds(dt.date(2026, 12, 7), dt.date(2026, 12, 7)) == (
        dt.datetime(2026, 12, 6, 16), dt.datetime(2026, 12, 7, 16))


def test_a_default_range_before_the_first_day_starts_on_it():
    assert day_range(None, "0001-01-02", max_days=31) == (dt.date(1, 1, 1), dt.date(1, 1, 2))
    assert day_range(None, "2026-12-07", max_days=31) == (dt.date(2026, 12, 1),
                                                          dt.date(2026, 12, 7))
