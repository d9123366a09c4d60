"""The referral reward over HTTP: the invitee arrives with the referrer's scene, orders and
pays through the provider's stand-in; the referrer earns the reward once."""
from alliance.db import connection
from alliance.notifications.models import OutboxMessage
from alliance.points.models import PointsEntry
from alliance.referrals.models import ReferralReward
from tests.orders_support import OrderTestCase


class ReferralRewardTest(OrderTestCase):
    def scene_of(self, token: str) -> str:
        response = self.api("GET", "/api/v1/me/referral-qrcode?format=svg", token=token)
        assert response.status == 200, response.body
        return response.headers["X-Referral-Scene"]

    def arrive(self, token: str, scene: str) -> dict:
        response = self.api("POST", "/api/v1/me/attribution", {"scene": scene}, token=token)
        assert response.status in (200, 201), response.body
        return response.json

    def rewards_of(self, name: str) -> list[int]:
        user_id = self.user_id(name)
        with connection():
            return [e.amount for e in PointsEntry.select().where(
                PointsEntry.user_id == user_id, PointsEntry.ref_type == "referral_reward")]

    def reward_notices(self) -> int:
        with connection():
            return (OutboxMessage.select()
                    .where(OutboxMessage.event == "referral.rewarded").count())

    def test_first_paid_order_rewards_the_referrer_once_despite_duplicates(self):
        alice, bob = self.token("alice"), self.token("bob")
        assert self.arrive(bob, self.scene_of(alice))["attributed"] is True
        order = self.order(bob)
        self.provider_pays(self.start_payment(bob, order["order_no"]), duplicates=3)
        assert self.get_order(bob, order["order_no"])["status"] == "paid"
        assert self.rewards_of("alice") == [self.settings.referral_reward_points]
        assert self.balance("alice") == self.settings.referral_reward_points
        assert self.reward_notices() == 1
        with connection():
            [reward] = ReferralReward.select()
            assert reward.order_ref == order["order_no"]

    def test_second_paid_order_of_the_invitee_rewards_nothing(self):
        alice, bob = self.token("alice"), self.token("bob")
        self.arrive(bob, self.scene_of(alice))
        self.paid_order(bob)
        second = self.paid_order(bob)
        assert second["status"] == "paid"
        assert self.rewards_of("alice") == [self.settings.referral_reward_points]
        assert self.reward_notices() == 1

    def test_self_referral_rewards_nothing(self):
        alice = self.token("alice")
        outcome = self.arrive(alice, self.scene_of(alice))
        assert (outcome["attributed"], outcome["reason"]) == (False, "self_referral")
        assert self.paid_order(alice)["status"] == "paid"
        assert self.rewards_of("alice") == []
        assert self.reward_notices() == 0

    def test_unreferred_buyer_rewards_nobody(self):
        bob = self.token("bob")
        assert self.paid_order(bob)["status"] == "paid"
        with connection():
            assert PointsEntry.select().where(PointsEntry.ref_type == "referral_reward").count() == 0
            assert ReferralReward.select().count() == 0

    def test_unpaid_order_rewards_nothing_until_paid(self):
        alice, bob = self.token("alice"), self.token("bob")
        self.arrive(bob, self.scene_of(alice))
        order = self.order(bob)
        assert self.rewards_of("alice") == []
        self.provider_pays(self.start_payment(bob, order["order_no"]))
        assert self.rewards_of("alice") == [self.settings.referral_reward_points]
