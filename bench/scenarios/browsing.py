"""Reads and logins: the handler stack, the signed-in user, logins, merchant pages, the
nearby search and the goods search."""

from __future__ import annotations

import random

from alliance.accounts.models import RefreshFamily, User
from alliance.db import connection
from alliance.merchants.industries import INDUSTRIES
from bench.data import bench_position, merchant_ids
from bench.loadgen import Measurement, http_request
from bench.scenarios.core import Bench, Workload, count, scenario


@scenario("baseline", target="baseline")
def baseline(bench: Bench) -> Workload:
    """GET / of a bare Tornado JSON handler: the ceiling every ratio is taken against."""
    return Workload([[http_request("GET", "/")] for _ in range(bench.connections)])


@scenario("healthz")
def healthz(bench: Bench) -> Workload:
    """GET /healthz: the full handler stack plus one pooled connection and SELECT 1."""
    return Workload([[bench.request("GET", "/healthz", client=c)]
                     for c in range(bench.connections)])


@scenario("me", data=("users",))
def me(bench: Bench) -> Workload:
    """GET /api/v1/me: verify the JWT, check the login is not revoked, read the user."""
    tokens = [bench.login(bench.user_name(c + 1)) for c in range(bench.connections)]
    return Workload([[bench.request("GET", "/api/v1/me", token=token, client=c)]
                     for c, token in enumerate(tokens)])


LOGINS_PER_CONNECTION = 500


@scenario("login", data=("users",))
def login(bench: Bench) -> Workload:
    """POST /api/v1/auth/wechat with sandbox codes of loaded users (jscode2session over HTTP)."""
    users_before = count(User.select())
    families_before = count(RefreshFamily.select())
    requests = []
    for c in range(bench.connections):
        indexes = range(c + 1, c + 1 + LOGINS_PER_CONNECTION * bench.connections,
                        bench.connections)
        requests.append([bench.request("POST", "/api/v1/auth/wechat",
                                       {"code": f"sandbox-{bench.user_name(i)}"}, client=c)
                         for i in indexes])

    def check(result: Measurement) -> list[str]:
        problems = []
        logins = result.statuses.get(200, 0)
        families = count(RefreshFamily.select()) - families_before
        if families != logins:
            problems.append(f"{logins} logins answered 200 but {families} logins were recorded")
        users = count(User.select())
        if users != users_before:
            problems.append(f"logins of known users created {users - users_before} new users")
        return problems

    return Workload(requests, check=check)


def _merchant_pages(bench: Bench, path: str, seed: int, prime: bool = False) -> Workload:
    """GET ``path`` (``{id}`` in it) of random loaded merchants, anonymously."""
    with connection():
        ids = merchant_ids()
    rng = random.Random(seed)
    return Workload([[bench.request("GET", path.format(id=rng.choice(ids)), client=c)
                      for _ in range(200)] for c in range(bench.connections)], prime=prime)


@scenario("merchant", data=("merchants", "shops"))
def merchant_detail(bench: Bench) -> Workload:
    """GET /api/v1/merchants/{id} of loaded merchants, anonymously: the merchant, its shops; each page viewed once per server process before the warm-up (a running server's cache)."""
    return _merchant_pages(bench, "/api/v1/merchants/{id}", seed=11, prime=True)


@scenario("items", data=("merchants", "goods"))
def merchant_items(bench: Bench) -> Workload:
    """GET /api/v1/merchants/{id}/items of loaded merchants: a page of goods and services."""
    return _merchant_pages(bench, "/api/v1/merchants/{id}/items", seed=13)


@scenario("nearby", data=("merchants", "shops"))
def nearby_search(bench: Bench) -> Workload:
    """GET /api/v1/merchants?lat=&lng=&sort=distance from points of the loaded area; each search made once per server process before the warm-up (a running server's index and cache)."""
    rng = random.Random(12)
    requests = []
    for c in range(bench.connections):
        points = [bench_position(rng) for _ in range(200)]
        requests.append([bench.request(
            "GET", f"/api/v1/merchants?lat={lat}&lng={lng}&sort=distance&limit=20", client=c)
            for lat, lng in points])
    return Workload(requests, prime=True)


@scenario("goods", data=("merchants", "shops", "goods"))
def goods_search(bench: Bench) -> Workload:
    """GET /api/v1/items of an industry from a price, cheapest first, and GET /api/v1/items/hot near points of the loaded area, in turn."""
    rng, industries = random.Random(14), sorted(INDUSTRIES)
    requests = []
    for c in range(bench.connections):
        paths = [f"/api/v1/items?industry={rng.choice(industries)}&min_price_fen="
                 f"{rng.randint(100, 40_000)}&sort=price_asc&limit=20" if n % 2 else
                 "/api/v1/items/hot?lat={}&lng={}&limit=20".format(*bench_position(rng))
                 for n in range(200)]
        requests.append([bench.request("GET", path, client=c) for path in paths])
    return Workload(requests)
