"""The scheduler process: ``python -m scheduler`` runs every registered job on its schedule.

    python -m scheduler            run until SIGTERM or SIGINT (several may run: each slot
                                   of each job runs once across them)
    python -m scheduler --once     run every job that is due now, once, and exit
    python -m scheduler --list     list the jobs and their schedules
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

SCHEDULER_DB_CONNECTIONS = 8


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scheduler",
                                     description="异业联盟 scheduled jobs")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="run the jobs due now, then exit")
    mode.add_argument("--list", action="store_true", help="list the jobs and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stop = threading.Event()
    if not (args.list or args.once):
        # From the first moment, not once started: a SIGTERM that comes while the process
        # still imports and connects (a quick restart) ends it cleanly, not killed by -15.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    from config.settings import ConfigurationError, load_settings

    try:
        settings = load_settings(dict(os.environ))
        from scheduler.jobs import JOBS

        specs = JOBS.specs(settings)
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for spec in specs:
            print(f"{spec.name:32} {spec.schedule.describe():36} {spec.description}")
        return 0

    from alliance.db import init_db
    from scheduler.runner import Scheduler
    from server import logs
    from server.app import build_context

    logs.configure()
    init_db(settings.database_url, SCHEDULER_DB_CONNECTIONS)
    scheduler = Scheduler(build_context(settings), JOBS)
    if args.once:
        outcomes = {spec.name: scheduler.run_slot(spec) for spec in scheduler.due()}
        for name, outcome in outcomes.items():
            print(f"{name}: {outcome}")
        return 1 if "failed" in outcomes.values() else 0

    if stop.is_set():  # asked to stop while starting
        return 0
    scheduler.start()
    print(f"scheduler {scheduler.holder} running {len(scheduler.specs)} jobs", flush=True)
    stop.wait()
    scheduler.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
