"""The platform as the mini-program shows it: name, logo, contact, and its policies."""
from __future__ import annotations

from alliance.platform import settings as platform
from server import validation as v
from server.base import BaseHandler


class PlatformHandler(BaseHandler):
    async def get(self):
        view = platform.PUBLIC.get("platform")  # cached: no thread hop, no database
        self.write_json(view if view is not None else await self.run_sync(platform.public_platform))


class PolicyHandler(BaseHandler):
    kind = ""

    async def get(self):
        if self.query("version") is None:
            view = platform.PUBLIC.get(self.kind)
            if view is None:
                view = await self.run_sync(platform.public_policy, self.kind)
        else:
            version = v.query_int(self.query("version"), "version", default=1, minimum=1,
                                  maximum=1_000_000)
            view = await self.run_sync(platform.public_policy, self.kind, version)
        self.write_json(view)


class PrivacyPolicyHandler(PolicyHandler):
    kind = "privacy_policy"


class UserAgreementHandler(PolicyHandler):
    kind = "user_agreement"


def routes() -> list:
    return [
        (r"/api/v1/platform", PlatformHandler),
        (r"/api/v1/platform/privacy-policy", PrivacyPolicyHandler),
        (r"/api/v1/platform/user-agreement", UserAgreementHandler),
    ]


def _openapi() -> dict:
    from server.openapi import INT, STR, TIME, obj, op, query_param

    tags = ["platform"]
    policy = obj({"kind": STR, "version": INT, "text": STR,
                  "effective_at": {**TIME, "nullable": True,
                                   "description": "null: the built-in first version"}},
                 ["kind", "version", "text"])
    version = query_param("version", INT, "an earlier version (default: the current one)")
    return {
        "/api/v1/platform": {"get": op(
            "The platform's name, logo, customer-service contact and current policy versions",
            tags=tags, auth=False, ok=obj({
                "name": STR, "logo_url": {**STR, "nullable": True},
                "contact": obj({"phone": STR, "hours": STR}),
                "privacy_policy_version": INT, "user_agreement_version": INT}))},
        "/api/v1/platform/privacy-policy": {"get": op(
            "The privacy policy's text (current, or ?version=)", tags=tags, auth=False,
            errors=(400, 404), params=[version], ok=policy,
            description="Errors: POLICY_VERSION_NOT_FOUND (404).")},
        "/api/v1/platform/user-agreement": {"get": op(
            "The user agreement's text (current, or ?version=)", tags=tags, auth=False,
            errors=(400, 404), params=[version], ok=policy,
            description="Errors: POLICY_VERSION_NOT_FOUND (404).")},
    }


OPENAPI = _openapi()
