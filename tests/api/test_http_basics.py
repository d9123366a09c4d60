"""What every request gets: the envelope, request ids, limits, health, metrics, the document."""
import asyncio
import datetime as dt
import json
import re
import time

from openapi_spec_validator import validate

from alliance.infra import idempotency
from server.base import BaseHandler, authenticated, idempotent
from tests.support import ApiTestCase, age_idempotency_claim, make_settings


class EnvelopeTest(ApiTestCase):
    def test_malformed_json_is_a_400_envelope(self):
        response = self.api("POST", "/api/v1/auth/wechat", body=b'{"code": ',
                            headers={"Content-Type": "application/json"})
        self.assert_error(response, 400, "MALFORMED_JSON")

    def test_json_nested_too_deep_is_a_400_envelope(self):
        for body in (b"[" * 1000 + b"]" * 1000,  # deeper than the parser's stack
                     b'{"code": ' + b"[" * 900 + b"]" * 900 + b"}",  # deeper than any API
                     b'{"code": ' + b'{"a": ' * 33 + b"1" + b"}" * 33 + b"}"):
            response = self.api("POST", "/api/v1/auth/wechat", body=body)
            self.assert_error(response, 400, "MALFORMED_JSON")
            assert response.json["error"]["details"]["max_depth"] == 32
        shallow = b'{"code": ' + b"[" * 31 + b"]" * 31 + b"}"  # 32 deep: read, then refused
        self.assert_error(self.api("POST", "/api/v1/auth/wechat", body=shallow),
                          400, "VALIDATION_FAILED")

    def test_json_that_is_not_an_object_is_rejected(self):
        self.assert_error(self.api("POST", "/api/v1/auth/wechat", body=b'["x"]'),
                          400, "VALIDATION_FAILED")

    def test_oversized_body_is_a_413_envelope(self):
        body = b'{"code": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        response = self.api("POST", "/api/v1/auth/wechat", body=body)
        self.assert_error(response, 413, "PAYLOAD_TOO_LARGE")
        assert response.json["error"]["details"]["limit_bytes"] == 1024 * 1024

    def test_unknown_path_is_a_404_envelope(self):
        self.assert_error(self.api("GET", "/api/v1/no-such-thing"), 404, "NOT_FOUND")

    def test_wrong_method_is_a_405_envelope(self):
        self.assert_error(self.api("DELETE", "/api/v1/auth/wechat"), 405, "METHOD_NOT_ALLOWED")

    def test_request_id_is_echoed_or_generated(self):
        response = self.api("GET", "/healthz", headers={"X-Request-Id": "abc123-request-id"})
        assert response.headers["X-Request-Id"] == "abc123-request-id"
        generated = self.api("GET", "/healthz", headers={"X-Request-Id": "bad id!"})
        assert re.fullmatch(r"[0-9a-f]{32}", generated.headers["X-Request-Id"])

    def test_proxy_address_check_needs_no_resolver(self):
        # X-Real-IP is checked on the event loop: as Tornado's is_valid_ip answers for
        # addresses, without its getaddrinfo.
        from server.clients import is_valid_ip

        for ip in ("127.0.0.1", "203.0.113.9", "::1", "2001:db8::7", "fe80::1%eth0"):
            assert is_valid_ip(ip), ip
        for ip in ("", "localhost", "1.2.3.4\x00", "300.1.1.1", "1.2.3.4, 5.6.7.8", "a" * 80):
            assert not is_valid_ip(ip), ip

    def test_errors_never_carry_a_stack_trace(self):
        response = self.api("POST", "/api/v1/auth/wechat", body=b"\xff\xfe")
        assert response.status == 400 and b"Traceback" not in response.body


class ClientAddressTest(ApiTestCase):
    env = {"ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN": "2"}

    def logins(self, *addresses: str) -> list[int]:
        return [self.api("POST", "/api/v1/auth/wechat", {"code": "sandbox-alice"},
                         headers={"X-Real-Ip": address}).status for address in addresses]

    def test_a_trusted_proxy_names_the_client(self):
        # This test's client is on loopback, where the default TRUSTED_PROXIES has the proxy:
        # each client it names is limited on its own.
        assert self.logins("203.0.113.1", "203.0.113.2", "203.0.113.3") == [200, 200, 200]
        assert self.logins("203.0.113.1", "203.0.113.1") == [200, 429]


class UntrustedPeerTest(ClientAddressTest):
    env = {"ALLIANCE_LOGIN_RATE_LIMIT_PER_MIN": "2", "TRUSTED_PROXIES": ""}

    def test_a_trusted_proxy_names_the_client(self):
        # No proxy is trusted: the headers are the client's own words, and ignored.
        assert self.logins("203.0.113.1", "203.0.113.2", "203.0.113.3") == [200, 200, 429]


class OperationsTest(ApiTestCase):
    def test_healthz_answers_ok_when_the_database_answers(self):
        response = self.api("GET", "/healthz")
        assert response.status == 200
        assert response.json == {"status": "ok", "database": "ok"}

    def test_metrics_are_prometheus_text(self):
        self.api("GET", "/healthz")
        response = self.api("GET", "/metrics")
        assert response.status == 200
        assert b"alliance_http_requests_total" in response.body

    def test_every_request_is_counted_in_its_series(self):
        def served(status: str) -> float:
            text = self.api("GET", "/metrics").body.decode()
            found = re.search(r'^alliance_http_requests_total\{handler="HealthHandler",'
                              rf'method="GET",status="{status}"\}} (\S+)$', text, re.M)
            return float(found.group(1)) if found else 0.0

        before = served("200")
        for _ in range(3):
            self.api("GET", "/healthz")
        assert served("200") == before + 3

    def test_openapi_document_is_valid_and_documents_every_route(self):
        response = self.api("GET", "/openapi.json")
        assert response.status == 200
        document = response.json
        validate(document)
        documented = {re.sub(r"\{[^}]+\}", "{}", path) for path in document["paths"]}
        for rule in self.app.default_router.rules[0].target.rules:
            pattern = rule.matcher.regex.pattern.rstrip("$")
            if pattern.startswith(("/_sandbox", "/docs/static", "/console")):
                continue
            path = re.sub(r"\([^)]*\)", "{}", pattern).replace("/?", "").replace("\\.", ".")
            assert path in documented, f"{path} is served but not in the OpenAPI document"

    def test_docs_page_renders_the_document(self):
        response = self.api("GET", "/docs")
        assert response.status == 200 and b"/openapi.json" in response.body
        assert self.api("GET", "/docs/static/swagger-ui-bundle.js").status == 200


class HealthWithoutDatabaseTest(ApiTestCase):
    def get_app(self):
        from server.app import make_app

        self.settings = make_settings("mysql://nobody@127.0.0.1:1/none", self.get_http_port())
        self.app = make_app(self.settings)
        return self.app

    def test_healthz_is_503_when_the_database_is_down(self):
        response = self.api("GET", "/healthz")
        assert response.status == 503
        assert response.json["database"] == "unavailable"


class ProductionAppTest(ApiTestCase):
    def get_app(self):
        from server.app import make_app
        from tests.support import fresh_database_url
        from tests.unit.test_settings import production_env

        self.settings = make_settings(fresh_database_url(), self.get_http_port(),
                                      **production_env())
        self.app = make_app(self.settings)
        return self.app

    def test_sandbox_is_absent_in_production(self):
        assert not self.settings.is_sandbox
        self.assert_error(self.api("GET", "/_sandbox/wechat/cgi-bin/token"), 404, "NOT_FOUND")
        self.assert_error(self.api("POST", "/_sandbox/wechat/_control/login-codes", {}),
                          404, "NOT_FOUND")


class _EchoCreate(BaseHandler):
    """A creating endpoint used to exercise the real idempotency decorator."""

    calls = 0
    gate: asyncio.Event | None = None  # when set up, each request waits for it to open

    @authenticated()
    @idempotent
    async def post(self):
        type(self).calls += 1
        if type(self).gate is not None:
            await type(self).gate.wait()
        body = self.json_body()
        self.write_json({"n": type(self).calls, "echo": body}, 201)


class IdempotencyKeyTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        _EchoCreate.calls, _EchoCreate.gate = 0, None
        self.app.add_handlers(r".*", [(r"/test/create", _EchoCreate)])
        login = self.login("alice")
        self.access, self.principal = login["access_token"], f"user:{login['user']['id']}"

    def post(self, body, key, token=None):
        return self.api("POST", "/test/create", body, token=token or self.access,
                        headers={"Idempotency-Key": key})

    def left_running(self, body, key, age: dt.timedelta) -> None:
        """The claim of a request with ``body`` and ``key`` whose process died (a crash, a
        kill -9, a deploy) before it answered, ``age`` ago."""
        idempotency.begin(self.principal, key, idempotency.fingerprint(
            "POST", "/test/create", json.dumps(body).encode()))
        age_idempotency_claim(self.principal, key, age)

    def test_repeat_with_same_key_returns_the_first_answer_and_runs_nothing(self):
        first = self.post({"a": 1}, "key-1")
        second = self.post({"a": 1}, "key-1")
        assert first.status == second.status == 201
        assert first.json == second.json == {"n": 1, "echo": {"a": 1}}
        assert second.headers.get("Idempotent-Replayed") == "true"
        assert _EchoCreate.calls == 1

    def test_same_key_with_a_different_body_is_refused(self):
        self.post({"a": 1}, "key-2")
        self.assert_error(self.post({"a": 2}, "key-2"), 422, "IDEMPOTENCY_KEY_REUSED")

    def test_keys_belong_to_one_user(self):
        self.post({"a": 1}, "key-3")
        other = self.post({"a": 1}, "key-3", token=self.token("bob"))
        assert other.json["n"] == 2

    def test_without_key_every_request_runs(self):
        self.api("POST", "/test/create", {"a": 1}, token=self.access)
        self.api("POST", "/test/create", {"a": 1}, token=self.access)
        assert _EchoCreate.calls == 2

    def test_repeat_while_the_first_may_still_run_is_in_progress(self):
        self.left_running({"a": 1}, "key-4", idempotency.LEASE - dt.timedelta(seconds=30))
        self.assert_error(self.post({"a": 1}, "key-4"), 409, "IDEMPOTENCY_IN_PROGRESS")
        assert _EchoCreate.calls == 0

    def test_repeat_of_a_request_left_running_past_the_lease_runs_it_once(self):
        self.left_running({"a": 1}, "key-5", idempotency.LEASE + dt.timedelta(seconds=1))
        taken_over = self.post({"a": 1}, "key-5")
        assert taken_over.status == 201 and taken_over.json == {"n": 1, "echo": {"a": 1}}
        assert "Idempotent-Replayed" not in taken_over.headers
        again = self.post({"a": 1}, "key-5")
        assert again.status == 201 and again.json == taken_over.json
        assert again.headers.get("Idempotent-Replayed") == "true"
        self.assert_error(self.post({"a": 2}, "key-5"), 422, "IDEMPOTENCY_KEY_REUSED")
        assert _EchoCreate.calls == 1

    def test_repeats_at_once_of_a_request_left_running_run_it_once(self):
        self.left_running({"a": 1}, "key-6", idempotency.LEASE + dt.timedelta(seconds=1))
        headers = {"Authorization": f"Bearer {self.access}", "Idempotency-Key": "key-6",
                   "Content-Type": "application/json"}

        async def repeat_at_once(copies: int):
            # Whichever takes the key over waits at the gate until the others have answered
            # (or 10 s have passed: then more than one took it).
            _EchoCreate.gate = asyncio.Event()
            fetches = [asyncio.ensure_future(self.http_client.fetch(
                self.get_url("/test/create"), method="POST", body=b'{"a": 1}', headers=headers,
                raise_error=False)) for _ in range(copies)]
            deadline = time.monotonic() + 10
            while (sum(f.done() for f in fetches) < copies - 1
                   and time.monotonic() < deadline):
                await asyncio.sleep(0.01)
            _EchoCreate.gate.set()
            return await asyncio.gather(*fetches)

        responses = self.io_loop.run_sync(lambda: repeat_at_once(6), timeout=30)
        ran = [r for r in responses if r.code == 201]
        refused = [json.loads(r.body)["error"]["code"] for r in responses if r.code != 201]
        assert len(ran) == 1 and refused == ["IDEMPOTENCY_IN_PROGRESS"] * 5, \
            [(r.code, r.body) for r in responses]
        assert _EchoCreate.calls == 1
        replay = self.post({"a": 1}, "key-6")
        assert replay.headers.get("Idempotent-Replayed") == "true"
        assert replay.json == json.loads(ran[0].body) == {"n": 1, "echo": {"a": 1}}


class ConsoleTest(ApiTestCase):
    def test_console_page_and_assets_are_served(self):
        page = self.api("GET", "/console/")
        assert page.status == 200 and "运营后台" in page.body.decode()
        assert self.api("GET", "/console/static/console.js").status == 200
        assert self.api("GET", "/console/static/pages.js").status == 200
