"""The lottery's pieces below HTTP: the weighted pick, and what an account merge does with
a user's draws and counts."""
import datetime as dt
from unittest import mock

import pytest

from alliance.accounts.merge import merge_users
from alliance.accounts.operators import create_operator
from alliance.lottery import draws, services
from alliance.lottery.models import LotteryDraw, LotteryEntrant, LotteryPrize
from alliance.points import services as points
from tests.factories import make_user
from tests.lottery_support import lottery_body


def test_the_pick_is_proportional_to_the_weights_and_skips_weightless_prizes():
    prizes = [LotteryPrize(id=1, weight=0), LotteryPrize(id=2, weight=2),
              LotteryPrize(id=3, weight=0), LotteryPrize(id=4, weight=1)]
    with mock.patch("alliance.lottery.draws.secrets.randbelow", side_effect=[0, 1, 2]):
        assert [draws.pick(prizes).id for _ in range(3)] == [2, 2, 4]
    counts = {2: 0, 4: 0}
    for _ in range(3000):
        counts[draws.pick(prizes).id] += 1
    assert 1800 < counts[2] < 2200  # 2/3 of 3000, far outside chance otherwise


def _lottery(activate: bool = False):
    operator = create_operator("ops-lottery", "correct-horse-42", "operator")
    lottery = services.create_lottery(lottery_body(), operator_id=operator.id)
    if activate:
        services.activate_lottery(lottery.id, operator_id=operator.id)
    return lottery


def test_a_merge_moves_draws_and_adds_up_counts(database):
    lottery = _lottery(activate=True)
    source, target = make_user(), make_user()
    for user in (source, target):
        points.earn(user.id, 100, merchant_id=None, idempotency_key=f"gift:{user.id}")
    draws.draw(lottery.id, source.id, "k1")
    draws.draw(lottery.id, source.id, "k2")
    draws.draw(lottery.id, target.id, "k1")
    merge_users(source.id, target.id, "test")
    keys = sorted(d.request_key for d in LotteryDraw.select().where(
        LotteryDraw.user_id == target.id))
    assert keys == ["k1", "k2", f"merged-{source.id}:k1"]
    [entrant] = LotteryEntrant.select()
    assert (entrant.user_id, entrant.draws, entrant.day_draws) == (target.id, 3, 3)
    # The survivor's own key still answers its own draw.
    assert draws.draw(lottery.id, target.id, "k1").replayed


def test_a_merge_keeps_the_later_days_count(database):
    lottery = _lottery()
    source, target = make_user(), make_user()
    today = dt.date(2026, 12, 7)
    LotteryEntrant.create(lottery_id=lottery.id, user_id=source.id, draws=4,
                          day=today - dt.timedelta(days=1), day_draws=4)
    LotteryEntrant.create(lottery_id=lottery.id, user_id=target.id, draws=1, day=today,
                          day_draws=1)
    merge_users(source.id, target.id, "test")
    [entrant] = LotteryEntrant.select()
    assert (entrant.user_id, entrant.draws, entrant.day, entrant.day_draws) == (
        target.id, 5, today, 1)


@pytest.mark.parametrize("delta", [0, None])
def test_restock_refuses_a_missing_or_zero_delta(database, delta):
    from alliance.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        services.restock_prize(1, 1, 1, {"delta": delta})
