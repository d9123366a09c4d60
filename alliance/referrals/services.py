"""Use cases of referrals: codes, attribution of a touch, the first-order reward.

Attribution is first touch within a window (``REFERRAL_WINDOW_DAYS``, 7 by default): the
first source that touches a consumer holds them until the window ends; a touch while it
holds changes nothing; a touch after it lapsed, before any paid order, binds afresh. The
invitee's first paid order closes the attribution for good (converted inside the window,
lapsed after it, organic without a source) and, for a consumer referrer inside the window,
records one reward, credited at once as alliance points. Every step is a guarded write on
the one row per invitee, or an insert under a unique index.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from peewee import JOIN, IntegrityError

from alliance.accounts.models import User
from alliance.db import db, joined_transaction, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.points import services as points
from alliance.ports import Notifier
from alliance.referrals import scenes
from alliance.referrals.models import ReferralAttribution, ReferralCode, ReferralReward

USER = "user"
MERCHANT = "merchant"
BOUND, CONVERTED, LAPSED, ORGANIC = "bound", "converted", "lapsed", "organic"
CHANNELS = ("miniprogram", "oa")


@dataclass(frozen=True)
class TouchOutcome:
    """What a reported scene did: ``attributed`` when it bound the consumer now."""

    attributed: bool
    reason: str | None  # not_a_referral | unknown_code | self_referral | already_attributed | final
    attribution: ReferralAttribution | None
    shared: tuple[str, int] | None = None  # what a share scene named: (kind, id)


def code_for(owner_kind: str, owner_id: int) -> str:
    """The referral code of a consumer or merchant, created on first use."""
    existing = ReferralCode.get_or_none(ReferralCode.owner_kind == owner_kind,
                                        ReferralCode.owner_id == owner_id)
    if existing is not None:
        return existing.code
    for _ in range(5):
        try:
            with transaction():
                return ReferralCode.create(code=scenes.new_code(), owner_kind=owner_kind,
                                           owner_id=owner_id).code
        except IntegrityError:
            # Either the owner got a code concurrently, or the random code was taken.
            existing = ReferralCode.get_or_none(ReferralCode.owner_kind == owner_kind,
                                                ReferralCode.owner_id == owner_id)
            if existing is not None:
                return existing.code
    raise RuntimeError("could not allocate a referral code")


def record_touch(invitee_user_id: int, reported_scene: str, channel: str,
                 window_days: int, now: dt.datetime | None = None) -> TouchOutcome:
    """Attribute the consumer to the source behind ``reported_scene`` (first touch wins),
    and to what it shared when it is a share scene. Whatever the attribution, the outcome
    names what a share scene shared (the page the mini-program opens).

    Idempotent: reporting the same scene again answers ``already_attributed``.
    """
    outcome = _touch(invitee_user_id, reported_scene, channel, window_days, now)
    return dataclasses.replace(outcome, shared=scenes.read_scene(reported_scene)[1])


def _touch(invitee_user_id: int, reported_scene: str, channel: str, window_days: int,
           now: dt.datetime | None) -> TouchOutcome:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    code, shared = scenes.read_scene(reported_scene)
    if code is None:
        return TouchOutcome(False, "not_a_referral", current_attribution(invitee_user_id))
    now = now or utcnow()
    with transaction():
        source = ReferralCode.get_or_none(ReferralCode.code == code)
        current = current_attribution(invitee_user_id)
        if source is None:
            return TouchOutcome(False, "unknown_code", current)
        if source.owner_kind == USER and source.owner_id == invitee_user_id:
            return TouchOutcome(False, "self_referral", current)
        values = dict(status=BOUND, source_kind=source.owner_kind,
                      referrer=source.owner_id if source.owner_kind == USER else None,
                      merchant_id=source.owner_id if source.owner_kind == MERCHANT else None,
                      code=code, channel=channel, bound_at=now,
                      share_kind=shared[0] if shared else None,
                      share_id=shared[1] if shared else None,
                      expires_at=now + dt.timedelta(days=window_days), updated_at=now)
        if current is None:
            try:
                with db.atomic():
                    ReferralAttribution.create(invitee=invitee_user_id, **values)
                return TouchOutcome(True, None, current_attribution(invitee_user_id))
            except IntegrityError:
                return TouchOutcome(False, "already_attributed",
                                    current_attribution(invitee_user_id))
        if current.status != BOUND:
            return TouchOutcome(False, "final", current)
        rebound = (ReferralAttribution.update(**values)
                   .where(ReferralAttribution.id == current.id,
                          ReferralAttribution.status == BOUND,
                          ReferralAttribution.expires_at < now)
                   .execute())
        return TouchOutcome(bool(rebound), None if rebound else "already_attributed",
                            current_attribution(invitee_user_id))


# Every paid order reads the buyer's attribution (and a first one records it): their SQL
# is built once (alliance.prepared.Prepared).
_ATTRIBUTION = Prepared(lambda: ReferralAttribution.select()
                        .where(ReferralAttribution.invitee == Arg(0)).limit(1))
_NEW_ATTRIBUTION = PreparedInsert(ReferralAttribution)
# What closing it at the first paid order reads (most buyers have none: a narrow miss).
_TO_CLOSE_COLUMNS = (ReferralAttribution.id, ReferralAttribution.status,
                     ReferralAttribution.expires_at, ReferralAttribution.source_kind,
                     ReferralAttribution.referrer)
_TO_CLOSE = Prepared(lambda: ReferralAttribution.select(*_TO_CLOSE_COLUMNS)
                     .where(ReferralAttribution.invitee == Arg(0)).limit(1))


def current_attribution(invitee_user_id: int) -> ReferralAttribution | None:
    return _ATTRIBUTION.first(invitee_user_id)


UNREAD = object()  # grant_first_order_reward's ``read``: nothing read before its transaction


def attribution_to_close(invitee_user_id: int) -> ReferralAttribution | None:
    """What ``grant_first_order_reward`` reads, for a caller to read before its transaction
    (a payment's, which holds SQLite's one write lock) and hand over as ``read``."""
    return _TO_CLOSE.first(invitee_user_id)


def join_attribution_to_close(query, invitee):
    """``query`` with what ``attribution_to_close`` reads of the attribution of ``invitee``
    (an expression of the query's model, from which it joins), for a caller that reads the
    invitee's order anyway: one statement instead of two. A row's
    ``joined_attribution(row)`` is then what ``attribution_to_close`` answers."""
    return (query.select_extend(*_TO_CLOSE_COLUMNS)
            .join(ReferralAttribution, JOIN.LEFT_OUTER, attr="joined_attribution",
                  on=(ReferralAttribution.invitee == invitee)))


def joined_attribution(row) -> ReferralAttribution | None:
    """``attribution_to_close`` of a row of a query made with ``join_attribution_to_close``."""
    return row.joined_attribution


def grant_first_order_reward(invitee_user_id: int, order_ref: str, *, reward_points: int,
                             notifier: Notifier | None = None,
                             now: dt.datetime | None = None,
                             read=UNREAD) -> ReferralReward | None:
    """Close the invitee's attribution at their first paid order; the new reward, if any.

    Call it inside the transaction that marks an order paid, for every paid order: only
    the first call per invitee does anything (later ones, and retries, answer None). When a
    consumer referred the invitee and the order falls inside the window, the referrer is
    credited ``reward_points`` alliance points (platform-funded, idempotency key
    ``referral-reward:<reward id>``), the reward recorded and the referrer notified
    (event ``referral.rewarded``) through ``notifier``. A failure fails the caller's
    transaction (no savepoint: every write here is guarded or unique).

    ``read``: what ``attribution_to_close`` answered before the transaction. A closed one
    is final and none means "insert the organic one", so either is acted on as read; a bound
    one is read again (a touch may rebind it once its window ends).
    """
    now = now or utcnow()
    with joined_transaction():
        current = read
        if current is UNREAD or (current is not None and current.status == BOUND):
            current = _TO_CLOSE.first(invitee_user_id)
        if current is None:
            if _NEW_ATTRIBUTION.create_or_none(invitee=invitee_user_id, status=ORGANIC,
                                               converted_at=now, first_order_ref=order_ref,
                                               updated_at=now) is not None:
                return None
            # A touch (or another paid order) recorded one since it was read.
            current = _TO_CLOSE.first(invitee_user_id)
            if current is None:  # not visible to this transaction's snapshot (MySQL)
                return None
        if current.status != BOUND:
            return None  # closed at an earlier paid order (final: no touch binds it again)
        inside = current.expires_at >= now
        closed = (ReferralAttribution.update(status=CONVERTED if inside else LAPSED,
                                             converted_at=now, first_order_ref=order_ref,
                                             updated_at=now)
                  .where(ReferralAttribution.id == current.id,
                         ReferralAttribution.status == BOUND)
                  .execute())
        if not closed or not inside or current.source_kind != USER or current.referrer_id is None:
            return None
        return _reward(current, invitee_user_id, order_ref, reward_points, notifier, now)


def _reward(attribution: ReferralAttribution, invitee_user_id: int, order_ref: str,
            reward_points: int, notifier: Notifier | None,
            now: dt.datetime) -> ReferralReward | None:
    try:
        with db.atomic():
            reward = ReferralReward.create(invitee=invitee_user_id,
                                           referrer=attribution.referrer_id,
                                           attribution=attribution.id, order_ref=order_ref,
                                           kind="points", points=reward_points,
                                           created_at=now)
    except IntegrityError:
        return None
    if reward_points > 0:
        posted = points.earn(attribution.referrer_id, reward_points, merchant_id=None,
                             idempotency_key=f"referral-reward:{reward.id}",
                             ref_type="referral_reward", ref_id=str(reward.id),
                             memo="邀请好友首单奖励", now=now)
        reward.credit_ref = f"points:{posted.entry.id}"
        reward.save(only=[ReferralReward.credit_ref])
    if notifier is not None:
        invitee = User.get_by_id(invitee_user_id)
        notifier.notify("referral.rewarded", user_id=attribution.referrer_id,
                        data={"invitee_nickname": invitee.nickname or "好友",
                              "points": reward_points, "order_ref": order_ref},
                        dedupe_key=f"referral.rewarded:{reward.id}")
    return reward
