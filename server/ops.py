"""Operational endpoints: health, metrics, the API document and its page."""
from __future__ import annotations

import base64
import hashlib
import logging


from alliance.db import db
from console import ProtectedStaticFiles, protect_page
from server.base import BaseHandler

log = logging.getLogger("alliance.health")


def _ping() -> None:
    db.execute_sql("SELECT 1")


class HealthHandler(BaseHandler):
    async def get(self):
        try:
            await self.run_sync(_ping)
        except Exception as exc:  # any failure to reach the database means "not healthy"
            log.warning("health check: database unavailable: %s", type(exc).__name__)
            self.write_json({"status": "unavailable", "database": "unavailable"}, 503)
            return
        self.write_json({"status": "ok", "database": "ok"})


class MetricsHandler(BaseHandler):
    async def get(self):
        from server import metrics

        body, content_type = metrics.render()
        self.set_header("Content-Type", content_type)
        self.finish(body)


class OpenApiHandler(BaseHandler):
    async def get(self):
        self.set_header("Cache-Control", "public, max-age=60")
        self.finish(self.application.settings["openapi_json"])


DOCS_SCRIPT = 'window.ui = SwaggerUIBundle({url: "/openapi.json", dom_id: "#swagger-ui"});'
DOCS_PAGE = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>异业联盟 API 文档</title>
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script>{DOCS_SCRIPT}</script>
</body></html>"""
# Swagger UI on the console's origin: its bundle and this one inline script run, nothing
# else (it styles its elements inline and draws icons from data: URLs).
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'sha256-"
               + base64.b64encode(hashlib.sha256(DOCS_SCRIPT.encode()).digest()).decode()
               + "'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


class DocsHandler(BaseHandler):
    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        protect_page(self, DOCS_POLICY)
        self.finish(DOCS_PAGE)


def routes() -> list:
    import swagger_ui_bundle

    return [
        (r"/healthz", HealthHandler),
        (r"/metrics", MetricsHandler),
        (r"/openapi.json", OpenApiHandler),
        (r"/docs/?", DocsHandler),
        (r"/docs/static/(.*)", ProtectedStaticFiles,
         {"path": swagger_ui_bundle.swagger_ui_path}),
    ]


def _openapi() -> dict:
    from server.openapi import obj, op

    tags = ["operations"]
    health = obj({"status": {"type": "string"}, "database": {"type": "string"}})
    return {
        "/healthz": {"get": op("Health: 200 when the database answers, 503 when not",
                               tags=tags, auth=False, ok=health, errors=(503,))},
        "/metrics": {"get": op("Prometheus metrics (text format)", tags=tags, auth=False)},
        "/openapi.json": {"get": op("This document", tags=tags, auth=False)},
        "/docs": {"get": op("A page that renders this document", tags=tags, auth=False)},
    }


OPENAPI = _openapi()
