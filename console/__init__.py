"""The operators' web console: static pages that call the admin API (/api/admin/v1)."""
from __future__ import annotations

from pathlib import Path

import tornado.web

from server.base import BaseHandler

STATIC_DIR = Path(__file__).resolve().parent

# The console is its own scripts and styles, its API and /media images on this origin: a
# policy that runs nothing else (no inline script, no other origin), never framed.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self'; connect-src 'self'; object-src 'none'; "
                           "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def protect_page(handler: tornado.web.RequestHandler, policy: str | None) -> None:
    """The headers every page and static file of the console and the API docs carry."""
    handler.set_header("X-Content-Type-Options", "nosniff")
    handler.set_header("Referrer-Policy", "same-origin")
    handler.set_header("X-Frame-Options", "DENY")
    if policy:
        handler.set_header("Content-Security-Policy", policy)


class ConsoleIndexHandler(BaseHandler):
    """The console's page (BaseHandler: X-Request-Id, and errors in the envelope)."""

    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        protect_page(self, CONTENT_SECURITY_POLICY)
        self.finish((STATIC_DIR / "index.html").read_bytes())


class ProtectedStaticFiles(BaseHandler, tornado.web.StaticFileHandler):
    """Tornado's static files with the pages' headers (nosniff above all), an X-Request-Id
    and errors (a missing file, a path outside the folder) in the envelope like every
    answer; cacheable, unlike the API's."""

    def set_default_headers(self) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")

    def set_extra_headers(self, path: str) -> None:
        protect_page(self, None)


def routes() -> list:
    return [
        (r"/console/?", ConsoleIndexHandler),
        (r"/console/static/(.*)", ProtectedStaticFiles, {"path": str(STATIC_DIR / "static")}),
    ]
