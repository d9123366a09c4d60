"""What every scenario is made of: the Workload it returns, the Bench it gets, the registry."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from typing import Callable

from alliance.accounts.models import User
from alliance.accounts.tokens import TokenService
from alliance.db import connection, db
from alliance.engines import make_database
from bench.data import Scale, bench_user_name
from bench.loadgen import Measurement, http_request
from bench.servers import call
from config.settings import Settings


Check = Callable[[Measurement], list[str]]


@dataclass
class Workload:
    """What the load generator sends, and what must hold afterwards."""

    requests: list[list[bytes]]  # one list per connection, cycled
    ok: frozenset[int] = frozenset({200})
    check: Check | None = None
    # Send each request once per server process before the warm-up (reads the server caches:
    # a steady state).
    prime: bool = False


@dataclass
class Bench:
    """What a scenario function gets: the server it drives and the data loaded into it."""

    host: str
    port: int
    connections: int
    scale: Scale
    settings: Settings  # the servers' (their SECRET_KEY signs the tokens minted here)
    providers_database: str | None = None  # the stand-ins' database (None: the server's)

    @contextlib.contextmanager
    def at_providers(self):
        """Work on the providers' stand-ins' database instead of the server's (e.g. pay a
        trade at the WeChat Pay stand-in) for the enclosed block; this thread only runs."""
        if self.providers_database is None:
            yield
            return
        server_database, providers = db.obj, make_database(self.providers_database)
        db.initialize(providers)
        try:
            with connection():
                yield
        finally:
            providers.close_all()
            db.initialize(server_database)

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

    def user_ids(self, count: int) -> list[int]:
        """The ids of the first ``count`` loaded users."""
        with connection():
            return [u.id for u in User.select(User.id).where(User.nickname.startswith("压测用户"))
                    .order_by(User.id).limit(count)]

    def token_for(self, user_id: int) -> str:
        """An access token of ``user_id``, minted directly (a login recorded as usual)."""
        service = TokenService(self.settings.secret_key, self.settings.access_token_ttl_s)
        with connection():
            return service.issue("user", user_id, ["consumer"]).access_token

    def tokens(self, count: int) -> list[tuple[int, str]]:
        """(user id, access token) of the first ``count`` loaded users."""
        return [(user_id, self.token_for(user_id)) for user_id in self.user_ids(count)]

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


def count(query) -> int:
    with connection():
        return query.count()
