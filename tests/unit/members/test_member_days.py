"""Member day rules: which Asia/Shanghai days they name, the next one, who gets them."""
import datetime as dt

import pytest

from alliance.members.member_days import (MemberDayInvalid, MemberDayRule, clean_rule,
                                          next_midnight, offer_for, shanghai_day, summary)


def rule(**changes) -> MemberDayRule:
    terms = {"enabled": True, "weekdays": 0, "month_days": 0, "min_level": 0,
             "points_multiplier_pct": 200, "discount_percent": 0, "starts_on": None,
             "ends_on": None, **changes}
    return MemberDayRule(**terms)


def test_a_member_day_is_a_shanghai_calendar_day():
    wednesdays = rule(weekdays=1 << 3)
    # 2026-12-08T16:00Z is Wednesday 9 December 00:00 in Shanghai; a minute before, Tuesday.
    assert offer_for(wednesdays, 0, dt.datetime(2026, 12, 8, 16, 0)) is not None
    assert offer_for(wednesdays, 0, dt.datetime(2026, 12, 8, 15, 59)) is None
    assert shanghai_day(dt.datetime(2026, 12, 8, 16, 0)) == dt.date(2026, 12, 9)
    assert next_midnight(dt.datetime(2026, 12, 8, 15, 59)) == dt.datetime(2026, 12, 8, 16, 0)
    assert next_midnight(dt.datetime(2026, 12, 8, 16, 0)) == dt.datetime(2026, 12, 9, 16, 0)


def test_weekdays_and_days_of_the_month_both_count():
    either = rule(weekdays=1 << 7, month_days=1 << 15)  # Sundays and the 15th
    assert either.is_member_day(dt.date(2026, 12, 13))  # a Sunday
    assert either.is_member_day(dt.date(2026, 12, 15))  # a Tuesday, the 15th
    assert not either.is_member_day(dt.date(2026, 12, 14))


def test_the_next_member_day_skips_months_without_the_day_and_stops_at_the_window():
    thirty_first = rule(month_days=1 << 31)
    assert thirty_first.next_day(dt.date(2026, 11, 1)) == dt.date(2026, 12, 31)
    assert thirty_first.next_day(dt.date(2027, 2, 1)) == dt.date(2027, 3, 31)
    windowed = rule(weekdays=0b11111110, starts_on=dt.date(2027, 1, 5),
                    ends_on=dt.date(2027, 1, 6))
    assert windowed.next_day(dt.date(2026, 12, 1)) == dt.date(2027, 1, 5)
    assert windowed.next_day(dt.date(2027, 1, 7)) is None
    assert rule(weekdays=0b11111110, enabled=False).next_day(dt.date(2027, 1, 1)) is None


def test_members_below_the_rules_level_get_nothing():
    gold_only = rule(weekdays=0b11111110, min_level=2, discount_percent=5)
    now = dt.datetime(2026, 12, 8, 4, 0)
    assert offer_for(gold_only, 1, now) is None
    offer = offer_for(gold_only, 2, now)
    assert (offer.day, offer.points_multiplier_pct, offer.discount_percent) == (
        dt.date(2026, 12, 8), 200, 5)
    assert offer_for(None, 5, now) is None


def test_clean_rule_turns_the_days_into_bits_and_says_what_it_gives():
    cleaned = clean_rule({"weekdays": [3, 3, 7], "month_days": [1, 31],
                          "points_multiplier_pct": 150, "discount_percent": 12})
    assert (cleaned.weekdays, cleaned.month_days) == ((1 << 3) | (1 << 7), 2 | (1 << 31))
    assert summary(cleaned) == "积分1.5倍，再享8.8折"
    with pytest.raises(MemberDayInvalid):
        clean_rule("weekly")
