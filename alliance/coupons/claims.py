"""Getting coupons: claiming (free, through the issuer's page, the platform or a partner's
counter), exchanging points for one, and expiring them.

Never oversold: the stock is taken by a guarded ``issued < total_stock`` update. The
per-user limit holds under concurrency because each coupon takes one of the user's
``per_user_limit`` slots of the template, unique in the table; a claim that finds every
slot taken fails, and its transaction gives the stock back.

A claim's ``scene`` (what the mini-program got from the QR code or link that led to it)
attributes it: ``p=<merchant id>`` a partner merchant distributing the template at its
counter or in its posts, ``r=<user id>`` the consumer who referred the claimer, joined by
``&`` (``p=12&r=345``). Other keys are left to the pages that read them.
"""
from __future__ import annotations

import datetime as dt

from peewee import JOIN, IntegrityError, fn

from alliance.accounts.models import User
from alliance.checks import ascii_digits
from alliance.coupons.codes import new_coupon_code
from alliance.coupons.errors import (CouponLimitReached, CouponNotClaimable, CouponSoldOut,
                                     CouponTemplateNotFound)
from alliance.coupons.models import Coupon, CouponDistribution, CouponTemplate
from alliance.coupons.rules import claim_open, validity_on_claim
from alliance.db import connection, transaction, utcnow
from alliance.prepared import Arg, Prepared, PreparedInsert
from alliance.errors import ValidationFailed
from alliance.infra.localcache import LocalCache, subscribe
from alliance.merchants.models import Merchant
from alliance.merchants.queries import PUBLIC_DETAILS
from alliance.points import services as points

MAX_SCENE_LENGTH = 64
SOLD_OUT_MEMORY_S = 5.0
ATTRIBUTION_KEYS = {"p": "distributor merchant id", "r": "referrer user id"}


def parse_scene(scene: str | None) -> dict[str, int]:
    """The attribution a claim's scene carries: ``{"p": merchant id, "r": user id}``."""
    if scene is None or scene == "":
        return {}
    if not isinstance(scene, str) or len(scene) > MAX_SCENE_LENGTH:
        raise ValidationFailed("scene 格式不正确", details={"field": "scene", "issue": "format",
                                                          "max_length": MAX_SCENE_LENGTH})
    found: dict[str, int] = {}
    for part in scene.split("&"):
        key, _, value = part.partition("=")
        if key not in ATTRIBUTION_KEYS:
            continue
        if not ascii_digits(value, 10) or int(value) >= 2**31:
            raise ValidationFailed("scene 格式不正确", details={
                "field": "scene", "issue": f"{key} must be a {ATTRIBUTION_KEYS[key]}"})
        found[key] = int(value)
    return found


# Templates this process found sold out moments ago (template id -> True): the claims of a
# rush that come after the last coupon are answered from memory, on the event loop
# (``refuse_from_memory``), without a worker or the database. A sold-out template becomes
# claimable again only by a change of the template (more stock, another status) or of its
# issuer (suspended: not found), and every such write forgets the merchant detail, which
# shows both (``forget_merchant_detail``): the memory is cleared with it, in every process
# (within the invalidation feed's second), and lasts ``SOLD_OUT_MEMORY_S`` at most.
SOLD_OUT = LocalCache(SOLD_OUT_MEMORY_S, key_type=int)  # server/app.py configures it


class _ForgetSoldOut:
    """Clears the sold-out memory at every forget of a merchant detail."""

    key_type = int

    def discard(self, key) -> None:
        SOLD_OUT.clear()

    def clear(self) -> None:
        SOLD_OUT.clear()


subscribe(PUBLIC_DETAILS.name, _ForgetSoldOut())


def refuse_from_memory(template_id: int, scene: str | None = None) -> None:
    """The refusals of a claim (or exchange) known without the database, in the order
    ``claim`` gives them: a malformed scene (VALIDATION_FAILED), a template this process
    found sold out moments ago (COUPON_SOLD_OUT). Memory only: the handlers call it on the
    event loop before they hand the claim to a worker (``claim`` itself always reads)."""
    parse_scene(scene)
    if SOLD_OUT.get(template_id):
        raise CouponSoldOut(details={"template_id": template_id})


def _sold_out(template_id: int, ticket: int) -> CouponSoldOut:
    """COUPON_SOLD_OUT for a template found sold out, remembered (unless a change of a
    template or merchant came since ``ticket``, taken before the read)."""
    SOLD_OUT.put(template_id, True, ticket)
    return CouponSoldOut(details={"template_id": template_id})


# A claim rush runs these for every request: their SQL is built once (alliance.prepared.Prepared).
# PyMySQL parses a descriptor for every column of every result and converts every value, so
# the read that answers most claims of a rush (sold out) takes four columns; a claim that
# may succeed then reads the template for its answer, with the issuer's id, name and status
# only, and how many coupons of it the claimer holds.
_TEMPLATE_STATE = Prepared(
    lambda: CouponTemplate.select(CouponTemplate.status, CouponTemplate.issued,
                                  CouponTemplate.total_stock, Merchant.status)
    .join(Merchant, JOIN.LEFT_OUTER).where(CouponTemplate.id == Arg(0)).limit(1).tuples())
_TEMPLATE_WITH_ISSUER = Prepared(
    lambda: CouponTemplate.select(
        CouponTemplate, Merchant.id, Merchant.name, Merchant.status,
        Coupon.select(fn.COUNT(Coupon.id)).where(Coupon.template == CouponTemplate.id,
                                                 Coupon.user_id == Arg(1)).alias("held"))
    .join(Merchant, JOIN.LEFT_OUTER).where(CouponTemplate.id == Arg(0)).limit(1))
_HELD_SLOTS = Prepared(lambda: Coupon.select(Coupon.seq)
                       .where(Coupon.template == Arg(0), Coupon.user_id == Arg(1)).tuples())
_TAKE_ONE = Prepared(lambda: CouponTemplate.update(
    issued=CouponTemplate.issued + 1, updated_at=Arg(1, CouponTemplate.updated_at))
    .where(CouponTemplate.id == Arg(0), CouponTemplate.status == "active",
           CouponTemplate.issued < CouponTemplate.total_stock))
_NEW_COUPON = PreparedInsert(Coupon)


def _open_template(template_id: int, user_id: int, now: dt.datetime) -> CouponTemplate:
    """The template when its issuer is visible and it hands out coupons now; its ``held``
    is how many coupons of it ``user_id`` holds."""
    ticket = SOLD_OUT.ticket()
    state = _TEMPLATE_STATE.raw_rows(template_id)
    if state:  # the refusals it can give without the whole template
        status, issued, total_stock, issuer_status = state[0]
        if issuer_status not in (None, "approved"):
            raise CouponTemplateNotFound(details={"template_id": template_id})
        if status == "active" and issued >= total_stock:
            raise _sold_out(template_id, ticket)
    template = _TEMPLATE_WITH_ISSUER.first(template_id, user_id) if state else None
    issuer = template.merchant if template is not None else None
    if template is None or (issuer is not None and issuer.status != "approved"):
        raise CouponTemplateNotFound(details={"template_id": template_id})
    if template.status == "active" and template.issued >= template.total_stock:
        raise _sold_out(template_id, ticket)
    if not claim_open(template, now):
        raise CouponNotClaimable(details={"template_id": template_id, "reason": "not open",
                                          "status": template.status})
    return template


def _distribution(template: CouponTemplate, distributor_id: int) -> CouponDistribution:
    distribution = (CouponDistribution.select(CouponDistribution)
                    .join(Merchant, on=(CouponDistribution.distributor == Merchant.id))
                    .where(CouponDistribution.template == template,
                           CouponDistribution.distributor == distributor_id,
                           CouponDistribution.status == "active",
                           Merchant.status == "approved").first())
    if distribution is None or "partner" not in template.channel_set:
        raise CouponNotClaimable("该商户未代发此优惠券", details={
            "template_id": template.id, "reason": "not distributed here",
            "distributor_merchant_id": distributor_id})
    return distribution


def _free_slots(template: CouponTemplate, user_id: int) -> list[int]:
    """The user's slots of the template not taken yet (known before the write transaction:
    a slot taken meanwhile is refused by the unique index); COUPON_LIMIT_REACHED when none.
    Which slots are taken is read only when the user holds some but not all of them."""
    if template.held >= template.per_user_limit:
        raise CouponLimitReached(details={"template_id": template.id,
                                          "per_user_limit": template.per_user_limit})
    if not template.held:
        return list(range(1, template.per_user_limit + 1))
    held = {seq for (seq,) in _HELD_SLOTS.rows(template.id, user_id)}
    free = [seq for seq in range(1, template.per_user_limit + 1) if seq not in held]
    if not free:
        raise CouponLimitReached(details={"template_id": template.id,
                                          "per_user_limit": template.per_user_limit})
    return free


def _issue(template: CouponTemplate, user_id: int, now: dt.datetime, free: list[int], *,
           channel: str, distribution: CouponDistribution | None = None,
           referrer_user_id: int | None = None, scene: str = "") -> Coupon:
    """Take one of the stock and one of the user's ``free`` slots (inside the caller's
    transaction, which gives the stock back when no slot is left)."""
    # The stock first: on MariaDB the coupon's foreign key share-locks the template row, and
    # two claims each holding that lock could not both upgrade it for the stock update.
    if _TAKE_ONE.execute(template.id, now) != 1:
        _open_template(template.id, user_id, now)  # why: paused, ended or sold out meanwhile
        raise CouponSoldOut(details={"template_id": template.id})
    template.issued += 1  # what the claim's answer shows as remaining
    valid_from, valid_until = validity_on_claim(template, now)
    for seq in free:
        try:
            # A duplicate key undoes only the failed INSERT on SQLite and InnoDB alike (the
            # transaction and its stock update stay), so no savepoint is needed to go on.
            return _NEW_COUPON.create(
                template=template, user_id=user_id, seq=seq, code=new_coupon_code(),
                valid_from=valid_from, valid_until=valid_until, channel=channel,
                distribution=distribution,
                distributor_merchant_id=distribution.distributor_id if distribution else None,
                commission_fen=distribution.commission_fen if distribution else 0,
                cooperation_id=distribution.cooperation_id if distribution else None,
                referrer_user_id=referrer_user_id, scene=scene or "", claimed_at=now)
        except IntegrityError:
            continue  # a concurrent claim of this user took the slot: try the next one
    raise CouponLimitReached(details={"template_id": template.id,
                                      "per_user_limit": template.per_user_limit})


def claim(template_id: int, user_id: int, scene: str | None = None,
          now: dt.datetime | None = None) -> Coupon:
    """Claim a free coupon: COUPON_SOLD_OUT when none is left, COUPON_LIMIT_REACHED when the
    user holds their limit, COUPON_NOT_CLAIMABLE outside its window or channels.

    Everything that can refuse the claim is read first, so a rush that sold out (or a user
    at the limit) is answered without the write lock; the write transaction is the guarded
    stock update and the coupon's insert, which decide."""
    now = now or utcnow()
    attribution = parse_scene(scene)
    with connection():
        template = _open_template(template_id, user_id, now)
        channels = template.channel_set
        if "points" in channels:
            raise CouponNotClaimable("该优惠券需要用积分兑换", details={
                "template_id": template_id, "reason": "points exchange only"})
        distribution = None
        if "p" in attribution:
            distribution = _distribution(template, attribution["p"])
            channel = "partner"
        elif channels & {"own", "platform"}:
            channel = "own" if "own" in channels else "platform"
        else:
            raise CouponNotClaimable("该优惠券只在合作商户处发放", details={
                "template_id": template_id, "reason": "partner counters only"})
        referrer = attribution.get("r")
        if referrer == user_id or (referrer is not None and not User.select().where(
                User.id == referrer).exists()):
            referrer = None
        free = _free_slots(template, user_id)
        with transaction():
            return _issue(template, user_id, now, free, channel=channel,
                          distribution=distribution, referrer_user_id=referrer,
                          scene=scene or "")


def exchange(template_id: int, user_id: int, now: dt.datetime | None = None) -> Coupon:
    """Buy a coupon of the points channel with points (received by the issuing merchant):
    POINTS_INSUFFICIENT leaves both the points and the stock as they were."""
    now = now or utcnow()
    with connection():
        template = _open_template(template_id, user_id, now)
        if "points" not in template.channel_set:
            raise CouponNotClaimable("该优惠券不能用积分兑换", details={
                "template_id": template_id, "reason": "not a points coupon"})
        free = _free_slots(template, user_id)
        with transaction():
            coupon = _issue(template, user_id, now, free, channel="points")
            points.spend(user_id, template.points_cost, merchant_id=template.merchant_id,
                         idempotency_key=f"coupon:{coupon.id}:exchange", ref_type="coupon",
                         ref_id=str(coupon.id), memo=f"兑换优惠券：{template.name}", now=now)
            return coupon


def award(template_id: int, user_id: int, now: dt.datetime, *, channel: str) -> Coupon:
    """Give a coupon away (a lottery prize, ``channel`` "lottery"), whatever the template's
    channels, inside the caller's transaction: its stock, window and per-user limit hold as
    for a claim (COUPON_TEMPLATE_NOT_FOUND, COUPON_NOT_CLAIMABLE, COUPON_SOLD_OUT,
    COUPON_LIMIT_REACHED when it cannot be given; the caller's rollback gives the stock
    back)."""
    template = _open_template(template_id, user_id, now)
    return _issue(template, user_id, now, _free_slots(template, user_id), channel=channel)


def expire_coupons(now: dt.datetime | None = None, batch: int = 1000) -> int:
    """Mark unused coupons past their validity ``expired`` (coupons held by an unpaid order
    are left to the order); the number marked. For the scheduler."""
    now = now or utcnow()
    expired = 0
    while True:
        ids = [c.id for c in Coupon.select(Coupon.id)
               .where(Coupon.status == "active", Coupon.valid_until <= now)
               .order_by(Coupon.id).limit(batch)]
        if not ids:
            return expired
        with transaction():
            expired += (Coupon.update(status="expired")
                        .where(Coupon.id.in_(ids), Coupon.status == "active").execute())
        if len(ids) < batch:
            return expired


def move_user_coupons(source_id: int, target_id: int) -> int:
    """Account merge: the absorbed account's coupons join the survivor's (in the merge's
    transaction). A slot number the survivor already holds for a template moves past the
    survivor's last (the survivor may then hold more than the per-user limit: each coupon
    was claimed fairly); referrals by the absorbed account become the survivor's, and the
    survivor's coupons lose referrals by either account. The number of coupons moved."""
    moved = 0
    for coupon in Coupon.select().where(Coupon.user_id == source_id).order_by(Coupon.id):
        held = {seq for (seq,) in Coupon.select(Coupon.seq).where(
            Coupon.template == coupon.template_id, Coupon.user_id == target_id).tuples()}
        seq = max(held) + 1 if coupon.seq in held else coupon.seq
        moved += (Coupon.update(user_id=target_id, seq=seq)
                  .where(Coupon.id == coupon.id).execute())
    (Coupon.update(referrer_user_id=None)
     .where(Coupon.user_id == target_id,
            Coupon.referrer_user_id.in_((source_id, target_id))).execute())
    Coupon.update(referrer_user_id=target_id).where(Coupon.referrer_user_id == source_id).execute()
    return moved
