"""Route lookup by path prefix.

Tornado tries an application's rules one by one, a regular expression each: with some 130
routes (and the sandbox's), a request for a route near the end of the list paid about a
hundred failed matches before its own. ``index_routes`` makes the router try only the rules
that can match the request's first three path segments (in their original order, with the
rules whose pattern is not literal that far), so every request tries a handful.
"""
from __future__ import annotations

import re
from typing import Any

from tornado.routing import PathMatches, Rule, RuleRouter

SEGMENTS = 3  # "/api/v1/merchants" of "/api/v1/merchants/12/items"
_META = re.compile(r"[\\.^$*+?{}\[\]|()]")


def path_key(path: str) -> str:
    """The first ``SEGMENTS`` segments of ``path``."""
    return "/".join(path.split("/", SEGMENTS + 1)[:SEGMENTS + 1])


def rule_key(rule: Rule) -> str | None:
    """The ``path_key`` of every path ``rule`` can match, or None when that is not fixed."""
    if not isinstance(rule.matcher, PathMatches):
        return None
    pattern = rule.matcher.regex.pattern
    pattern = pattern[:-1] if pattern.endswith("$") else pattern
    meta = _META.search(pattern)
    if meta is None:  # the whole path is literal
        return path_key(pattern)
    literal = pattern[:meta.start()]
    if literal.count("/") <= SEGMENTS:  # the key's segments are not all literal
        return None
    return path_key(literal)


def index_routes(router: RuleRouter) -> None:
    """Make ``router`` (an application's ``wildcard_router``) look its rules up by
    ``path_key``; the rule that answers is the one a scan in order would have found."""
    rules: list[Rule] = list(router.rules)
    keyed: dict[str, list[int]] = {}
    unkeyed: list[int] = []
    for position, rule in enumerate(rules):
        key = rule_key(rule)
        (unkeyed if key is None else keyed.setdefault(key, [])).append(position)
    by_key = {key: [rules[i] for i in sorted(positions + unkeyed)]
              for key, positions in keyed.items()}
    others = [rules[i] for i in unkeyed]

    def find_handler(request, **kwargs: Any):
        # RuleRouter.find_handler, over the candidates only.
        for rule in by_key.get(path_key(request.path), others):
            target_params = rule.matcher.match(request)
            if target_params is not None:
                if rule.target_kwargs:
                    target_params["target_kwargs"] = rule.target_kwargs
                delegate = router.get_target_delegate(rule.target, request, **target_params)
                if delegate is not None:
                    return delegate
        return None

    router.find_handler = find_handler
