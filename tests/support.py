"""Test support: fresh databases (SQLite or the MySQL of TEST_DATABASE_URL), settings, and
an HTTP test case that talks to the real application and its sandbox over loopback."""
from __future__ import annotations

import atexit
import contextlib
import http.client
import itertools
import json
import logging
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from tornado.testing import AsyncHTTPTestCase

from alliance.db import db, init_db
from alliance.engines import recreate_mysql_database
from config.settings import Settings, load_settings

MYSQL_URL = os.environ.get("TEST_DATABASE_URL") or None
_ROOT = Path(tempfile.mkdtemp(prefix="alliance-tests-"))
_ROOT_OWNER = os.getpid()


def _remove_root() -> None:
    # A run leaves a database file per test here (hundreds of MB): gone when the run ends,
    # by the process that made it (not a forked child that exits through Python).
    if os.getpid() == _ROOT_OWNER:
        shutil.rmtree(_ROOT, ignore_errors=True)


atexit.register(_remove_root)
VAR_DIR = _ROOT / "var"
_counter = itertools.count()
_template: Path | None = None
_mysql_ready = False
OPERATOR_PASSWORD = "correct-horse-42"


def _prepare_schema() -> None:
    from alliance.migrate import migrate
    from sandbox.models import install

    migrate()
    install()


def fresh_database_url() -> str:
    """A migrated, empty database for one test."""
    global _template, _mysql_ready
    if MYSQL_URL:
        if not _mysql_ready:
            recreate_mysql_database(MYSQL_URL)
            init_db(MYSQL_URL)
            with db.connection_context():
                _prepare_schema()
            _mysql_ready = True
        else:
            init_db(MYSQL_URL)
        empty_all_tables()
        return MYSQL_URL
    if _template is None:
        path = _ROOT / "template.sqlite3"
        init_db(f"sqlite:///{path}")
        with db.connection_context():
            _prepare_schema()
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.obj.close_all()
        _template = path
    target = _ROOT / f"test-{next(_counter)}.sqlite3"
    shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


def empty_all_tables() -> None:
    with db.connection_context():
        tables = [t for t in db.get_tables() if t != "schema_migration"]
        db.execute_sql("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for table in tables:
                db.execute_sql(f"DELETE FROM `{table}`")
        finally:
            db.execute_sql("SET FOREIGN_KEY_CHECKS = 1")


def use_fresh_database() -> str:
    """Bind the domain to a fresh database (unit tests) and return its URL."""
    url = fresh_database_url()
    init_db(url)
    return url


def age_login_code(target: str, seconds: int) -> None:
    """Move a sent code's clock back by ``seconds``, as if it had been sent that long ago."""
    import datetime as dt

    from alliance.accounts.models import LoginCode

    delta = dt.timedelta(seconds=seconds)
    with db.connection_context():
        for row in LoginCode.select().where(LoginCode.target == target):
            (LoginCode.update(sent_at=row.sent_at - delta, expires_at=row.expires_at - delta)
             .where(LoginCode.id == row.id).execute())


def age_idempotency_claim(principal: str, key: str, delta) -> None:
    """Move a claimed Idempotency-Key's clock back by ``delta`` (a timedelta), as if its
    request had been claimed that long ago."""
    from alliance.infra.models import IdempotencyRecord

    with db.connection_context():
        record = IdempotencyRecord.get(IdempotencyRecord.principal == principal,
                                       IdempotencyRecord.key == key)
        (IdempotencyRecord.update(created_at=record.created_at - delta,
                                  claimed_at=record.claimed - delta)
         .where(IdempotencyRecord.id == record.id).execute())


@dataclass(frozen=True)
class Statement:
    thread: int
    in_transaction: bool
    sql: str  # MySQL's backquotes as double quotes, so one assertion fits both databases


@contextlib.contextmanager
def recorded_sql():
    """The statements peewee runs in the enclosed block, in order (BEGIN and COMMIT are not
    among them: the drivers run those without peewee's log)."""
    statements: list[Statement] = []

    class Recorder(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):  # (sql, params); the pool logs strings
                statements.append(Statement(threading.get_ident(), db.in_transaction(),
                                            str(record.msg[0]).replace("`", '"')))

    recorder, peewee_log = Recorder(), logging.getLogger("peewee")
    level = peewee_log.level
    peewee_log.addHandler(recorder)
    peewee_log.setLevel(logging.DEBUG)
    try:
        yield statements
    finally:
        peewee_log.removeHandler(recorder)
        peewee_log.setLevel(level)


@contextlib.contextmanager
def recorded_round_trips():
    """The queries PyMySQL sends in the enclosed block, one per round trip, in order:
    (thread, text), BEGIN and COMMIT among them (MySQL only)."""
    from unittest import mock

    from pymysql.connections import Connection
    from pymysql.constants import COMMAND

    sent: list[tuple[int, str]] = []
    send = Connection._execute_command

    def record(connection, command, sql):
        if command == COMMAND.COM_QUERY:
            sent.append((threading.get_ident(), sql if isinstance(sql, str) else sql.decode()))
        return send(connection, command, sql)

    with mock.patch.object(Connection, "_execute_command", record):
        yield sent


def pipelined_round_trips(sent: list[tuple[int, str]]) -> list[str]:
    """Of ``recorded_round_trips``' record: the round trips of the first pipelined
    transaction (its BEGIN sent with other statements), on its thread, up to its COMMIT."""
    begin = next(i for i, (_, text) in enumerate(sent) if text.startswith("BEGIN;"))
    trips = [text for thread, text in sent[begin:] if thread == sent[begin][0]]
    return trips[:trips.index("COMMIT") + 1]


def make_settings(database_url: str, port: int = 8000, **env: str) -> Settings:
    environ = {"ALLIANCE_ENV": "sandbox", "ALLIANCE_VAR_DIR": str(VAR_DIR),
               "DATABASE_URL": database_url, "PORT": str(port), **env}
    return load_settings(environ, use_dotenv=False)


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        data = self.json
        return data.get("error", {}).get("code") if isinstance(data, dict) else None


class ApiTestCase(AsyncHTTPTestCase):
    """The real application on a loopback port, its sandbox included, on a fresh database."""

    env: dict[str, str] = {}

    def get_app(self):
        from server.app import make_app

        self.database_url = fresh_database_url()
        self.settings = make_settings(self.database_url, self.get_http_port(), **self.env)
        self.app = make_app(self.settings)
        return self.app

    def tearDown(self):
        from alliance.payments import notices

        ctx = self.app.settings["ctx"]
        if "mail_sandbox" in ctx.extras:
            ctx.extras["mail_sandbox"].stop()
        super().tearDown()
        notices.register_payment_handler(None)  # make_app installed the orders' handlers
        notices.register_refund_handler(None)
        ctx.shutdown()
        if hasattr(db.obj, "close_all"):
            db.obj.close_all()

    def api(self, method: str, path: str, json_body=None, *, token: str | None = None,
            headers: dict | None = None, body: bytes | None = None) -> Response:
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        if body is None and method in ("POST", "PUT", "PATCH"):
            body = b""
        response = self.fetch(path, method=method, body=body, headers=headers,
                              raise_error=False, allow_nonstandard_methods=True)
        return Response(response.code, dict(response.headers), response.body or b"")

    def post_from_thread(self, path: str, body: dict, token: str,
                         headers: dict | None = None) -> tuple[int, dict]:
        """A request sent from a plain thread (for the concurrency tests): status, JSON."""
        connection_ = http.client.HTTPConnection("127.0.0.1", self.get_http_port(), timeout=30)
        try:
            connection_.request("POST", path, json.dumps(body),
                                {"Authorization": f"Bearer {token}",
                                 "Content-Type": "application/json", **(headers or {})})
            response = connection_.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection_.close()

    def run_blocking(self, fn, *args):
        """Call blocking ``fn`` on a thread while the server (and its sandbox) keeps serving."""
        return self.io_loop.run_sync(lambda: self.io_loop.run_in_executor(None, fn, *args))

    def login(self, name: str = "alice") -> dict:
        """Log in as the sandbox stand-in ``name``; the login answer."""
        response = self.api("POST", "/api/v1/auth/wechat", {"code": f"sandbox-{name}"})
        assert response.status == 200, response.body
        return response.json

    def token(self, name: str = "alice") -> str:
        return self.login(name)["access_token"]

    def merchant_owned_by(self, name: str = "owner", **merchant):
        """A merchant (no shop yet; approved unless ``merchant`` says otherwise, as
        ``make_merchant`` takes it) owned by the stand-in ``name``: (the owner's token, it)."""
        from alliance.accounts.models import User
        from tests.factories import make_merchant

        login = self.login(name)
        with db.connection_context():
            made = make_merchant(owner=User.get_by_id(login["user"]["id"]), **merchant)
        return login["access_token"], made

    def operator_token(self, role: str = "administrator", username: str | None = None) -> str:
        """Create a console account with ``role`` and log it in; its access token."""
        from alliance.accounts.operators import create_operator

        username = username or f"{role}-{next(_counter)}"
        with db.connection_context():
            create_operator(username, OPERATOR_PASSWORD, role)
        response = self.api("POST", "/api/admin/v1/auth/login",
                            {"username": username, "password": OPERATOR_PASSWORD})
        assert response.status == 200, response.body
        return response.json["access_token"]

    def sms_code(self, phone: str) -> str:
        """Send a sign-in code to ``phone`` and read it from the sandbox's SMS outbox."""
        response = self.api("POST", "/api/v1/auth/sms/send", {"phone": phone})
        assert response.status == 200, response.body
        return self.last_sms_code(phone)

    def last_sms_code(self, phone: str) -> str:
        items = self.api("GET", f"/_sandbox/sms/messages?phone={phone}").json["items"]
        return items[0]["template_param"]["code"]

    def mail_code(self, email: str) -> str:
        """Send a sign-in code to ``email`` and read it from the sandbox's mailbox."""
        response = self.api("POST", "/api/v1/auth/email/send", {"email": email})
        assert response.status == 200, response.body
        text = self.api("GET", f"/_sandbox/mail/messages?to={email}").json["items"][0]["text"]
        return re.search(r"\b(\d{6})\b", text).group(1)

    def assert_error(self, response: Response, status: int, code: str) -> None:
        assert response.status == status, (response.status, response.body)
        assert response.error_code == code, response.body
        envelope = response.json["error"]
        assert envelope["message"] and envelope["request_id"] == response.headers.get("X-Request-Id")
        assert isinstance(envelope["details"], dict)


def png_bytes(size: tuple[int, int] = (8, 8), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A small, valid PNG image."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]],
              boundary: str = "----alliance-test-boundary") -> tuple[bytes, dict]:
    """A multipart/form-data body and its headers."""
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                     f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                     .encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
