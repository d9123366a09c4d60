"""The console cannot drift from the API: every path its scripts call is documented (with the
method used), and its role -> permission table is the server's."""
from __future__ import annotations

import json
import re

from alliance.accounts.permissions import OPERATOR_ROLES, PERMISSIONS, ROLE_PERMISSIONS
from tests.support import ApiTestCase

# A quoted or template-literal API path, up to its query string or closing quote.
PATH = re.compile(r"""["'`](/api/[^"'`?\s]*)""")
# Console.api("METHOD", "path" ...) and Console.create("path" ...) (a creating POST).
CALL = re.compile(r"""\bapi\(\s*"(GET|POST|PATCH|PUT|DELETE)",\s*["'`](/api/[^"'`?\s]*)""")
CREATE = re.compile(r"""\bcreate\(\s*["'`](/api/[^"'`?\s]*)""")
TEMPLATE = re.compile(r"\$\{[^}]*\}")


def normalise(path: str) -> str:
    """``${...}`` (script) and ``{name}`` (OpenAPI) segments both become ``{}``."""
    return re.sub(r"\{[^}]*\}", "{}", TEMPLATE.sub("{}", path))


class ConsoleContractTest(ApiTestCase):
    def scripts(self) -> dict[str, str]:
        page = self.api("GET", "/console/")
        assert page.status == 200
        sources = re.findall(r'<script src="([^"]+)"', page.body.decode())
        assert len(sources) >= 8, sources
        texts = {}
        for src in sources:
            response = self.api("GET", src)
            assert response.status == 200, src
            texts[src] = response.body.decode()
        return texts

    def documented(self) -> dict[str, set[str]]:
        paths = self.api("GET", "/openapi.json").json["paths"]
        return {normalise(path): {m.upper() for m in ops} for path, ops in paths.items()}

    def test_console_scripts_call_only_documented_paths(self):
        documented = self.documented()
        scripts = self.scripts()
        seen = set()
        for src, text in scripts.items():
            for path in PATH.findall(text):
                key = normalise(path)
                seen.add(key)
                assert key in documented, f"{src} calls {path}, not in the OpenAPI document"
            for method, path in CALL.findall(text):
                assert method in documented[normalise(path)], f"{src}: {method} {path} undocumented"
            for path in CREATE.findall(text):
                assert "POST" in documented[normalise(path)], f"{src}: POST {path} undocumented"
        # The pages reach the admin API's areas (a regex that matched nothing would pass above).
        for area in ("/api/admin/v1/merchants/{}/approve", "/api/admin/v1/items/{}/take-down",
                     "/api/admin/v1/orders/{}/abnormal-resolution", "/api/admin/v1/order-stats",
                     "/api/admin/v1/merchant-stats", "/api/admin/v1/after-sales/{}/arbitration",
                     "/api/admin/v1/complaints/{}/resolution", "/api/admin/v1/coupon-templates/{}",
                     "/api/admin/v1/oa/auto-replies/{}", "/api/admin/v1/statements/{}/payout",
                     "/api/admin/v1/settlement/summary", "/api/admin/v1/campaigns/{}",
                     "/api/admin/v1/campaigns/{}/review", "/api/admin/v1/campaigns/{}/end",
                     "/api/admin/v1/campaigns/{}/participants/{}/review",
                     "/api/admin/v1/campaigns/{}/effect", "/api/admin/v1/lotteries",
                     "/api/admin/v1/lotteries/{}", "/api/admin/v1/lotteries/{}/activate",
                     "/api/admin/v1/lotteries/{}/end", "/api/admin/v1/lotteries/{}/draws",
                     "/api/admin/v1/lotteries/{}/prizes/{}/stock", "/api/admin/v1/cooperations",
                     "/api/admin/v1/cooperations/{}", "/api/admin/v1/cooperations/{}/end",
                     "/api/admin/v1/settings", "/api/admin/v1/settings/{}/versions",
                     "/api/admin/v1/uploads", "/api/admin/v1/system", "/api/admin/v1/operators",
                     "/api/admin/v1/operators/{}", "/api/admin/v1/operators/{}/password",
                     "/api/admin/v1/roles", "/api/admin/v1/backups", "/api/admin/v1/backups/{}"):
            assert area in seen, area

    def test_console_role_permissions_match_the_server(self):
        core = self.api("GET", "/console/static/console.js").body.decode()
        table = re.search(r"const ROLE_PERMISSIONS = (\{.*?\});", core, re.S).group(1)
        roles = json.loads(re.sub(r",\s*}", "}", table))
        assert set(roles) == set(OPERATOR_ROLES)
        for role in OPERATOR_ROLES:
            assert set(roles[role]) == set(ROLE_PERMISSIONS[role]), role

    def test_console_pages_name_registered_permissions(self):
        needed = set()
        for text in self.scripts().values():
            needed |= set(re.findall(r'permission: "([a-z:]+)"', text))
        assert needed and needed <= set(PERMISSIONS), needed - set(PERMISSIONS)


class PageHeadersTest(ApiTestCase):
    def test_the_console_runs_only_its_own_scripts_and_is_never_framed(self):
        page = self.api("GET", "/console/")
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
        assert "<script>" not in page.body.decode()  # nothing inline for the policy to block
        assert page.headers["X-Frame-Options"] == "DENY"
        script = self.api("GET", "/console/static/console.js")
        assert script.status == 200 and script.headers["X-Content-Type-Options"] == "nosniff"

    def test_the_docs_policy_allows_exactly_their_inline_script(self):
        import base64
        import hashlib

        page = self.api("GET", "/docs")
        [inline] = re.findall(r"<script>(.*?)</script>", page.body.decode(), re.S)
        digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
        bundle = self.api("GET", "/docs/static/swagger-ui-bundle.js")
        assert bundle.status == 200 and bundle.headers["X-Content-Type-Options"] == "nosniff"

    def test_pages_and_their_files_carry_a_request_id_and_fail_in_the_envelope(self):
        for path in ("/console/", "/docs", "/console/static/console.js",
                     "/docs/static/swagger-ui.css"):
            answer = self.api("GET", path, headers={"X-Request-Id": "page-request-1"})
            assert answer.status == 200, path
            assert answer.headers["X-Request-Id"] == "page-request-1", path
        static = self.api("GET", "/console/static/console.js")
        assert "no-store" not in static.headers.get("Cache-Control", "")  # cacheable
        assert static.headers["Content-Type"].startswith("application/javascript") or \
            static.headers["Content-Type"].startswith("text/javascript")
        for method, path, status, code in (("GET", "/console/static/nope.js", 404, "NOT_FOUND"),
                                           ("GET", "/docs/static/nope.js", 404, "NOT_FOUND"),
                                           ("POST", "/docs", 405, "METHOD_NOT_ALLOWED"),
                                           ("POST", "/console/", 405, "METHOD_NOT_ALLOWED")):
            answer = self.api(method, path, body=b"" if method == "POST" else None)
            self.assert_error(answer, status, code)
            assert answer.headers["X-Request-Id"] == answer.json["error"]["request_id"]
