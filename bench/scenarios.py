"""The scenarios: each is one function that prepares a Workload against a running server.

    @scenario("me", data=("users",))
    def me(bench: Bench) -> Workload:
        tokens = [bench.login(bench.user_name(i)) for i in range(1, bench.connections + 1)]
        return Workload([[bench.request("GET", "/api/v1/me", token=t)] for t in tokens])

``data`` names the bulk loaders (bench/data.py) the scenario needs. The function runs in the
harness, after the servers are up: it may call the server (``bench.call``, ``bench.login``)
and read the database (the harness is bound to it), and returns one list of prepared
requests per connection (cycled by the load generator) and, optionally, a ``check`` that
runs after the load and returns the problems it finds (exact counts in the database). Every
scenario also fails on an answer whose status is not in ``ok`` and on transport errors.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from alliance.accounts.models import RefreshFamily, User
from alliance.db import connection
from bench.data import Scale, bench_user_name
from bench.loadgen import Measurement, http_request
from bench.servers import call

Check = Callable[[Measurement], list[str]]


@dataclass
class Workload:
    """What the load generator sends, and what must hold afterwards."""

    requests: list[list[bytes]]  # one list per connection, cycled
    ok: frozenset[int] = frozenset({200})
    check: Check | None = None


@dataclass
class Bench:
    """What a scenario function gets: the server it drives and the data loaded into it."""

    host: str
    port: int
    connections: int
    scale: Scale

    def request(self, method: str, path: str, body: dict | None = None, *,
                token: str | None = None, client: int = 0) -> bytes:
        """A prepared request; ``client`` picks the caller's address (X-Real-IP)."""
        headers = {"X-Real-IP": f"198.18.{client // 250 % 250}.{client % 250 + 1}"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return http_request(method, path, payload, headers)

    def call(self, method: str, path: str, body: dict | None = None, *,
             token: str | None = None) -> tuple[int, dict | None]:
        """A request outside the measurement; (status, JSON)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return call(self.host, self.port, method, path, body, headers)

    def login(self, name: str) -> str:
        """An access token for the sandbox stand-in ``name``."""
        status, answer = self.call("POST", "/api/v1/auth/wechat", {"code": f"sandbox-{name}"})
        if status != 200:
            raise RuntimeError(f"setup login of {name} failed: {status} {answer}")
        return answer["access_token"]

    def user_name(self, index: int) -> str:
        """The name of loaded user ``index`` (1 .. scale.users)."""
        return bench_user_name((index - 1) % self.scale.users + 1)


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Bench], Workload]
    target: str  # "app" (python -m server) or "baseline" (bench.baseline)
    data: tuple[str, ...]
    summary: str


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, *, target: str = "app",
             data: tuple[str, ...] = ()) -> Callable[[Callable[[Bench], Workload]], Callable]:
    """Register a scenario; its docstring's first line is its summary in the report."""

    def register(build: Callable[[Bench], Workload]) -> Callable[[Bench], Workload]:
        summary = (build.__doc__ or name).strip().splitlines()[0]
        SCENARIOS[name] = Scenario(name, build, target, data, summary)
        return build

    return register


def _count(query) -> int:
    with connection():
        return query.count()


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
    users_before = _count(User.select())
    families_before = _count(RefreshFamily.select())
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
        families = _count(RefreshFamily.select()) - families_before
        if families != logins:
            problems.append(f"{logins} logins answered 200 but {families} logins were recorded")
        users = _count(User.select())
        if users != users_before:
            problems.append(f"logins of known users created {users - users_before} new users")
        return problems

    return Workload(requests, check=check)
