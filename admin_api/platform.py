"""The console's system settings: the platform's settings, its logo, policy versions, and the
system's health (administrators: admin:settings)."""
from __future__ import annotations

from admin_api.jobs import job_item
from alliance.db import utcnow
from alliance.jobs import queries as job_queries
from alliance.media import services as media
from alliance.platform import health
from alliance.platform import settings as platform
from miniprogram_api.uploads import UploadHandler
from scheduler.jobs import JOBS
from server.base import BaseHandler, authenticated, idempotent, rate_limited

POLICY_KIND = r"(privacy_policy|user_agreement)"


class SettingsHandler(BaseHandler):
    @authenticated("admin:settings", kind="operator")
    async def get(self):
        self.write_json(await self.run_sync(platform.admin_view))

    @authenticated("admin:settings", kind="operator")
    async def put(self):
        self.write_json(await self.run_sync(platform.update_settings, self.principal.id,
                                            self.json_body()))


class PolicyVersionsHandler(BaseHandler):
    @authenticated("admin:settings", kind="operator")
    async def get(self, kind: str):
        self.write_page({"items": await self.run_sync(platform.policy_versions, kind)})


class LogoUploadHandler(UploadHandler):
    """An operator's image for the platform (purpose ``logo``), served at /media/{id}."""

    @authenticated("admin:settings", kind="operator")
    @rate_limited("admin-upload", lambda h: 30, key=lambda h: h.principal.key)
    @idempotent
    async def post(self):
        body = self.one_file()
        settings = self.ctx.settings
        upload = await self.run_sync(media.store_image, self.ctx.storage, None, "logo",
                                     body, settings.max_upload_bytes,
                                     settings.upload_daily_bytes,
                                     operator_id=self.principal.id)
        self.write_stored(upload, media.public_path(upload.id))


class SystemHandler(BaseHandler):
    @authenticated("admin:settings", kind="operator")
    async def get(self):
        from server.app import VERSION

        specs, problems = JOBS.resolve(self.ctx.settings)
        active = {spec.name: spec for spec in specs}
        names = JOBS.names()

        def read():
            now = utcnow()
            states = job_queries.job_states(names)
            failures = health.job_failures(names)
            jobs = [{**job_item(name, active.get(name), states[name], now), **failures[name]}
                    for name in names]
            return {"database": health.database(), "outbox": health.outbox(),
                    "payment_notifications": health.payment_notifications(), "jobs": jobs,
                    "backups": health.backups()}

        answer = await self.run_sync(read)
        self.write_json({"version": VERSION, "environment": self.ctx.settings.env,
                         **answer, "job_configuration_errors": sorted(problems)})


def routes() -> list:
    return [
        (r"/api/admin/v1/settings", SettingsHandler),
        (rf"/api/admin/v1/settings/{POLICY_KIND}/versions", PolicyVersionsHandler),
        (r"/api/admin/v1/uploads", LogoUploadHandler),
        (r"/api/admin/v1/system", SystemHandler),
    ]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    nullable_time = {**TIME, "nullable": True}
    policy = obj({"version": INT, "text": STR, "updated_at": nullable_time})
    contact = obj({"phone": STR, "hours": STR})
    return {
        "PlatformSettings": obj({
            "name": STR, "logo_upload_id": {**STR, "nullable": True},
            "logo_url": {**STR, "nullable": True}, "contact": contact,
            "privacy_policy": policy, "user_agreement": policy,
            "updated_by": {**INT, "nullable": True}, "updated_at": nullable_time}),
        "PolicyVersion": obj({"version": INT, "text": STR,
                              "created_by": {**INT, "nullable": True,
                                             "description": "the operator; null: built-in"},
                              "created_by_name": {**STR, "nullable": True},
                              "created_at": nullable_time}),
    }


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import BOOL, INT, PAGING, STR, TIME, list_of, obj, op, path_param, ref

    tags = ["admin settings"]
    count = {"type": "integer"}
    settings_body = obj({
        "name": {**STR, "maxLength": platform.MAX_NAME},
        "logo_upload_id": {**STR, "nullable": True,
                           "description": "an upload of POST /api/admin/v1/uploads; null clears"},
        "contact_phone": {**STR, "maxLength": platform.MAX_PHONE},
        "contact_hours": {**STR, "maxLength": platform.MAX_HOURS},
        "privacy_policy": {**STR, "maxLength": platform.MAX_POLICY,
                           "description": "a new text bumps the version"},
        "user_agreement": {**STR, "maxLength": platform.MAX_POLICY}}, additionalProperties=False)
    job = obj({"name": STR, "schedule": STR, "enabled": BOOL,
               "last_run": {"type": "object", "nullable": True},
               "failures_24h": INT, "last_failed_at": {**TIME, "nullable": True}})
    return {
        "/api/admin/v1/settings": {
            "get": op("The platform's settings (admin:settings)", tags=tags, errors=(403,),
                      ok=ref("PlatformSettings")),
            "put": op("Change some of the platform's settings (admin:settings; audited)",
                      tags=tags, errors=(400, 403), body=settings_body,
                      ok=ref("PlatformSettings"),
                      description="Only the fields sent change; unknown fields are refused. "
                                  "A policy whose text differs gets the next version, and "
                                  "every earlier version stays readable.")},
        "/api/admin/v1/settings/{kind}/versions": {"get": op(
            "Every version of a policy, newest first (admin:settings)", tags=tags,
            errors=(400, 403), params=[path_param("kind", description="privacy_policy or "
                                                                      "user_agreement"), *PAGING],
            ok=list_of(ref("PolicyVersion")))},
        "/api/admin/v1/uploads": {"post": op(
            "Upload the platform's logo (admin:settings); use its id as logo_upload_id",
            tags=tags, status=201, content_type="multipart/form-data",
            errors=(400, 403, 413, 415, 429), idempotent=True,
            body=obj({"file": {"type": "string", "format": "binary"}}, ["file"]),
            ok=obj({"id": STR, "purpose": STR, "content_type": STR, "size_bytes": INT,
                    "url": STR}))},
        "/api/admin/v1/system": {"get": op(
            "System health: version, database and migration level, scheduled jobs' runs and "
            "failures, outbox backlog, unapplied payment notifications, backups "
            "(admin:settings)",
            tags=tags, errors=(403,), ok=obj({
                "version": STR, "environment": STR,
                "database": obj({"kind": STR, "server_version": STR, "migration": STR,
                                 "latest_migration": STR,
                                 "pending_migrations": {"type": "array", "items": STR}}),
                "outbox": obj({"pending": count, "sending": count, "failed": count,
                               "oldest_pending_due_at": {**TIME, "nullable": True}}),
                "payment_notifications": obj({"unapplied": count, "abnormal": count,
                                              "oldest_unapplied_at": {**TIME, "nullable": True},
                                              "overdue": BOOL}),
                "jobs": {"type": "array", "items": job},
                "backups": obj({"last_succeeded_at": {**TIME, "nullable": True},
                                "last_failed_at": {**TIME, "nullable": True},
                                "running": BOOL, "overdue": {**BOOL, "description": (
                                    "no backup succeeded in the last 26 hours")}}),
                "job_configuration_errors": {"type": "array", "items": STR}}))},
    }


OPENAPI = _openapi()
