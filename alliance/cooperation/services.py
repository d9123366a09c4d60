"""The cooperation workflow: propose, counter, accept, reject, withdraw, end; and the
platform's part: proposals and cooperations whose ``ends_at`` came, an operator ending one.

Each use case is one transaction. Each state change is one guarded UPDATE on the status, the
turn (and, when the caller names the terms it read, their ``version``): of two taps or two
staff members answering at once, exactly one changes the row and the other is refused with a
409 naming why (COOPERATION_STATUS_CONFLICT, COOPERATION_NOT_YOUR_TURN,
COOPERATION_TERMS_CHANGED). Every action records a ``CooperationEvent`` and notifies the
other merchant's owner through the outbox (delivered after the commit).

Accepting a ``coupon_distribution`` lets the partner hand out each listed template of the
proposer with the agreed commission (``coupons.templates.add_distribution``), in the same
transaction; ending it ends those distributions. Coupons already handed out keep the terms
they were handed out under (the coupon stores its commission and its cooperation).

A proposal is over once its ``ends_at`` has passed, or once it has waited ``ANSWER_WITHIN``
for an answer since it was made or last countered (``answer_by``; a proposal without an end
time does not wait for ever): accepting or countering it is refused (COOPERATION_EXPIRED)
and the ``cooperation.end_expired`` job closes it as ``expired``. The acceptance and the
expiry both change the row by an UPDATE guarded on ``status = proposed`` (the acceptance
also on the proposal still open, the expiry on it lapsed), so of the two racing exactly one
applies.
"""
from __future__ import annotations

import datetime as dt
import json

from peewee import IntegrityError

from alliance.accounts.operators import record_audit
from alliance.coupons.models import CouponDistribution
from alliance.coupons.templates import add_distribution, end_distribution
from alliance.cooperation import terms as t
from alliance.checks import refuse_unknown
from alliance.clock import to_local_iso
from alliance.cooperation.errors import (CooperationAlreadyOpen, CooperationExpired,
                                         CooperationNotFound, CooperationNotProposer,
                                         CooperationNotYourTurn, CooperationStatusConflict,
                                         CooperationTermsChanged)
from alliance.cooperation.models import (ACCEPTED, ENDED, EXPIRED, PROPOSED, REJECTED,
                                         WITHDRAWN, Cooperation, CooperationEvent, open_key)
from alliance.db import transaction, utcnow
from alliance.errors import ValidationFailed
from alliance.merchants.models import Merchant
from alliance.ports import Notifier

PROPOSE_FIELDS = frozenset({"partner_merchant_id", "kind", "message", *t.TERM_FIELDS})
COUNTER_FIELDS = frozenset({"message", "version", *t.TERM_FIELDS})
ANSWER_FIELDS = frozenset({"message", "version"})
TERMINATE_FIELDS = frozenset({"reason"})
KIND_TEXT = {"coupon_distribution": "代发优惠券", "joint_marketing": "联合营销",
             "resource_exchange": "资源互换"}
# What the other side's notification says happened (at most 5 characters: a WeChat phrase).
ACTION_TEXT = {"propose": "发起合作", "counter": "修改条款", "accept": "接受合作",
               "reject": "拒绝合作", "withdraw": "撤回合作", "end": "结束合作",
               "expire": "合作到期", "terminate": "平台终止"}
LAPSED_TEXT = "邀请已过期"  # "expire" of a proposal (status expired), not of an accepted one


def propose(notifier: Notifier, merchant_id: int, staff_user_id: int, body: dict,
            now: dt.datetime | None = None) -> Cooperation:
    """``merchant_id`` proposes a cooperation to ``body["partner_merchant_id"]``, an
    approved merchant other than itself; COOPERATION_ALREADY_OPEN while one of the same
    kind between the two is proposed or accepted."""
    refuse_unknown(body, PROPOSE_FIELDS)
    now = now or utcnow()
    partner_id = t.integer(body, "partner_merchant_id", 1, t.ID_MAX)
    kind = t.kind_of(body)
    message = t.text(body, "message", "留言不能超过 500 字")
    if partner_id == merchant_id:
        raise t.invalid("partner_merchant_id", "yourself", "不能与自己发起合作")
    with transaction():
        if not Merchant.select().where(Merchant.id == partner_id,
                                       Merchant.status == "approved").exists():
            raise t.invalid("partner_merchant_id", "not an approved merchant",
                            "合作商户不存在或未通过审核")
        values = t.clean_terms(body, kind=kind, issuer_id=merchant_id, current=None, now=now)
        try:
            cooperation = Cooperation.create(
                proposer=merchant_id, partner=partner_id, kind=kind, status=PROPOSED,
                turn_merchant_id=partner_id, open_key=open_key(merchant_id, partner_id, kind),
                created_by=staff_user_id, created_at=now, updated_at=now, **values)
        except IntegrityError:
            raise CooperationAlreadyOpen(details={"partner_merchant_id": partner_id,
                                                  "kind": kind}) from None
        _record(notifier, cooperation, merchant_id, staff_user_id, "propose", message, now)
        return cooperation


def counter(notifier: Notifier, cooperation_id: int, merchant_id: int, staff_user_id: int,
            body: dict, now: dt.datetime | None = None) -> Cooperation:
    """The side whose turn it is proposes other terms (those it names change); the turn
    passes to the other side."""
    refuse_unknown(body, COUNTER_FIELDS)
    now = now or utcnow()
    message = t.text(body, "message", "留言不能超过 500 字")
    version = _version(body)
    with transaction():
        cooperation = _answerable(cooperation_id, merchant_id, version, now)
        current = {field: getattr(cooperation, field) for field in t.TERM_FIELDS}
        values = t.clean_terms(body, kind=cooperation.kind, issuer_id=cooperation.proposer_id,
                               current=current, now=now)
        other = _other_side(cooperation, merchant_id)
        _guarded(cooperation, merchant_id, version, PROPOSED,
                 {**values, "turn_merchant_id": other, "version": Cooperation.version + 1,
                  "updated_at": now}, turn=True, open_at=now)
        return _record(notifier, _reload(cooperation), merchant_id, staff_user_id, "counter",
                       message, now)


def accept(notifier: Notifier, cooperation_id: int, merchant_id: int, staff_user_id: int,
           body: dict, now: dt.datetime | None = None) -> Cooperation:
    """The side whose turn it is accepts the current terms. A coupon distribution starts:
    the partner hands out each listed template of the proposer, owed the agreed commission
    per coupon redeemed or used (a distribution of the template it had is renewed)."""
    message, version = _answer(body)
    now = now or utcnow()
    with transaction():
        cooperation = _answerable(cooperation_id, merchant_id, version, now)
        if cooperation.template_id_list:
            t.check_templates(cooperation.template_id_list, cooperation.proposer_id)
        _guarded(cooperation, merchant_id, version, PROPOSED,
                 {"status": ACCEPTED, "turn_merchant_id": None, "accepted_at": now,
                  "updated_at": now}, turn=True, open_at=now)
        for template_id in cooperation.template_id_list:
            add_distribution(template_id, cooperation.proposer_id, cooperation.partner_id,
                             cooperation.commission_fen, actor_id=staff_user_id,
                             cooperation_id=cooperation.id)
        return _record(notifier, _reload(cooperation), merchant_id, staff_user_id, "accept",
                       message, now)


def reject(notifier: Notifier, cooperation_id: int, merchant_id: int, staff_user_id: int,
           body: dict, now: dt.datetime | None = None) -> Cooperation:
    """The side whose turn it is declines the current terms; the cooperation is closed."""
    message, version = _answer(body)
    now = now or utcnow()
    with transaction():
        cooperation = _answerable(cooperation_id, merchant_id, version)
        _guarded(cooperation, merchant_id, version, PROPOSED, _closed(REJECTED, now), turn=True)
        return _record(notifier, _reload(cooperation), merchant_id, staff_user_id, "reject",
                       message, now)


def withdraw(notifier: Notifier, cooperation_id: int, merchant_id: int, staff_user_id: int,
             body: dict, now: dt.datetime | None = None) -> Cooperation:
    """The proposer takes back a cooperation not yet accepted (whoever's turn it is)."""
    message, version = _answer(body)
    now = now or utcnow()
    with transaction():
        cooperation = visible(cooperation_id, merchant_id)
        if cooperation.proposer_id != merchant_id:
            raise CooperationNotProposer(details={"cooperation_id": cooperation.id})
        _guarded(cooperation, merchant_id, version, PROPOSED, _closed(WITHDRAWN, now),
                 turn=False)
        return _record(notifier, _reload(cooperation), merchant_id, staff_user_id, "withdraw",
                       message, now)


def end(notifier: Notifier, cooperation_id: int, merchant_id: int, staff_user_id: int,
        body: dict, now: dt.datetime | None = None) -> Cooperation:
    """Either side ends an accepted cooperation: its coupon distributions end (coupons
    already handed out keep their terms)."""
    message, version = _answer(body)
    now = now or utcnow()
    with transaction():
        cooperation = visible(cooperation_id, merchant_id)
        _guarded(cooperation, merchant_id, version, ACCEPTED, _closed(ENDED, now), turn=False)
        _end_distributions(cooperation, now)
        return _record(notifier, _reload(cooperation), merchant_id, staff_user_id, "end",
                       message, now)


def end_expired(notifier: Notifier, now: dt.datetime | None = None, batch: int = 100) -> int:
    """End the accepted cooperations whose ``ends_at`` has come, as ``end`` does, one per
    transaction (recorded as ``expire``, by no merchant; both sides are told); how many.
    One ended meanwhile by a merchant is left as it is."""
    now = now or utcnow()
    return _close_due(notifier, ACCEPTED, ENDED, Cooperation.ends_at <= now, now, batch)


def expire_proposals(notifier: Notifier, now: dt.datetime | None = None,
                     batch: int = 100) -> int:
    """Close the proposals (countered or not) that lapsed unanswered (``answer_by``) as
    ``expired``, one per transaction (recorded as ``expire``, by no merchant; both sides
    are told); how many. One accepted, countered to another end or closed meanwhile is
    left as it is."""
    now = now or utcnow()
    return _close_due(notifier, PROPOSED, EXPIRED, ~Cooperation.unlapsed(now), now, batch)


def _close_due(notifier: Notifier, status: str, closed_as: str, due_clause, now: dt.datetime,
               batch: int) -> int:
    """Close every cooperation in ``status`` that ``due_clause`` holds for as ``closed_as``,
    ``batch`` read at a time, each by an UPDATE guarded on both (so a merchant's action
    committed first wins, and one committed after finds it closed)."""
    closed, after = 0, 0
    while True:
        due = [row.id for row in Cooperation.select(Cooperation.id)
               .where(Cooperation.status == status, due_clause, Cooperation.id > after)
               .order_by(Cooperation.id).limit(batch)]
        for cooperation_id in due:
            with transaction():
                closing = (Cooperation.update(_closed(closed_as, now))
                           .where(Cooperation.id == cooperation_id, Cooperation.status == status,
                                  due_clause)
                           .execute())
                if closing != 1:
                    continue
                cooperation = Cooperation.get_by_id(cooperation_id)
                _end_distributions(cooperation, now)
                _record(notifier, cooperation, None, None, "expire", "", now)
                closed += 1
        if len(due) < batch:
            return closed
        after = due[-1]


def terminate(notifier: Notifier, cooperation_id: int, operator_id: int, body: dict,
              now: dt.datetime | None = None) -> Cooperation:
    """An operator ends an open (proposed or accepted) cooperation that breaks the
    alliance's rules, with a ``reason``: it is ``ended`` as ``end`` ends it (its coupon
    distributions too), recorded as ``terminate`` by the platform with the reason as its
    message, written to the operators' audit log, and both sides are told."""
    refuse_unknown(body, TERMINATE_FIELDS)
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("请填写终止合作的原因",
                               details={"field": "reason", "issue": "required"})
    reason = t.text(body, "reason", "原因不能超过 500 字")
    now = now or utcnow()
    with transaction():
        cooperation = found(cooperation_id)
        was = cooperation.status
        details = {"cooperation_id": cooperation.id, "status": was}
        if was == EXPIRED:
            raise CooperationExpired(details=details)
        if was not in (PROPOSED, ACCEPTED):
            raise CooperationStatusConflict(details=details)
        # Guarded on the status read: an acceptance committed since (its distributions
        # unseen by this transaction's reads) makes this one refuse rather than miss them.
        closing = (Cooperation.update(_closed(ENDED, now))
                   .where(Cooperation.id == cooperation.id, Cooperation.status == was)
                   .execute())
        if closing != 1:
            raise CooperationStatusConflict(details=details)
        _end_distributions(cooperation, now)
        record_audit(operator_id, "cooperation.end", "cooperation", cooperation.id, reason,
                     {"from": was, "to": ENDED})
        return _record(notifier, _reload(cooperation), None, None, "terminate", reason, now)


def _end_distributions(cooperation: Cooperation, now: dt.datetime) -> None:
    """End the distributions the cooperation started (one renewed since by another
    cooperation is that one's)."""
    ids = cooperation.template_id_list
    if not ids:
        return
    distributions = (CouponDistribution.select(CouponDistribution.id)
                     .where(CouponDistribution.template.in_(ids),
                            CouponDistribution.distributor == cooperation.partner_id,
                            CouponDistribution.cooperation_id == cooperation.id,
                            CouponDistribution.status == "active"))
    for distribution in distributions:
        end_distribution(distribution.id, cooperation.proposer_id, now)


def found(cooperation_id: int) -> Cooperation:
    """Any cooperation, as operators see them; COOPERATION_NOT_FOUND when there is none."""
    cooperation = Cooperation.get_or_none(Cooperation.id == cooperation_id)
    if cooperation is None:
        raise CooperationNotFound(details={"cooperation_id": cooperation_id})
    return cooperation


def visible(cooperation_id: int, merchant_id: int) -> Cooperation:
    """A cooperation ``merchant_id`` is a side of; COOPERATION_NOT_FOUND for anyone else."""
    cooperation = Cooperation.get_or_none(
        (Cooperation.id == cooperation_id)
        & ((Cooperation.proposer == merchant_id) | (Cooperation.partner == merchant_id)))
    if cooperation is None:
        raise CooperationNotFound(details={"cooperation_id": cooperation_id})
    return cooperation


def _answer(body: dict) -> tuple[str, int | None]:
    """An answer's message and the terms' version it names (accept, reject, withdraw, end)."""
    refuse_unknown(body, ANSWER_FIELDS)
    return t.text(body, "message", "留言不能超过 500 字"), _version(body)


def _version(body: dict) -> int | None:
    """The terms' version the caller read, when it names one (then the action applies only
    to those terms)."""
    if body.get("version") is None:
        return None
    return t.integer(body, "version", 1, t.ID_MAX)


def _answerable(cooperation_id: int, merchant_id: int, version: int | None,
                now: dt.datetime | None = None) -> Cooperation:
    """The proposal ``merchant_id`` may answer (at ``version``; not past its ``ends_at``
    at ``now``, when given)."""
    cooperation = visible(cooperation_id, merchant_id)
    _refuse(cooperation, merchant_id, version, PROPOSED, turn=True, open_at=now)
    return cooperation


def _lapsed(cooperation: Cooperation, now: dt.datetime) -> bool:
    return cooperation.status == PROPOSED and cooperation.answer_by() <= now



def _refuse(cooperation: Cooperation, merchant_id: int, version: int | None, status: str,
            turn: bool, open_at: dt.datetime | None = None) -> None:
    """Why an action needing ``status`` (and ``merchant_id``'s turn; a proposal not past
    its ``ends_at`` at ``open_at``, when given) cannot apply to the cooperation as read;
    nothing when it can."""
    details = {"cooperation_id": cooperation.id, "status": cooperation.status,
               "version": cooperation.version}
    if cooperation.status == EXPIRED or (open_at is not None and _lapsed(cooperation, open_at)):
        raise CooperationExpired(details={**details,
                                          "ends_at": to_local_iso(cooperation.ends_at),
                                          "answer_by": to_local_iso(cooperation.answer_by())})
    if cooperation.status != status:
        raise CooperationStatusConflict(details=details)
    if turn and cooperation.turn_merchant_id != merchant_id:
        raise CooperationNotYourTurn(details={**details,
                                              "turn_merchant_id": cooperation.turn_merchant_id})
    if version is not None and version != cooperation.version:
        raise CooperationTermsChanged(details=details)


def _guarded(cooperation: Cooperation, merchant_id: int, version: int | None, expected: str,
             values: dict, *, turn: bool, open_at: dt.datetime | None = None) -> None:
    """Apply ``values`` if the row is still in status ``expected`` (on ``merchant_id``'s
    turn, at ``version``, its ``ends_at`` not passed at ``open_at``); else refuse with what
    changed since it was read."""
    query = Cooperation.update(values).where(Cooperation.id == cooperation.id,
                                               Cooperation.status == expected)
    if turn:
        query = query.where(Cooperation.turn_merchant_id == merchant_id)
    if version is not None:
        query = query.where(Cooperation.version == version)
    if open_at is not None:
        query = query.where(Cooperation.unlapsed(open_at))
    if query.execute() != 1:
        _refuse(_reload(cooperation), merchant_id, version, expected, turn, open_at)
        # A snapshot older than the change that beat us (MySQL's repeatable read) still
        # shows the row as it was: the change is refused all the same.
        raise CooperationStatusConflict(details={"cooperation_id": cooperation.id})


def _closed(status: str, now: dt.datetime) -> dict:
    # open_key NULL: the pair may open another cooperation of this kind.
    return {"status": status, "turn_merchant_id": None, "open_key": None, "closed_at": now,
            "updated_at": now}


def _other_side(cooperation: Cooperation, merchant_id: int) -> int:
    return cooperation.partner_id if merchant_id == cooperation.proposer_id else cooperation.proposer_id


def _reload(cooperation: Cooperation) -> Cooperation:
    return Cooperation.get_by_id(cooperation.id)


def _record(notifier: Notifier, cooperation: Cooperation, merchant_id: int | None,
            staff_user_id: int | None, action: str, message: str,
            now: dt.datetime) -> Cooperation:
    """The history event of the action (``merchant_id`` None: the platform's, as when
    ``ends_at`` comes or an operator ends it), and the notification of each side that did
    not act."""
    event = CooperationEvent.create(cooperation=cooperation.id, merchant_id=merchant_id,
                                    staff_user_id=staff_user_id, action=action,
                                    terms=json.dumps(cooperation.terms(), ensure_ascii=False),
                                    message=message, version=cooperation.version, at=now)
    sides = {row.id: row for row in Merchant.select(Merchant.id, Merchant.name, Merchant.owner)
             .where(Merchant.id.in_([cooperation.proposer_id, cooperation.partner_id]))}
    for told in (cooperation.proposer_id, cooperation.partner_id):
        if told == merchant_id:
            continue
        # The other side of the one told: who acted, or whom the cooperation was with.
        counterpart = sides[_other_side(cooperation, told)]
        notifier.notify("cooperation.updated", user_id=sides[told].owner_id,
                        data={"cooperation_id": cooperation.id, "merchant_id": told,
                              "merchant_name": counterpart.name,
                              "action_text": _action_text(action, cooperation),
                              "kind_text": KIND_TEXT[cooperation.kind]},
                        dedupe_key=f"cooperation.event:{event.id}:{told}")
    return cooperation


def _action_text(action: str, cooperation: Cooperation) -> str:
    if action == "expire" and cooperation.status == EXPIRED:
        return LAPSED_TEXT
    return ACTION_TEXT[action]
