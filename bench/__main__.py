"""The load benchmark: ``make bench`` (full) and ``make bench-smoke`` (CI's tiny run).

    python -m bench [--smoke] [--databases sqlite,mysql] [--processes 1,2]
                    [--connections 16] [--scenarios baseline,me,...] [--duration S]

For each database and process count: a fresh database, migrated and bulk-loaded; the server
(``python -m server``) and the bare Tornado baseline (``python -m bench.baseline``) as
subprocesses; every scenario driven by the load generator's client processes on loopback.
Writes ``results.json`` and the report; exits 1 when a post-check failed.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from alliance.db import db, init_db, is_sqlite
from alliance.engines import recreate_mysql_database
from bench import data, loadgen, report
from bench.scenarios import SCENARIOS, Bench, Measurement, Scenario, Workload
from bench.servers import (ROOT, DatabaseProbe, app_server, baseline_server, free_port,
                           providers_env, providers_server)
from config.settings import load_settings

DEFAULT_MYSQL_URL = "mysql://root@127.0.0.1:3306/alliance_bench"
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Plan:
    databases: tuple[str, ...]
    processes: tuple[int, ...]
    connections: tuple[int, ...]
    scenarios: tuple[Scenario, ...]
    duration_s: float
    warmup_s: float
    clients: int  # 0: as many client processes as server processes
    scale: data.Scale
    out_dir: Path
    report_path: Path
    mysql_url: str
    port_base: int
    render_only: bool


def _csv(text: str, cast=str) -> tuple:
    return tuple(cast(part.strip()) for part in text.split(",") if part.strip())


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="CI's tiny run: SQLite, 1 process, 4 connections, small data")
    parser.add_argument("--databases", help="sqlite,mysql (default both; smoke: sqlite)")
    parser.add_argument("--processes", help="server process counts (default 1,2; smoke: 1)")
    parser.add_argument("--connections", help="connection counts (default 16; smoke: 4)")
    parser.add_argument("--scenarios", help=f"subset of {','.join(SCENARIOS)} (default all)")
    parser.add_argument("--duration", type=float, help="measured seconds per scenario")
    parser.add_argument("--warmup", type=float, help="unmeasured seconds before each")
    parser.add_argument("--clients", type=int, default=0,
                        help="load generator processes (0: one per server process)")
    parser.add_argument("--users", type=int, help="users to load (default 100000; smoke: 200)")
    parser.add_argument("--out", help="results directory (default bench/results[/smoke])")
    parser.add_argument("--report", help="report path (default bench/REPORT.md; smoke: in --out)")
    parser.add_argument("--mysql-url", default=os.environ.get("BENCH_MYSQL_URL", DEFAULT_MYSQL_URL),
                        help="the MySQL/MariaDB database to drop and fill (BENCH_MYSQL_URL)")
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("BENCH_PORT_BASE", 0)),
                        help="first port to try for the servers (BENCH_PORT_BASE; 0: any)")
    parser.add_argument("--render-only", action="store_true",
                        help="rewrite the report from the results.json of --out (no run)")
    args = parser.parse_args(argv)
    smoke = args.smoke
    out_dir = Path(args.out or ROOT / "bench" / "results" / ("smoke" if smoke else "")).resolve()
    names = _csv(args.scenarios) if args.scenarios else tuple(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(unknown)}")
    names = ("baseline",) + tuple(name for name in names if name != "baseline")  # first
    scale = data.SMOKE_SCALE if smoke else data.Scale()
    if args.users:
        scale = replace(scale, users=args.users)
    return Plan(
        databases=_csv(args.databases or ("sqlite" if smoke else "sqlite,mysql")),
        processes=_csv(args.processes or ("1" if smoke else "1,2"), int),
        connections=_csv(args.connections or ("4" if smoke else "16"), int),
        scenarios=tuple(SCENARIOS[name] for name in names),
        duration_s=args.duration or (1.5 if smoke else 10.0),
        warmup_s=args.warmup if args.warmup is not None else (0.5 if smoke else 2.0),
        clients=args.clients, scale=scale, out_dir=out_dir,
        report_path=Path(args.report).resolve() if args.report else
        (out_dir / "REPORT.md" if smoke else ROOT / "bench" / "REPORT.md"),
        mysql_url=args.mysql_url, port_base=args.port_base, render_only=args.render_only)


def server_env(plan: Plan, database_url: str, port: int) -> dict[str, str]:
    """The environment the server runs with: sandbox mode, this database, no login limit."""
    env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    env.update(ALLIANCE_ENV="sandbox", REDIS_URL="",  # empty: not even from a .env file
               ALLIANCE_VAR_DIR=str(plan.out_dir / "var"),
               DATABASE_URL=database_url, PORT=str(port),
               # The scenarios log in thousands of times a minute from few addresses.
               ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN="1000000000")
    return env


def database_url(plan: Plan, database: str) -> str:
    """The URL of a fresh, empty database of kind ``database``."""
    if database == "sqlite":
        path = plan.out_dir / "db" / "bench.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in path.parent.glob("bench.sqlite3*"):
            leftover.unlink()
        return f"sqlite:///{path}"
    if database == "mysql":
        recreate_mysql_database(plan.mysql_url)
        return plan.mysql_url
    raise SystemExit(f"unknown database {database!r}: sqlite or mysql")


def providers_database_url(plan: Plan) -> str:
    """A fresh, migrated database for the providers' stand-ins, beside the server's: WeChat
    and the payment providers keep their own records, they do not write into ours. SQLite
    whichever database the server is measured on: on MariaDB the stand-ins' writes (a
    message per payment) took the database server's CPU from ours, and the providers are
    not on our database server in production."""
    from alliance.migrate import migrate

    path = plan.out_dir / "db" / "providers.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for leftover in path.parent.glob("providers.sqlite3*"):
        leftover.unlink()
    url = f"sqlite:///{path}"
    init_db(url)
    migrate()
    if hasattr(db.obj, "close_all"):
        db.obj.close_all()
    return url


def prepare_database(plan: Plan, env: dict[str, str]) -> str:
    """Migrate the database of ``env`` and load what the scenarios need; its version."""
    from alliance.migrate import migrate

    settings = load_settings(env)  # as the servers read it (.env included)
    init_db(settings.database_url)
    migrate()
    needed = {name for s in plan.scenarios for name in s.data}
    started = time.monotonic()
    loaded = data.load(settings, plan.scale, needed)
    print(f"[{settings.database_url.split(':', 1)[0]}] bulk-loaded rows {loaded} "
          f"in {time.monotonic() - started:.1f} s", flush=True)
    with db.connection_context():
        return db.execute_sql("SELECT sqlite_version()" if is_sqlite() else
                              "SELECT VERSION()").fetchone()[0]


def status_problems(workload: Workload, result: Measurement) -> list[str]:
    problems = []
    unexpected = {s: n for s, n in result.statuses.items() if s not in workload.ok}
    if unexpected:
        problems.append(f"unexpected answers {unexpected}: {result.error_samples[:1]}")
    if result.transport_errors:
        problems.append(f"{result.transport_errors} transport errors: {result.error_samples[:1]}")
    if not result.requests:
        problems.append("no request completed in the measuring window")
    return problems


def measure(plan: Plan, scenario: Scenario, server, bench: Bench, database: str,
            processes: int, providers=None, database_probe: DatabaseProbe | None = None
            ) -> report.Row:
    """Prepare ``scenario`` on ``bench``, drive it, check it: its row."""
    connections = bench.connections
    try:
        workload = scenario.build(bench)
    except Exception as exc:  # a broken scenario fails its row, not the whole run
        print(f"[{database}-{processes}p] {scenario.name:<10} setup failed: {exc!r}", flush=True)
        return report.Row(database, processes, scenario.name, connections, 0.0, 0.0, 0.0, 0.0,
                          os.getloadavg()[0], {}, [f"setup failed: {exc!r}"[:300]])
    primed: dict[int, int] = {}
    # The server's parent deals connections to its processes in turn (server/dealer.py): a
    # pass per process, each with the lists moved one connection on, warms each process with
    # every request of the workload.
    for shift in range(processes if workload.prime else 0):
        lists = workload.requests[shift:] + workload.requests[:shift]
        for status, count in loadgen.prime(HOST, server.port, lists).items():
            primed[status] = primed.get(status, 0) + count
    cpu_before = server.cpu_seconds()
    providers_before = providers.cpu_seconds() if providers else 0.0
    database_before = database_probe.sample() if database_probe else None
    result = loadgen.run(HOST, server.port, workload.requests, duration_s=plan.duration_s,
                         warmup_s=plan.warmup_s, clients=plan.clients or processes)
    answered = sum(result.statuses.values())
    cpu_ms = (server.cpu_seconds() - cpu_before) * 1000 / max(answered, 1)
    providers_ms = ((providers.cpu_seconds() - providers_before) * 1000 / max(answered, 1)
                    if providers else 0.0)
    database_ms, statements = (database_probe.per_request(database_before, answered)
                               if database_probe else (None, None))
    problems = status_problems(workload, result)
    problems += [f"{n} priming answers were {status}" for status, n in primed.items()
                 if status not in workload.ok]
    if workload.check is not None:
        problems += workload.check(result)
    print(f"[{database}-{processes}p] {scenario.name:<10} c={connections:<3} "
          f"{result.rps:>8,.0f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms"
          f"  cpu {cpu_ms:5.2f} ms/req (providers {providers_ms:4.2f}"
          + (f", database {database_ms:4.2f}" if database_ms is not None else "")
          + (f", {statements:.1f} statements" if statements is not None else "") + ")"
          f"  {'ok' if not problems else 'FAILED: ' + '; '.join(problems)}",
          flush=True)
    return report.Row(database, processes, scenario.name, connections, result.rps,
                      result.p50_ms, result.p99_ms, cpu_ms, os.getloadavg()[0], result.statuses,
                      problems, providers_cpu_ms=providers_ms, database_cpu_ms=database_ms,
                      statements=statements)


def run_table(plan: Plan, database: str, processes: int, settings_env: dict[str, str],
              providers_url: str, ports: tuple[int, int, int]) -> list[report.Row]:
    """Every scenario at every connection count against one database and process count."""
    label = f"{database}-{processes}p"
    app_port, baseline_port, providers_port = ports
    env = providers_env({**settings_env, "PORT": str(app_port)}, providers_port)
    settings = load_settings(env)
    rows = []
    database_probe = DatabaseProbe.local() if database == "mysql" else None
    providers = providers_server(providers_port, {**settings_env, "PORT": str(providers_port),
                                                  "DATABASE_URL": providers_url},
                                 plan.out_dir / f"{label}-providers.log")
    app = app_server(app_port, processes, env, plan.out_dir / f"{label}-server.log")
    baseline = baseline_server(baseline_port, processes, plan.out_dir / f"{label}-baseline.log")
    with providers, app, baseline:
        for connections in plan.connections:
            # The baseline first and again last: the ratios divide by the mean of both, so
            # that a machine that got busier or quieter meanwhile shows, and counts less.
            for scenario in plan.scenarios + plan.scenarios[:1]:
                baseline_row = scenario.target == "baseline"
                server = baseline if baseline_row else app
                bench = Bench(HOST, server.port, connections, plan.scale, settings,
                              providers_database=providers_url)
                rows.append(measure(plan, scenario, server, bench, database, processes,
                                    providers=None if baseline_row else providers,
                                    database_probe=None if baseline_row else database_probe))
    return rows


def write_report(plan: Plan, results: dict) -> None:
    """REPORT.md from ``results`` (what results.json holds), ratios recomputed."""
    rows = report.with_ratios([report.Row.from_dict(row) for row in results["rows"]])
    plan.report_path.write_text(report.render(rows, results["facts"], results["command"],
                                              results["settings"], results["summaries"]))
    print(f"report: {plan.report_path}")


def main(argv: list[str] | None = None) -> int:
    plan = parse_args(argv)
    results_path = plan.out_dir / "results.json"
    if plan.render_only:
        write_report(plan, json.loads(results_path.read_text()))
        return 0
    shutil.rmtree(plan.out_dir, ignore_errors=True)
    plan.out_dir.mkdir(parents=True)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    if os.environ.get("BENCH_COMMAND"):  # how make ran it
        command = f"{os.environ['BENCH_COMMAND'].strip()}    # runs: {command}"
    facts = report.machine_facts()
    app_port = free_port(plan.port_base or None)
    baseline_port = free_port(plan.port_base + 1 if plan.port_base else None)
    providers_port = free_port(plan.port_base + 2 if plan.port_base else None)
    rows: list[report.Row] = []
    for database in plan.databases:
        providers_url = providers_database_url(plan)
        env = server_env(plan, database_url(plan, database), app_port)
        version = prepare_database(plan, env)
        if database == "mysql":
            facts["MariaDB/MySQL"] = version
        for processes in plan.processes:
            rows += run_table(plan, database, processes, env, providers_url,
                              (app_port, baseline_port, providers_port))
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()
    clients = (f"{plan.clients} client process{'es' if plan.clients > 1 else ''}"
               if plan.clients else "one client process per server process")
    results = {
        "command": command, "facts": facts,
        "settings": {
            "measured per scenario": f"{plan.duration_s:g} s after {plan.warmup_s:g} s of warm-up",
            "load generator": "bench/loadgen.py: asyncio, raw HTTP/1.1 keep-alive, one request "
                              f"in flight per connection, {clients}",
            "data": f"{plan.scale.users:,} users with WeChat identities, "
                    f"{plan.scale.merchants:,} merchants, {plan.scale.shops:,} shops, "
                    f"{plan.scale.goods:,} goods (each loaded when a scenario needs it)",
            "server": "python -m server, sandbox mode, JSON access log to a file, no Redis",
            "providers": "the stand-ins of WeChat, WeChat Pay, Alipay and SMS in a server "
                         "process of their own (same code, sandbox mode, a SQLite database of "
                         "their own, no access log: LOG_LEVEL=WARNING), "
                         "which the server calls over HTTP as it would call the providers",
        },
        "summaries": {s.name: s.summary for s in plan.scenarios},
        "rows": [row.as_dict() for row in report.with_ratios(rows)],
    }
    results_path.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    write_report(plan, results)
    return 1 if any(row.problems for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
