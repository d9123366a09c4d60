"""Coupons at the counter: a claim rush and redemptions by a clerk."""

from __future__ import annotations

from peewee import fn

from alliance.coupons import claims
from alliance.coupons.models import Coupon, CouponTemplate
from alliance.coupons.templates import create_template
from alliance.db import connection
from alliance.merchants.models import Merchant, Shop, StaffMembership
from alliance.redemptions.models import Redemption
from bench.loadgen import Measurement
from bench.scenarios.core import Bench, Workload, scenario


CLAIMERS_PER_COUPON = 2


@scenario("claim", data=("users", "merchants"))
def claim_rush(bench: Bench) -> Workload:
    """POST /api/v1/coupon-templates/{id}/claim: twice as many users as coupons, one each."""
    stock = max(1, min(1000, bench.scale.users // CLAIMERS_PER_COUPON))
    users = bench.tokens(stock * CLAIMERS_PER_COUPON)
    with connection():
        issuer = Merchant.select().where(Merchant.status == "approved").order_by(Merchant.id).get()
        template = create_template(
            {"name": "压测抢券", "kind": "fixed", "discount_fen": 500, "total_stock": stock,
             "per_user_limit": 1, "valid_days": 7, "channels": ["own"]},
            merchant_id=issuer.id, actor_kind="user", actor_id=issuer.owner_id)
    path = f"/api/v1/coupon-templates/{template.id}/claim"
    requests = [[bench.request("POST", path, {}, token=token, client=c)
                 for _, token in users[c::bench.connections]] for c in range(bench.connections)]

    def check(result: Measurement) -> list[str]:
        with connection():
            coupons = Coupon.select().where(Coupon.template == template.id).count()
            issued = CouponTemplate.get_by_id(template.id).issued
            doubles = (Coupon.select(Coupon.user_id).where(Coupon.template == template.id)
                       .group_by(Coupon.user_id).having(fn.COUNT(Coupon.id) > 1).count())
        problems = []
        if coupons > stock or issued != coupons:
            problems.append(f"oversold: stock {stock}, issued {issued}, coupons {coupons}")
        if coupons != result.statuses.get(201, 0):
            problems.append(f"{result.statuses.get(201, 0)} claims answered 201 "
                            f"but {coupons} coupons exist")
        if sum(result.statuses.values()) >= len(users) and coupons != stock:
            problems.append(f"every user tried but only {coupons} of {stock} were claimed")
        if doubles:
            problems.append(f"{doubles} users hold more than their one coupon")
        return problems

    return Workload(requests, ok=frozenset({201, 409}), check=check)


REDEEMED_CODES = 2000


@scenario("redeem", data=("users", "merchants", "shops"))
def counter_redemption(bench: Bench) -> Workload:
    """POST /api/v1/merchant/redemptions: a clerk redeems claimed coupon codes, each once."""
    holders = bench.user_ids(min(REDEEMED_CODES, bench.scale.users - 1) + 1)
    clerk_id = holders.pop()
    with connection():
        merchant = (Merchant.select().where(Merchant.status == "approved")
                    .order_by(Merchant.id).get())
        shop_id = Shop.select(Shop.id).where(Shop.merchant == merchant.id).order_by(Shop.id).get().id
        StaffMembership.get_or_create(merchant=merchant.id, user=clerk_id,  # again: 2nd table
                                      defaults={"role": "merchant_clerk"})
        template = create_template(
            {"name": "压测核销券", "kind": "fixed", "discount_fen": 300,
             "total_stock": len(holders), "per_user_limit": 1, "valid_days": 7,
             "channels": ["own"]},
            merchant_id=merchant.id, actor_kind="user", actor_id=merchant.owner_id)
        codes = [claims.claim(template.id, user_id).code for user_id in holders]
    token = bench.token_for(clerk_id)
    requests = [[bench.request("POST", "/api/v1/merchant/redemptions",
                               {"code": code, "shop_id": shop_id}, token=token, client=c)
                 for code in codes[c::bench.connections]] for c in range(bench.connections)]

    def check(result: Measurement) -> list[str]:
        with connection():
            redemptions = (Redemption.select().where(Redemption.code.in_(codes))
                           .count())
            distinct = (Redemption.select(Redemption.code).where(Redemption.code.in_(codes))
                        .distinct().count())
            used = (Coupon.select().where(Coupon.template == template.id,
                                          Coupon.status == "redeemed").count())
        problems = []
        if redemptions != distinct:
            problems.append(f"{redemptions - distinct} codes were redeemed twice")
        if redemptions != result.statuses.get(201, 0) or used != redemptions:
            problems.append(f"{result.statuses.get(201, 0)} redemptions answered 201, "
                            f"{redemptions} recorded, {used} coupons redeemed")
        return problems

    return Workload(requests, ok=frozenset({201, 409}), check=check)
