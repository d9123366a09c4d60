"""The command line: serve (default), migrate, load-demo, create-operator, makemigration,
backup, restore.

    python -m server [--host H] [--port P] [--processes N]
    python -m server migrate
    python -m server load-demo [--if-empty]
    python -m server create-operator NAME --role ROLE
    python -m server makemigration NAME
    python -m server backup [FILE]
    python -m server restore FILE [--force]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path


def _settings(overrides: dict[str, str]):
    from config.settings import ConfigurationError, load_settings

    try:
        return load_settings({**os.environ, **overrides})
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m server", description="异业联盟 backend")
    parser.add_argument("--host", help="listen address (HOST)")
    parser.add_argument("--port", type=int, help="listen port (PORT)")
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes (0: one per core)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="serve HTTP (the default)")
    sub.add_parser("migrate", help="apply pending schema migrations")
    demo = sub.add_parser("load-demo", help="load the demo data")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    create = sub.add_parser("create-operator", help="create a console account")
    create.add_argument("name", help="the login name")
    create.add_argument("--role", required=True,
                        choices=["administrator", "operator", "customer_service"])
    create.add_argument("--display-name", default="")
    make = sub.add_parser("makemigration", help="write a migration for the models' changes")
    make.add_argument("name")
    dump = sub.add_parser("backup", help="write a consistent backup of all data and uploads")
    dump.add_argument("file", nargs="?",
                      help="where to write it (default: a new, recorded file in BACKUP_DIR)")
    load = sub.add_parser("restore", help="restore a backup into an empty database")
    load.add_argument("file", help="a backup file, or the name of one in BACKUP_DIR")
    load.add_argument("--force", action="store_true",
                      help="replace a database that holds data (and the uploaded files)")
    return parser


def _open_database(settings):
    """Bind the models to DATABASE_URL and check that it answers; a one-line error and exit
    status 2 when the URL is not one we speak or the database cannot be opened (down,
    unknown host, bad credentials, unwritable path), rather than a traceback."""
    from peewee import InterfaceError, OperationalError

    from alliance.db import init_db

    try:
        database = init_db(settings.database_url)
        database.connect(reuse_if_open=True)
        database.close()
    except ValueError as exc:  # alliance.engines: an unsupported scheme
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    except (OperationalError, InterfaceError, OSError) as exc:
        print(f"cannot open the database of DATABASE_URL: {exc}", file=sys.stderr)
        sys.exit(2)
    return database


def cmd_migrate(settings) -> int:
    from alliance.migrate import migrate

    _open_database(settings)
    applied = migrate()
    print("applied: " + ", ".join(applied) if applied else "schema is up to date")
    return 0


def cmd_makemigration(settings, name: str) -> int:
    from alliance.migrate import make_migration, migrate

    _open_database(settings)
    migrate()
    path = make_migration(name)
    print(path or "models and migrations agree: nothing to write")
    return 0


def cmd_load_demo(settings, if_empty: bool) -> int:
    from sandbox.demo import load

    if not settings.is_sandbox:
        print("demo data is for sandbox mode only", file=sys.stderr)
        return 2
    _open_database(settings)
    print("demo data loaded" if load(settings, if_empty) else "database not empty: demo skipped")
    return 0


def cmd_create_operator(settings, name: str, role: str, display_name: str) -> int:
    import getpass

    from alliance.accounts.operators import create_operator
    from alliance.errors import AllianceError

    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password (again): "):
        print("the passwords differ", file=sys.stderr)
        return 2
    _open_database(settings)
    try:
        operator = create_operator(name, password, role, display_name)
    except AllianceError as exc:
        print(f"{exc.code}: {exc.message} {exc.details or ''}", file=sys.stderr)
        return 2
    print(f"created operator {operator.username} (id {operator.id}, role {operator.role})")
    return 0


def cmd_backup(settings, file: str | None) -> int:
    from alliance.infra.backup import BackupError, backup

    _open_database(settings)
    if file is None:
        return _recorded_backup(settings)
    try:
        summary = backup(Path(file), settings.var_dir / "uploads")
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {file}: schema {summary.migrations[-1]}, "
          f"{sum(summary.tables.values())} rows in {len(summary.tables)} tables, "
          f"{len(summary.files)} files")
    return 0


def _recorded_backup(settings) -> int:
    """A backup into BACKUP_DIR, recorded as the console's are (listed, downloadable,
    pruned by the daily job)."""
    from peewee import DatabaseError

    from alliance.backups import services as backups
    from alliance.errors import AllianceError

    try:
        row = backups.run_now(settings.backup_dir, settings.var_dir / "uploads")
    except AllianceError as exc:  # BACKUP_RUNNING
        print(f"backup refused: {exc.code}: {exc.message} {exc.details or ''}", file=sys.stderr)
        return 1
    except DatabaseError as exc:  # no backup table yet
        print(f"backup refused: {exc} (is the database migrated? python -m server migrate)",
              file=sys.stderr)
        return 1
    path = settings.backup_dir / row.file_name
    if row.status != "succeeded":
        print(f"backup {row.id} failed: {row.error}", file=sys.stderr)
        return 1
    print(f"backup {row.id} written to {path}: schema {row.schema_migration}, "
          f"{row.rows_total} rows, {row.files} files, {row.size_bytes} bytes, "
          f"sha256 {row.sha256}")
    return 0


def backup_file(settings, file: str) -> Path:
    """``file`` as given when it exists; else, a bare name, the file of that name in
    BACKUP_DIR (what the console's restore command names)."""
    path = Path(file)
    if path.exists() or path.name != file:
        return path
    return settings.backup_dir / file


def cmd_restore(settings, file: str, force: bool) -> int:
    from alliance.backups import services as backups
    from alliance.infra.backup import BackupError
    from alliance.infra.restore import restore

    path = backup_file(settings, file)
    _open_database(settings)
    try:
        summary = restore(path, settings.var_dir / "uploads", force=force)
    except BackupError as exc:
        print(f"restore refused: {exc}", file=sys.stderr)
        return 1
    for table, count in summary.tables.items():
        print(f"  {table}: {count} rows")
    print(f"restored {path}: schema {summary.migrations[-1]}, counts verified, "
          f"{len(summary.files)} files")
    found = backups.after_restore(settings.backup_dir, path.resolve(), summary)
    if found["found"] or found["unreadable"]:
        print(f"backups in {settings.backup_dir}: {found['found']} newer ones recorded again"
              + (f", {found['unreadable']} unreadable left alone" if found["unreadable"] else ""))
    return 0


def cmd_serve(settings, processes: int) -> int:
    from tornado.netutil import bind_sockets

    if processes != 1:
        # Each process keeps its own metric files here; /metrics adds them up.
        metrics_dir = settings.var_dir / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from server import logs

    logs.configure(settings.log_level)
    if settings.is_sandbox:
        from alliance.db import db
        from sandbox.models import install

        _open_database(settings)
        install()
        db.obj.close_all()
    sockets = bind_sockets(settings.port, settings.host, reuse_port=False)
    print(f"serving on http://{settings.host}:{settings.port} ({settings.env} mode)\n"
          f"  API docs: {settings.local_origin}/docs\n"
          f"  console:  {settings.local_origin}/console/", flush=True)
    if settings.delivery_processes < 1:
        if processes == 1:
            asyncio.run(_serve(settings, sockets))
            return 0
        handoff, helpers = None, ()
    else:  # server processes hand committed notifications over to the delivery process(es)
        from server import deliveries

        reader, handoff = os.pipe()
        helpers = (lambda: deliveries.serve(settings, reader),) * settings.delivery_processes
    from server import supervisor

    count = processes or os.cpu_count() or 1
    dealer = None
    if count > 1:  # a notification's copies reaching two processes are applied once
        from payments.arrivals import share_between_processes
        from server.dealer import Dealer

        share_between_processes()
        dealer = Dealer(sockets)  # the parent deals the connections to the workers in turn
    return supervisor.run(
        count, lambda channel: asyncio.run(_serve(settings, sockets, channel, handoff)),
        helpers, dealer)


async def _serve(settings, sockets, channel=None, handoff: int | None = None) -> None:
    """Serve on ``sockets``, or, with a ``channel``, the connections the parent deals over
    it (``server.dealer``)."""
    from tornado.httpserver import HTTPServer

    from server.app import flush_traffic_now, make_app, start_cache_feed, start_traffic_flush
    from server.dealer import serve_dealt

    app = make_app(settings)
    if handoff is not None:
        app.settings["ctx"].extras["prompt_delivery"].attach(handoff)
    start_cache_feed(app.settings["ctx"].executor)
    traffic_flush = start_traffic_flush(app.settings["ctx"])
    # The client's address comes from X-Real-IP only behind a trusted proxy (server.clients,
    # in BaseHandler.prepare), not from Tornado's xheaders, which believe any peer. A body
    # must arrive within body_timeout_s: Tornado holds it whole before a handler sees it.
    server = HTTPServer(app, max_body_size=settings.max_upload_bytes + 1024 * 1024,
                        idle_connection_timeout=75, body_timeout=settings.body_timeout_s)
    stop_dealt = None
    if channel is None:
        server.add_sockets(sockets)
    else:
        stop_dealt = serve_dealt(server, channel)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.stop()
    if stop_dealt is not None:
        stop_dealt()
    await asyncio.wait_for(server.close_all_connections(), timeout=10)
    traffic_flush.periodic.stop()
    flush_traffic_now(app.settings["ctx"])  # the views counted since the last flush
    app.settings["ctx"].shutdown()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {name: str(value) for name, value in (("HOST", args.host), ("PORT", args.port))
                 if value}
    settings = _settings(overrides)
    if args.command == "migrate":
        return cmd_migrate(settings)
    if args.command == "makemigration":
        return cmd_makemigration(settings, args.name)
    if args.command == "create-operator":
        return cmd_create_operator(settings, args.name, args.role, args.display_name)
    if args.command == "load-demo":
        return cmd_load_demo(settings, args.if_empty)
    if args.command == "backup":
        return cmd_backup(settings, args.file)
    if args.command == "restore":
        return cmd_restore(settings, args.file, args.force)
    return cmd_serve(settings, args.processes)


if __name__ == "__main__":
    sys.exit(main())
