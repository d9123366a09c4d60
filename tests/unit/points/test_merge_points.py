from alliance.accounts.merge import merge_users
from alliance.accounts.models import User
from alliance.points import services as points
from alliance.points.models import PointsAccount, PointsEntry


def test_merge_adds_points_of_both_sides_and_keeps_the_lots_spendable(database):
    a, b = User.create(nickname="a"), User.create(nickname="b")
    points.earn(a.id, 100, merchant_id=1, idempotency_key="a-earn")
    points.spend(a.id, 30, merchant_id=3, idempotency_key="a-spend")
    points.earn(b.id, 50, merchant_id=2, idempotency_key="b-earn")
    merge_users(a.id, b.id, "sms")
    account = PointsAccount.get(PointsAccount.user_id == b.id)
    assert account.balance == 120 and account.lifetime_earned == 150
    assert not PointsAccount.select().where(PointsAccount.user_id == a.id).exists()
    assert not PointsEntry.select().where(PointsEntry.user_id == a.id).exists()
    points.spend(b.id, 120, merchant_id=3, idempotency_key="b-spend-all")
    assert PointsAccount.get(PointsAccount.user_id == b.id).balance == 0
