"""The operators' web console: static pages that call the admin API (/api/admin/v1)."""
from __future__ import annotations

from pathlib import Path

import tornado.web

STATIC_DIR = Path(__file__).resolve().parent


class ConsoleIndexHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Frame-Options", "DENY")
        self.finish((STATIC_DIR / "index.html").read_bytes())


def routes() -> list:
    return [
        (r"/console/?", ConsoleIndexHandler),
        (r"/console/static/(.*)", tornado.web.StaticFileHandler, {"path": str(STATIC_DIR / "static")}),
    ]
