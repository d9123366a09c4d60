"""The cooperation tables.

A ``Cooperation`` is proposed by one merchant to another and negotiated in turns: the side
that did not make the current terms answers (``turn_merchant_id``), by a counter-proposal
(the turn flips), an acceptance or a rejection. Every change is a guarded UPDATE on
``status`` and the turn, so of two taps (or two staff) answering at once exactly one applies.
A proposal whose ``ends_at`` passes unanswered, or that waits ``ANSWER_WITHIN`` for an
answer to its latest terms, is ``expired`` (closed by the platform's job); an operator may end an open one that breaks the rules (``ended``, its event
``terminate``). ``open_key`` holds the unordered pair and the kind while the cooperation is
open (proposed or accepted) and is NULL afterwards: its unique index allows one open
cooperation of a kind per pair of merchants. ``CooperationEvent`` is the history, with the
terms as each action left them.

The issuer of the coupons and the payer of commissions and sales shares is always the
proposer; the partner distributes the proposer's coupon templates and is paid.
"""
from __future__ import annotations

import datetime as dt
import json

from peewee import AutoField, CharField, ForeignKeyField, IntegerField, TextField

from alliance.db import BaseModel, UTCDateTimeField, utcnow
from alliance.merchants.models import Merchant

KINDS = ("coupon_distribution", "joint_marketing", "resource_exchange")
PROPOSED, ACCEPTED, REJECTED, WITHDRAWN, ENDED, EXPIRED = (
    "proposed", "accepted", "rejected", "withdrawn", "ended", "expired")
STATUSES = (PROPOSED, ACCEPTED, REJECTED, WITHDRAWN, ENDED, EXPIRED)
ANSWER_WITHIN = dt.timedelta(days=30)  # how long a proposal's latest terms wait for an answer
TERM_FIELDS = ("commission_fen", "sales_share_bp", "template_ids", "description", "ends_at")


def open_key(merchant_a: int, merchant_b: int, kind: str) -> str:
    """The value of ``Cooperation.open_key`` while a cooperation of ``kind`` between the two
    merchants (in either direction) is open."""
    low, high = sorted((merchant_a, merchant_b))
    return f"{low}:{high}:{kind}"


class Cooperation(BaseModel):
    """A cooperation between ``proposer`` and ``partner``, and its current terms.

    ``commission_fen``: what the proposer owes the partner per redeemed (or used) coupon the
    partner handed out; ``sales_share_bp``: the partner's share (basis points) of what orders
    paid with those coupons; ``template_ids``: JSON list of the proposer's templates the
    partner distributes (kind ``coupon_distribution``). ``version`` counts the terms' revisions.
    """

    id = AutoField()
    proposer = ForeignKeyField(Merchant, backref="cooperations_proposed", on_delete="RESTRICT",
                               index=False)  # (proposer, status, id) below
    partner = ForeignKeyField(Merchant, backref="cooperations_received", on_delete="RESTRICT",
                              index=False)  # (partner, status, id) below
    kind = CharField(max_length=32)
    status = CharField(max_length=16, default=PROPOSED)
    turn_merchant_id = IntegerField(null=True)  # who answers next; None once decided
    open_key = CharField(max_length=64, null=True, unique=True)
    commission_fen = IntegerField(default=0)
    sales_share_bp = IntegerField(default=0)
    template_ids = CharField(max_length=255, default="[]")
    description = CharField(max_length=500, default="")
    ends_at = UTCDateTimeField(null=True)
    version = IntegerField(default=1)
    created_by = IntegerField()
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    accepted_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)  # rejected, withdrawn, ended or expired

    class Meta:
        indexes = ((("proposer", "status", "id"), False),
                   (("partner", "status", "id"), False),
                   (("status", "id"), False))

    @property
    def template_id_list(self) -> list[int]:
        return json.loads(self.template_ids or "[]")

    def answer_by(self) -> dt.datetime:
        """When a proposal lapses unanswered: at its ``ends_at``, or ``ANSWER_WITHIN`` after
        it was made or last countered (``updated_at``), whichever comes first."""
        waited = self.updated_at + ANSWER_WITHIN
        return min(waited, self.ends_at) if self.ends_at is not None else waited

    @classmethod
    def unlapsed(cls, now: dt.datetime):
        """SQL: the row's ``answer_by`` is still ahead of ``now`` (a proposal not lapsed)."""
        return ((cls.ends_at.is_null() | (cls.ends_at > now))
                & (cls.updated_at > now - ANSWER_WITHIN))

    def terms(self) -> dict:
        """The current terms, as the history keeps them."""
        return {"commission_fen": self.commission_fen, "sales_share_bp": self.sales_share_bp,
                "template_ids": self.template_id_list, "description": self.description,
                "ends_at": self.ends_at.isoformat() if self.ends_at else None}


class CooperationEvent(BaseModel):
    """One action on a cooperation: who (merchant and staff user; none when the platform
    acted: ``ends_at`` came, or an operator ended it), what, the terms it left."""

    id = AutoField()
    cooperation = ForeignKeyField(Cooperation, backref="events", on_delete="CASCADE")
    merchant_id = IntegerField(null=True)  # None: the platform (ends_at reached, an operator)
    staff_user_id = IntegerField(null=True)
    # propose | counter | accept | reject | withdraw | end, or by the platform: expire (an
    # accepted one ended, a proposal lapsed at ends_at) | terminate (an operator ended it;
    # who is in the operators' audit log, the reason is the message)
    action = CharField(max_length=16)
    terms = TextField()  # JSON snapshot of Cooperation.terms() after the action
    message = CharField(max_length=500, default="")
    version = IntegerField()
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "cooperation_event"


def _register() -> None:
    from alliance.accounts.merge import register_user_data

    # Which staff member acted is a record of a merchant's action; it stays with that account.
    register_user_data("cooperation_events", models=(CooperationEvent, Cooperation))


_register()
