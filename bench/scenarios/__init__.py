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

from bench.loadgen import Measurement
from bench.scenarios.core import SCENARIOS, Bench, Check, Scenario, Workload, count, scenario
# Registered in this order (the order of the report's tables).
from bench.scenarios import browsing, counter, orders  # noqa: E402,F401

__all__ = ["SCENARIOS", "Bench", "Check", "Measurement", "Scenario", "Workload", "count",
           "scenario"]
