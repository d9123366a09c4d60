import datetime as dt

import pytest

from alliance.errors import ValidationFailed
from alliance.merchants.hours import is_open, open_changes_by, validate_hours

# 2026-11-30 is a Monday; Shanghai is UTC+8.
MONDAY_NOON_UTC = dt.datetime(2026, 11, 30, 4, 0)


def test_open_within_an_interval_and_closed_outside():
    hours = {"mon": [["09:00", "14:00"], ["17:00", "22:00"]]}
    assert is_open(hours, MONDAY_NOON_UTC)
    assert not is_open(hours, MONDAY_NOON_UTC + dt.timedelta(hours=3))  # 15:00 local


def test_interval_past_midnight_opens_early_next_day():
    hours = {"sun": [["18:00", "02:00"]]}
    monday_0130_local = dt.datetime(2026, 11, 29, 17, 30)  # Monday 01:30 in Shanghai
    assert is_open(hours, monday_0130_local)
    assert not is_open(hours, monday_0130_local + dt.timedelta(hours=1))


def test_missing_day_is_closed():
    assert not is_open({"tue": [["00:00", "24:00"]]}, MONDAY_NOON_UTC)


@pytest.mark.parametrize("value", [{"mon": [["9:00", "14:00"]]}, {"monday": []},
                                   {"mon": [["10:00", "10:00"]]}, [], {"mon": "09:00-21:00"}])
def test_bad_schedules_are_rejected(value):
    with pytest.raises(ValidationFailed) as error:
        validate_hours(value)
    assert error.value.details["field"] == "opening_hours"


def test_open_changes_by_finds_the_first_minute_the_state_flips():
    schedule = {"mon": [["10:00", "22:00"]]}
    before_ten = dt.datetime(2026, 11, 30, 1, 59, 30)  # Monday 09:59:30 in Shanghai
    assert open_changes_by(schedule, before_ten, before_ten + dt.timedelta(seconds=60)) \
        == dt.datetime(2026, 11, 30, 2, 0)
    assert open_changes_by(schedule, before_ten, before_ten + dt.timedelta(seconds=20)) is None
    noon = dt.datetime(2026, 11, 30, 4, 0)
    assert open_changes_by(schedule, noon, noon + dt.timedelta(minutes=5)) is None
    closing = dt.datetime(2026, 11, 30, 13, 58, 10)  # 21:58:10
    assert open_changes_by(schedule, closing, closing + dt.timedelta(minutes=5)) \
        == dt.datetime(2026, 11, 30, 14, 0)
