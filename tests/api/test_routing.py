"""Route lookup by path prefix answers every path as Tornado's scan in order does."""
import re

from tornado.httputil import HTTPHeaders, HTTPServerRequest, RequestStartLine
from tornado.routing import PathMatches, RuleRouter

from server.routing import path_key, rule_key
from tests.support import ApiTestCase


def sample_paths(app) -> list[str]:
    """A path for every route (groups filled in), the OpenAPI paths, and strangers."""
    paths = ["/", "/nope", "/api", "/api/v1", "/api/v1/", "/api/v1/merchants/", "/api/v1/x/y/z",
             "/api/v1/merchants/12/nothing", "/console", "/console/", "/console/app.js",
             "/api/admin/v1/merchants/3/approve", "/_sandbox/wechat/sns/jscode2session"]
    for rule in app.wildcard_router.rules:
        if isinstance(rule.matcher, PathMatches):
            pattern = rule.matcher.regex.pattern.rstrip("$")
            filled = re.sub(r"\([^)]*\)\??", "12", pattern)
            paths += [filled.replace("\\", ""), filled.replace("\\", "") + "/extra"]
    paths += [p.replace("{id}", "7") for p in app.settings["openapi"]["paths"]]
    return paths


class RoutingTest(ApiTestCase):
    def test_indexed_lookup_finds_what_the_scan_in_order_finds(self):
        router = self.app.wildcard_router
        assert any(rule_key(rule) for rule in router.rules)
        for path in sample_paths(self.app):
            request = HTTPServerRequest(start_line=RequestStartLine("GET", path, "HTTP/1.1"),
                                        headers=HTTPHeaders({"Host": "localhost"}))
            indexed = router.find_handler(request)
            scanned = RuleRouter.find_handler(router, request)
            assert (indexed is None) == (scanned is None), path
            if indexed is not None:
                assert (indexed.handler_class, indexed.path_args, indexed.handler_kwargs) == (
                    scanned.handler_class, scanned.path_args, scanned.handler_kwargs), path

    def test_keys(self):
        assert path_key("/api/v1/merchants/12/items") == "/api/v1/merchants"
        assert path_key("/healthz") == "/healthz"
        rules = {rule.matcher.regex.pattern: rule_key(rule)
                 for rule in self.app.wildcard_router.rules
                 if isinstance(rule.matcher, PathMatches)}
        assert rules["/api/v1/merchants/([0-9]{1,10})$"] == "/api/v1/merchants"
        assert rules["/healthz$"] == "/healthz"

    def test_requests_are_answered_through_the_index(self):
        assert self.api("GET", "/api/v1/industries").status == 200
        self.assert_error(self.api("GET", "/api/v1/merchants/12/nothing"), 404, "NOT_FOUND")
