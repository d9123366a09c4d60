"""JSON log lines: one per request (access) and for every application message."""
from __future__ import annotations

import json
import logging
import sys
import time

from server import metrics


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        from server.base import request_id_var

        entry = {"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + "Z",
                 "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage(), "request_id": request_id_var.get()}
        if hasattr(record, "access"):
            entry.update(record.access)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("tornado.access").setLevel(logging.INFO)


access_log = logging.getLogger("alliance.access")


def log_request(handler) -> None:
    """Tornado's log_function: a JSON access line and the request metrics.

    A handler adds what its line should say of the outcome in ``log_fields`` (one line per
    request rather than a second message)."""
    status = handler.get_status()
    seconds = handler.request.request_time()
    name = type(handler).__name__
    metrics.observe(handler.request.method, name, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):
        return
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    entry = {"method": handler.request.method, "path": handler.request.path, "status": status,
             "ms": round(seconds * 1000, 2), "ip": handler.request.remote_ip, "handler": name,
             "request_id": getattr(handler, "request_id", None) or "-"}
    entry.update(getattr(handler, "log_fields", None) or ())
    access_log.log(level, "request", extra={"access": entry})
