"""BaseHandler: JSON in and out, the error envelope, request ids, auth, thread pool."""
from __future__ import annotations

import contextvars
import functools
import json
import logging
import random
import re
from typing import Any, Awaitable, Callable, TypeVar

import tornado.web
from tornado.ioloop import IOLoop

from alliance.accounts.permissions import Principal
from alliance.checks import ascii_digits, lone_surrogates, nested_within
from alliance.db import can_write_at_once, connection
from alliance.errors import (AllianceError, MalformedJson, PermissionDenied, RateLimited,
                             Unauthenticated, ValidationFailed)
from alliance import paging
from alliance.infra import idempotency
from server import validation
from server.context import AppContext
from server.loopwrites import TO_WORKER, LoopWrites

log = logging.getLogger("alliance.server")

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

T = TypeVar("T")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

_HTTP_CODES = {
    400: ("BAD_REQUEST", "请求有误"),
    401: ("UNAUTHENTICATED", "请先登录"),
    403: ("FORBIDDEN", "没有权限执行此操作"),
    404: ("NOT_FOUND", "请求的内容不存在"),
    405: ("METHOD_NOT_ALLOWED", "不支持该请求方法"),
    413: ("PAYLOAD_TOO_LARGE", "请求内容过大"),
    415: ("UNSUPPORTED_MEDIA_TYPE", "不支持的内容类型"),
    429: ("RATE_LIMITED", "操作太频繁，请稍后再试"),
}


# How deep a request's JSON may nest: no API takes more than a few levels, and deeper values
# overflow the stack of whatever walks them (json, the idempotency fingerprint, a log line).
MAX_JSON_DEPTH = 32
_TOO_DEEP = object()
# A surrogate written as an escape (paired ones, an emoji's, parse to one character)
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dumps(value: Any) -> str:
    """Compact JSON with Chinese as is (one encoder kept: ``json.dumps`` with options builds
    a new one per call)."""
    return _ENCODER.encode(value)


def error_envelope(code: str, message: str, request_id: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "request_id": request_id,
                      "details": details or {}}}


class PayloadTooLarge(AllianceError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413
    message = "请求内容过大"


def new_request_id() -> str:
    """32 random hex digits from the process's generator (reseeded in every forked child).

    Not ``uuid4``: its ``os.urandom`` is a system call, and on the event loop every call
    that lets go of the GIL waits for it again behind the worker threads.
    """
    return f"{random.getrandbits(128):032x}"


class BaseHandler(tornado.web.RequestHandler):
    """Every JSON endpoint's base: parse, authorize, run the service off the loop, write."""

    max_body_bytes: int | None = None  # None: the settings' JSON limit
    principal: Principal | None = None

    @property
    def ctx(self) -> AppContext:
        return self.application.settings["ctx"]

    # -- lifecycle ---------------------------------------------------------------------
    def prepare(self) -> None:
        incoming = self.request.headers.get("X-Request-Id", "")
        self.request_id = incoming if _REQUEST_ID_RE.match(incoming) else new_request_id()
        request_id_var.set(self.request_id)
        self.set_header("X-Request-Id", self.request_id)
        self.request.remote_ip = self.ctx.client_addresses.of(self.request)
        limit = self.max_body_bytes or self.ctx.settings.max_body_bytes
        declared = self.request.headers.get("Content-Length")
        size = int(declared) if declared and ascii_digits(declared, 19) else len(self.request.body or b"")
        if size > limit:
            raise PayloadTooLarge(details={"limit_bytes": limit, "size_bytes": size})

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    # -- input -------------------------------------------------------------------------
    def json_body(self) -> dict:
        """The request body as a JSON object (empty body: {})."""
        body = self.request.body
        if not body or not body.strip():
            return {}
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedJson(details={"reason": str(exc)[:200]}) from None
        except RecursionError:  # deeper than the parser's stack
            value = _TOO_DEEP
        if value is _TOO_DEEP or not nested_within(value, MAX_JSON_DEPTH):
            raise MalformedJson(details={"reason": "nested too deep", "max_depth": MAX_JSON_DEPTH})
        if _SURROGATE_ESCAPE.search(body) and lone_surrogates(value):
            raise MalformedJson(details={"reason": "lone UTF-16 surrogate in a string"})
        if not isinstance(value, dict):
            raise ValidationFailed("请求内容必须是 JSON 对象", details={"expected": "object"})
        return value

    def query(self, name: str, default: str | None = None) -> str | None:
        value = self.get_query_argument(name, None)
        return default if value in (None, "") else value.strip()

    # -- execution ---------------------------------------------------------------------
    async def run_sync(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run blocking work (database, provider SDKs) on the pool, one connection held."""
        ctx = contextvars.copy_context()

        def call():
            with connection():
                return fn(*args, **kwargs)

        return await IOLoop.current().run_in_executor(self.executor, ctx.run, call)

    async def run_write(self, fn: Callable[..., T], *args) -> T:
        """Run ``fn``, a short write (a few statements of local SQL, no provider call), on
        the event loop in the writers' turn when the database has one (SQLite), else on the
        pool as ``run_sync`` (MySQL: every statement is a network round trip).

        On a worker, each statement let go of the GIL while SQLite ran it and then waited to
        have it back from the event loop: measured on payment notifications, SQLite's one
        write lock was held three times as long as the work done in it. On the loop there is
        no such wait, nor a hop to a worker and back. The writes of a loop wait for the turn
        together (``server.loopwrites``) and run one after another in one turn when it comes.
        """
        if not can_write_at_once():
            return await self.run_sync(fn, *args)
        outcome = await LoopWrites.of_running_loop().run(self, fn, args)
        if outcome is TO_WORKER:
            return await self.run_sync(fn, *args)
        return outcome

    def _after_commit_on_pool(self, fn: Callable[[], None]) -> None:
        ctx = contextvars.copy_context()

        def call():
            try:
                with connection():
                    fn()
            except Exception:
                log.exception("after-commit work failed")

        self.executor.submit(ctx.run, call)

    @property
    def executor(self):
        return self.ctx.executor

    # -- output ------------------------------------------------------------------------
    def write_json(self, value: Any, status: int = 200) -> None:
        self.write_json_text(dumps(value), status)

    def write_page(self, answer: dict) -> None:
        """Answer ``answer``, whose ``items`` are a whole short list (held whole: a merchant's
        shops, the industries), paged by the request's ``cursor`` and ``limit`` like every
        list; without a limit, all of it from the cursor on."""
        items, next_cursor = paging.page_of_whole(answer["items"], self.query("cursor"),
                                                  validation.page_limit(self.query("limit"), None))
        self.write_json({**answer, "items": items, "next_cursor": next_cursor})

    async def write_csv(self, filename: str,
                        batch: Callable[[Any], tuple[str, Any]]) -> None:
        """Stream a CSV file: ``batch(after)``, run on a worker, gives the next text and where
        the batch after it starts (None: done). The first batch's errors are answered in the
        envelope (nothing was sent yet); the text starts with a BOM, which spreadsheets need
        to read UTF-8."""
        text, after = await self.run_sync(batch, None)
        self.set_header("Content-Type", "text/csv; charset=utf-8")
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.write("\ufeff" + text)
        while after is not None:
            await self.flush()
            text, after = await self.run_sync(batch, after)
            self.write(text)
        self.finish()

    def write_json_text(self, text: str, status: int = 200) -> None:
        """Answer with ``text``, a JSON document already encoded by ``dumps``."""
        self.set_status(status)
        self._json_text = text
        if not getattr(self, "_hold_finish", False):
            self.finish(self._json_text)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.clear_header("Idempotent-Replayed")
        if isinstance(exc, AllianceError):
            code, message, details = exc.code, exc.message, exc.details
            if isinstance(exc, RateLimited):
                self.set_header("Retry-After", str(exc.retry_after))
        elif isinstance(exc, tornado.web.MissingArgumentError):
            code, message, details = "VALIDATION_FAILED", "缺少必需的参数", {"field": exc.arg_name}
        elif status_code in _HTTP_CODES:
            code, message = _HTTP_CODES[status_code]
            details = {}
        elif status_code < 500:
            code, message, details = f"HTTP_{status_code}", "请求有误", {}
        else:
            code, message, details = "INTERNAL_ERROR", "服务器开小差了，请稍后再试", {}
        self.finish(dumps(error_envelope(code, message, self.ensure_request_id(), details)))

    def ensure_request_id(self) -> str:
        """This response's request id, set as its X-Request-Id (also when it fails before
        ``prepare``, e.g. a body Tornado could not parse)."""
        rid = self._headers.get("X-Request-Id")
        if not rid:
            rid = getattr(self, "request_id", None) or new_request_id()
            self.set_header("X-Request-Id", rid)
        return rid

    def send_error(self, status_code: int = 500, **kwargs) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, AllianceError):
            status_code = exc.http_status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ, value, tb) -> None:
        if isinstance(value, AllianceError) and value.http_status < 500:
            return
        if isinstance(value, tornado.web.HTTPError) and value.status_code < 500:
            return
        log.error("unhandled error in %s %s", self.request.method, self.request.path,
                  exc_info=(typ, value, tb))

    # -- identity ----------------------------------------------------------------------
    def bearer_token(self) -> str:
        header = self.request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated(details={"header": "Authorization"})
        return token.strip()

    async def authenticate(self, kind: str = "user") -> Principal:
        principal = self.ctx.tokens.verify_access(self.bearer_token(), kind)
        if not self.ctx.tokens.known_active(principal):  # else no database, no thread hop
            await self.run_sync(self.ctx.tokens.ensure_family_active, principal)
        self.principal = principal
        return principal

    def idempotency_payload(self) -> bytes:
        """What makes a repeat of this request the same one (with its method and path):
        its body; a handler whose body is not JSON says what of it counts."""
        return self.request.body

    def client_ip(self) -> str:
        return self.request.remote_ip or "unknown"


Method = Callable[..., Awaitable[None]]


def authenticated(permission: str | None = None, kind: str = "user") -> Callable[[Method], Method]:
    """Require a valid access token of ``kind`` (and ``permission`` when given)."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        async def wrapper(self: BaseHandler, *args, **kwargs):
            principal = await self.authenticate(kind)
            if permission is not None and not principal.can(permission):
                raise PermissionDenied(details={"permission": permission})
            return await method(self, *args, **kwargs)

        return wrapper

    return decorate


def idempotent(method: Method) -> Method:
    """Honour an ``Idempotency-Key`` header on a creating POST (after ``authenticated``).

    The first successful answer is kept 24 h and replayed to the same key; a failed attempt
    changed nothing (services are atomic), so it releases the key for a retry. A repeat while
    the first runs is refused (409) unless the first's claim is older than
    ``idempotency.LEASE``: its process died, and the repeat takes the key over and runs.
    """

    @functools.wraps(method)
    async def wrapper(self: BaseHandler, *args, **kwargs):
        key = self.request.headers.get("Idempotency-Key")
        if key is None or self.principal is None:
            return await method(self, *args, **kwargs)
        print_ = idempotency.fingerprint(self.request.method, self.request.path,
                                         self.idempotency_payload())
        outcome = await self.run_sync(idempotency.begin, self.principal.key, key, print_)
        if isinstance(outcome, idempotency.Replay):
            self.set_status(outcome.status)
            self.set_header("Idempotent-Replayed", "true")
            self.finish(outcome.body)
            return None
        # The answer is recorded before it is sent: a client that repeats the request as
        # soon as it has the answer gets the replay, not IDEMPOTENCY_IN_PROGRESS.
        self._hold_finish = True
        try:
            result = await method(self, *args, **kwargs)
        except BaseException:
            self._hold_finish = False
            await self.run_sync(idempotency.abandon, outcome)
            raise
        self._hold_finish = False
        if 200 <= self.get_status() < 300 and hasattr(self, "_json_text"):
            await self.run_sync(idempotency.complete, outcome, self.get_status(), self._json_text)
        else:
            await self.run_sync(idempotency.abandon, outcome)
        if hasattr(self, "_json_text") and not self._finished:
            self.finish(self._json_text)
        return result

    return wrapper


def rate_limited(name: str, limit: Callable[[BaseHandler], int], window_s: int = 60,
                 key: Callable[[BaseHandler], str] = lambda h: h.client_ip()) -> Callable[[Method], Method]:
    """Allow ``limit(handler)`` requests per ``window_s`` for each ``key(handler)``."""

    def decorate(method: Method) -> Method:
        @functools.wraps(method)
        async def wrapper(self: BaseHandler, *args, **kwargs):
            await self.run_sync(self.ctx.rate_limiter.hit, f"{name}:{key(self)}",
                                limit(self), window_s)
            return await method(self, *args, **kwargs)

        return wrapper

    return decorate


class NotFoundHandler(BaseHandler):
    """Unknown paths answer the envelope too."""

    def prepare(self) -> None:
        super().prepare()
        raise tornado.web.HTTPError(404)
