"""The cooperation workflow: turns, guarded transitions, the distributions an acceptance
starts and an ending stops, and what a partnership brought."""
import datetime as dt
import json

import pytest

import alliance.coupons.redeem  # noqa: F401  (registers the coupon code kind)

from alliance.commissions.models import CommissionEntry
from alliance.coupons import claims
from alliance.coupons.errors import CouponNotClaimable
from alliance.coupons.models import Coupon, CouponDistribution
from alliance.cooperation import queries, services
from alliance.cooperation.errors import (CooperationAlreadyOpen, CooperationExpired,
                                         CooperationNotFound, CooperationNotProposer,
                                         CooperationNotYourTurn, CooperationStatusConflict,
                                         CooperationTermsChanged)
from alliance.cooperation.models import Cooperation, CooperationEvent
from alliance.db import utcnow
from alliance.errors import ValidationFailed
from alliance.notifications.models import OutboxMessage
from alliance.notifications.outbox import OutboxNotifier
from alliance.redemptions.services import redeem
from tests.concurrency import run_at_once
from tests.factories import add_staff, make_merchant, make_shop, make_template, make_user

NOTIFIER = OutboxNotifier()


def _pair():
    issuer, partner = make_merchant(name="老街面馆"), make_merchant(name="转角咖啡")
    return issuer, partner


def _propose(issuer, partner, **terms):
    body = {"partner_merchant_id": partner.id, "kind": "joint_marketing",
            "description": "周末联合促销", **terms}
    return services.propose(NOTIFIER, issuer.id, issuer.owner_id, body)


def _coupon_cooperation(issuer, partner, commission_fen=300, sales_share_bp=500):
    template = make_template(issuer, channels=["own", "partner"])
    cooperation = _propose(issuer, partner, kind="coupon_distribution",
                           template_ids=[template.id], commission_fen=commission_fen,
                           sales_share_bp=sales_share_bp)
    return template, cooperation


def test_propose_gives_the_turn_to_the_partner_records_history_and_notifies_its_owner(database):
    issuer, partner = _pair()
    cooperation = _propose(issuer, partner, sales_share_bp=250)
    assert cooperation.status == "proposed" and cooperation.turn_merchant_id == partner.id
    event = CooperationEvent.get(CooperationEvent.cooperation == cooperation.id)
    assert event.action == "propose" and event.staff_user_id == issuer.owner_id
    assert json.loads(event.terms)["sales_share_bp"] == 250
    message = OutboxMessage.get(OutboxMessage.event == "cooperation.updated")
    assert message.user_id == partner.owner_id
    assert json.loads(message.payload)["merchant_name"] == "老街面馆"


def test_propose_errors_for_yourself_an_unapproved_partner_and_bad_terms(database):
    issuer, partner = _pair()
    pending = make_merchant(status="pending")
    cases = [({"partner_merchant_id": issuer.id}, "partner_merchant_id"),
             ({"partner_merchant_id": pending.id}, "partner_merchant_id"),
             ({"kind": "merger"}, "kind"),
             ({"sales_share_bp": 10001}, "sales_share_bp"),
             ({"commission_fen": -1}, "commission_fen"),
             ({"description": "长" * 501}, "description"),
             ({"ends_at": "2000-01-01T00:00:00+08:00"}, "ends_at"),
             ({"template_ids": [1]}, "template_ids"),
             ({"kind": "coupon_distribution"}, "template_ids")]
    for overrides, field in cases:
        with pytest.raises(ValidationFailed) as error:
            _propose(issuer, partner, **overrides)
        assert error.value.details["field"] == field, overrides
    assert Cooperation.select().count() == 0


def test_propose_errors_for_templates_not_the_proposers_active_partner_ones(database):
    issuer, partner = _pair()
    own_only = make_template(issuer, channels=["own"])
    others = make_template(partner, channels=["own", "partner"])
    for template in (own_only, others):
        with pytest.raises(ValidationFailed) as error:
            _propose(issuer, partner, kind="coupon_distribution", template_ids=[template.id])
        assert error.value.details["field"] == "template_ids"


def test_one_open_cooperation_of_a_kind_per_pair_in_either_direction(database):
    issuer, partner = _pair()
    first = _propose(issuer, partner)
    with pytest.raises(CooperationAlreadyOpen):
        services.propose(NOTIFIER, partner.id, partner.owner_id,
                         {"partner_merchant_id": issuer.id, "kind": "joint_marketing"})
    _propose(issuer, partner, kind="resource_exchange")  # another kind is another cooperation
    services.withdraw(NOTIFIER, first.id, issuer.id, issuer.owner_id, {})
    assert _propose(issuer, partner).status == "proposed"


def test_counter_only_on_your_turn_and_the_turn_flips(database):
    issuer, partner = _pair()
    cooperation = _propose(issuer, partner, sales_share_bp=100)
    with pytest.raises(CooperationNotYourTurn):
        services.counter(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id,
                         {"sales_share_bp": 50})
    countered = services.counter(NOTIFIER, cooperation.id, partner.id, partner.owner_id,
                                 {"sales_share_bp": 800, "message": "希望提高分成"})
    assert countered.turn_merchant_id == issuer.id and countered.version == 2
    assert countered.sales_share_bp == 800 and countered.description == "周末联合促销"
    with pytest.raises(CooperationNotYourTurn):
        services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {})
    with pytest.raises(CooperationTermsChanged):
        services.accept(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id, {"version": 1})
    accepted = services.accept(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id,
                               {"version": 2})
    assert accepted.status == "accepted" and accepted.turn_merchant_id is None
    actions = [e.action for e in CooperationEvent.select().order_by(CooperationEvent.id)]
    assert actions == ["propose", "counter", "accept"]
    notified = [m.user_id for m in OutboxMessage.select().order_by(OutboxMessage.id)]
    assert notified == [partner.owner_id, issuer.owner_id, partner.owner_id]


def test_reject_withdraw_and_end_follow_the_states(database):
    issuer, partner = _pair()
    cooperation = _propose(issuer, partner)
    with pytest.raises(CooperationNotProposer):
        services.withdraw(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {})
    with pytest.raises(CooperationStatusConflict):
        services.end(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id, {})
    rejected = services.reject(NOTIFIER, cooperation.id, partner.id, partner.owner_id,
                               {"message": "暂不考虑"})
    assert rejected.status == "rejected" and rejected.open_key is None
    for act in (services.accept, services.counter, services.reject):
        with pytest.raises(CooperationStatusConflict):
            act(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {"sales_share_bp": 1}
                if act is services.counter else {})
    second = _propose(issuer, partner)
    services.accept(NOTIFIER, second.id, partner.id, partner.owner_id, {})
    ended = services.end(NOTIFIER, second.id, partner.id, partner.owner_id, {})
    assert ended.status == "ended" and ended.closed_at is not None


def test_a_third_merchant_does_not_find_the_cooperation(database):
    issuer, partner = _pair()
    cooperation = _propose(issuer, partner)
    stranger = make_merchant()
    with pytest.raises(CooperationNotFound):
        services.accept(NOTIFIER, cooperation.id, stranger.id, stranger.owner_id, {})
    with pytest.raises(CooperationNotFound):
        services.visible(cooperation.id, stranger.id)


def test_two_staff_accepting_at_once_accept_once(database):
    issuer, partner = _pair()
    template, cooperation = _coupon_cooperation(issuer, partner)
    staff = [add_staff(partner, "merchant_manager").id for _ in range(6)]
    outcomes = run_at_once(6, lambda i: services.accept(NOTIFIER, cooperation.id, partner.id,
                                                        staff[i], {}))
    accepted = [o for o in outcomes if isinstance(o, Cooperation)]
    refused = [o for o in outcomes if not isinstance(o, Cooperation)]
    assert len(accepted) == 1, outcomes
    assert all(isinstance(o, CooperationStatusConflict) for o in refused), refused
    assert (CooperationEvent.select().where(CooperationEvent.action == "accept").count()) == 1
    assert CouponDistribution.select().count() == 1
    assert Cooperation.get_by_id(cooperation.id).status == "accepted"


def test_accept_starts_the_distributions_with_the_agreed_commission(database):
    issuer, partner = _pair()
    template, cooperation = _coupon_cooperation(issuer, partner, commission_fen=300)
    services.counter(NOTIFIER, cooperation.id, partner.id, partner.owner_id,
                     {"commission_fen": 450})
    services.accept(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id, {})
    distribution = CouponDistribution.get(CouponDistribution.template == template.id)
    assert distribution.distributor_id == partner.id and distribution.status == "active"
    assert distribution.commission_fen == 450 and distribution.cooperation_id == cooperation.id


def test_accept_renews_a_distribution_the_partner_had(database):
    from alliance.coupons.templates import add_distribution

    issuer, partner = _pair()
    template, cooperation = _coupon_cooperation(issuer, partner, commission_fen=300)
    add_distribution(template.id, issuer.id, partner.id, 100, actor_id=issuer.owner_id)
    services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {})
    (distribution,) = CouponDistribution.select()
    assert (distribution.commission_fen, distribution.cooperation_id) == (300, cooperation.id)


def test_end_stops_the_distributions_and_coupons_handed_out_keep_their_terms(database):
    issuer, partner = _pair()
    make_shop(issuer)
    template, cooperation = _coupon_cooperation(issuer, partner, commission_fen=300)
    services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {})
    customer = make_user()
    coupon = claims.claim(template.id, customer.id, scene=f"p={partner.id}")
    assert (coupon.commission_fen, coupon.cooperation_id) == (300, cooperation.id)
    services.end(NOTIFIER, cooperation.id, issuer.id, issuer.owner_id, {"message": "活动结束"})
    assert CouponDistribution.get(CouponDistribution.template == template.id).status == "ended"
    with pytest.raises(CouponNotClaimable):
        claims.claim(template.id, make_user().id, scene=f"p={partner.id}")
    redeem(coupon.code, merchant_id=issuer.id, staff_user_id=issuer.owner_id, notifier=NOTIFIER)
    entry = CommissionEntry.get()
    assert (entry.payer_merchant_id, entry.payee_merchant_id, entry.amount_fen) == (
        issuer.id, partner.id, 300)
    brought = queries.results([cooperation.id])[cooperation.id]
    assert brought["coupons_claimed"] == 1 and brought["customers"] == 1
    assert brought["coupons_redeemed"] == 1 and brought["coupons_used"] == 0
    assert brought["commission_count"] == 1 and brought["commission_fen"] == 300
    assert Coupon.get_by_id(coupon.id).commission_fen == 300


def test_results_count_each_cooperation_apart_in_grouped_queries(database):
    from tests.support import recorded_sql

    issuer, partner = _pair()
    other_partner = make_merchant()
    make_shop(issuer)
    first_template, first = _coupon_cooperation(issuer, partner, commission_fen=200)
    second_template, second = _coupon_cooperation(issuer, other_partner, commission_fen=500)
    for cooperation, merchant in ((first, partner), (second, other_partner)):
        services.accept(NOTIFIER, cooperation.id, merchant.id, merchant.owner_id, {})
    alice, bob = make_user(), make_user()
    codes = [claims.claim(first_template.id, alice.id, scene=f"p={partner.id}").code,
             claims.claim(first_template.id, bob.id, scene=f"p={partner.id}").code,
             claims.claim(second_template.id, alice.id, scene=f"p={other_partner.id}").code]
    for code in codes:
        redeem(code, merchant_id=issuer.id, staff_user_id=issuer.owner_id, notifier=NOTIFIER)
    with recorded_sql() as statements:
        brought = queries.results([first.id, second.id])
    assert len([s for s in statements if s.sql.startswith("SELECT")]) == 4
    assert (brought[first.id]["customers"], brought[first.id]["commission_fen"]) == (2, 400)
    assert (brought[second.id]["customers"], brought[second.id]["commission_fen"]) == (1, 500)


def test_an_accepted_cooperation_ends_when_its_end_time_comes_and_both_sides_are_told(database):
    issuer, partner = _pair()
    template = make_template(issuer, channels=["own", "partner"])
    soon = (utcnow() + dt.timedelta(hours=1)).isoformat() + "+00:00"
    cooperation = _propose(issuer, partner, kind="coupon_distribution",
                           template_ids=[template.id], ends_at=soon)
    services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {})
    still_open = _propose(issuer, partner)  # no end time: stays
    assert services.end_expired(NOTIFIER) == 0
    later = utcnow() + dt.timedelta(hours=2)
    assert services.end_expired(NOTIFIER, later) == 1
    assert services.end_expired(NOTIFIER, later) == 0
    assert Cooperation.get_by_id(cooperation.id).status == "ended"
    assert Cooperation.get_by_id(still_open.id).status == "proposed"
    assert CouponDistribution.get(CouponDistribution.template == template.id).status == "ended"
    event = CooperationEvent.select().order_by(CooperationEvent.id.desc()).first()
    assert (event.action, event.merchant_id, event.staff_user_id) == ("expire", None, None)
    told = {m.user_id: json.loads(m.payload)["merchant_name"] for m in OutboxMessage.select()
            .where(OutboxMessage.dedupe_key.startswith(f"cooperation.event:{event.id}:"))}
    assert told == {issuer.owner_id: "转角咖啡", partner.owner_id: "老街面馆"}
    history = queries.cooperation_detail(Cooperation.get_by_id(cooperation.id), issuer.id)
    assert history["history"][-1]["merchant_name"] is None


@pytest.mark.parametrize("answer", ["accept", "counter"])
def test_a_proposal_answered_as_it_expires_is_answered_or_expired_never_both(database, answer):
    issuer = make_merchant(name="老街面馆")
    for _ in range(4):
        partner = make_merchant()
        ends = (utcnow() + dt.timedelta(hours=1)).replace(microsecond=0)
        cooperation = _propose(issuer, partner, ends_at=ends.isoformat() + "+00:00")
        before, after = ends - dt.timedelta(seconds=1), ends + dt.timedelta(seconds=1)
        body = {"ends_at": (ends + dt.timedelta(days=30)).isoformat() + "+00:00"} \
            if answer == "counter" else {}

        def race(i, cooperation=cooperation, partner=partner, body=body, before=before,
                 after=after):
            if i == 0:
                return getattr(services, answer)(NOTIFIER, cooperation.id, partner.id,
                                                 partner.owner_id, body, before)
            return services.expire_proposals(NOTIFIER, after)

        outcomes = run_at_once(2, race)
        answered = [o for o in outcomes if isinstance(o, Cooperation)]
        expired = [o for o in outcomes if isinstance(o, int)]
        refused = [o for o in outcomes if isinstance(o, Exception)]
        actions = [e.action for e in CooperationEvent.select()
                   .where(CooperationEvent.cooperation == cooperation.id)
                   .order_by(CooperationEvent.id)]
        status = Cooperation.get_by_id(cooperation.id).status
        if answered:
            assert expired == [0] and not refused, outcomes
            assert actions == ["propose", answer]
            assert status == ("accepted" if answer == "accept" else "proposed")
        else:
            assert expired == [1] and len(refused) == 1, outcomes
            # A snapshot read before the expiry committed (MySQL) sees it still proposed.
            assert isinstance(refused[0], (CooperationExpired, CooperationStatusConflict))
            assert actions == ["propose", "expire"] and status == "expired"


def test_a_proposal_past_its_end_cannot_be_accepted_or_countered_but_may_be_rejected(database):
    issuer, partner = _pair()
    ends = utcnow() + dt.timedelta(hours=1)
    cooperation = _propose(issuer, partner, ends_at=ends.isoformat() + "+00:00")
    later = ends + dt.timedelta(minutes=1)
    with pytest.raises(CooperationExpired):
        services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {}, later)
    with pytest.raises(CooperationExpired):
        services.counter(NOTIFIER, cooperation.id, partner.id, partner.owner_id,
                         {"commission_fen": 100}, later)
    services.reject(NOTIFIER, cooperation.id, partner.id, partner.owner_id, {}, later)
    assert services.expire_proposals(NOTIFIER, later) == 0
    assert Cooperation.get_by_id(cooperation.id).status == "rejected"


def test_expiry_reads_past_a_full_batch(database):
    issuer = make_merchant()
    ends = utcnow() + dt.timedelta(hours=1)
    made = [_propose(issuer, make_merchant(), ends_at=ends.isoformat() + "+00:00")
            for _ in range(5)]
    assert services.expire_proposals(NOTIFIER, ends, batch=2) == 5
    assert {Cooperation.get_by_id(c.id).status for c in made} == {"expired"}


def test_an_operator_ending_a_proposal_as_it_is_accepted_leaves_no_distribution_running(
        database):
    from alliance.accounts.operators import create_operator

    operator = create_operator("ops-coop", "Secret-pass-123", "operator")
    issuer = make_merchant(name="老街面馆")
    for _ in range(4):
        partner = make_merchant()
        template, cooperation = _coupon_cooperation(issuer, partner)

        def race(i, cooperation=cooperation, partner=partner):
            if i == 0:
                return services.accept(NOTIFIER, cooperation.id, partner.id, partner.owner_id,
                                       {})
            return services.terminate(NOTIFIER, cooperation.id, operator.id,
                                      {"reason": "违反联盟规则"})

        outcomes = run_at_once(2, race)
        refused = [o for o in outcomes if isinstance(o, Exception)]
        assert all(isinstance(o, CooperationStatusConflict) for o in refused), outcomes
        status = Cooperation.get_by_id(cooperation.id).status
        running = CouponDistribution.select().where(
            CouponDistribution.cooperation_id == cooperation.id,
            CouponDistribution.status == "active").count()
        actions = [e.action for e in CooperationEvent.select()
                   .where(CooperationEvent.cooperation == cooperation.id)
                   .order_by(CooperationEvent.id)]
        if status == "ended":
            assert running == 0 and actions[-1] == "terminate", actions
        else:
            assert status == "accepted" and running == 1 and actions == ["propose", "accept"]
