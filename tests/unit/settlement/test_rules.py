"""The arithmetic of settlement: periods in Asia/Shanghai, the platform commission rounded
half up, and its give-back by refunds that adds up to exactly what was charged."""
import datetime as dt
import itertools
import random

import pytest

from alliance.settlement.periods import PeriodInvalid, period_containing, period_of
from alliance.settlement.platform_commission import (commission_of, configure_platform_rate,
                                                     give_back)
from config.settings import ConfigurationError, load_settings
from tests.support import VAR_DIR


def settings(**env):
    return load_settings({"ALLIANCE_VAR_DIR": str(VAR_DIR), **env}, use_dotenv=False)


def test_a_period_is_a_shanghai_month_in_utc():
    november = period_of("2026-11")
    assert (november.start, november.end) == (dt.datetime(2026, 10, 31, 16), dt.datetime(2026, 11, 30, 16))
    assert period_of("2026-12").end == dt.datetime(2026, 12, 31, 16)
    assert period_of("2027-01").previous().name == "2026-12"
    assert period_containing(dt.datetime(2026, 10, 31, 16)).name == "2026-11"
    assert period_containing(dt.datetime(2026, 10, 31, 15, 59, 59)).name == "2026-10"


@pytest.mark.parametrize("name", ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", " 2026-11",
                                  "1999-12", "9999-12", "", None, 202611, "２０２６-11"])
def test_a_malformed_period_is_refused(name):
    with pytest.raises(PeriodInvalid) as refused:
        period_of(name)
    assert (refused.value.code, refused.value.http_status) == ("PERIOD_INVALID", 400)


def test_the_commission_rounds_half_up():
    assert [commission_of(paid, 100) for paid in (49, 50, 149, 150, 0)] == [0, 1, 1, 2, 0]
    assert commission_of(12_345, 10_000) == 12_345 and commission_of(12_345, 0) == 0


def test_refunds_give_back_the_commission_in_full_whatever_the_split():
    rng = random.Random(7)
    for _ in range(2000):
        paid = rng.randint(1, 100_000)
        charged = commission_of(paid, rng.randint(0, 10_000))
        cuts = sorted(rng.sample(range(1, paid), min(paid - 1, rng.randint(0, 5))))
        refunded = [0, *cuts, paid]
        backs = [give_back(charged, paid, a, b) for a, b in itertools.pairwise(refunded)]
        assert all(back >= 0 for back in backs) and sum(backs) == charged
        partial = refunded[:-1]  # stopped before everything came back: never more than charged
        assert sum(give_back(charged, paid, a, b) for a, b in itertools.pairwise(partial)) <= charged


def test_a_rate_outside_basis_points_is_refused():
    with pytest.raises(ValueError):
        configure_platform_rate(10_001)
    assert settings(ALLIANCE_PLATFORM_COMMISSION_BP="250").platform_commission_bp == 250
    assert settings().platform_commission_bp == 0
    for value in ("10001", "-1", "five"):
        with pytest.raises(ConfigurationError):
            settings(ALLIANCE_PLATFORM_COMMISSION_BP=value)
