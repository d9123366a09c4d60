"""JSON log lines: one per request (access) and for every application message."""
from __future__ import annotations

import json
import logging
import sys
import time

from server import metrics


_encode = json.JSONEncoder(ensure_ascii=False).encode  # one encoder, not one per line


class JsonFormatter(logging.Formatter):
    _last = (-1, "")  # the last line's second and its timestamp (one tuple: thread-safe)

    def _timestamp(self, created: float) -> str:
        second, stamp = self._last
        if int(created) != second:  # the lines of one second share one strftime
            second = int(created)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
            self._last = (second, stamp)
        return stamp

    def format(self, record: logging.LogRecord) -> str:
        from server.base import request_id_var

        entry = {"ts": self._timestamp(record.created),
                 "level": record.levelname.lower(), "logger": record.name,
                 "msg": record.getMessage(), "request_id": request_id_var.get()}
        if hasattr(record, "access"):
            entry.update(record.access)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encode(entry)


def configure(level: str = "INFO") -> None:
    # Our lines name neither the source line, the thread nor the process: logging need not
    # look them up for every record (the caller's frame walk is the dearest).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
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
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    if not access_log.isEnabledFor(level):  # LOG_LEVEL=WARNING keeps the 4xx and 5xx lines
        return
    entry = {"method": handler.request.method, "path": handler.request.path, "status": status,
             "ms": round(seconds * 1000, 2), "ip": handler.request.remote_ip, "handler": name,
             "request_id": getattr(handler, "request_id", None) or "-"}
    entry.update(getattr(handler, "log_fields", None) or ())
    access_log.log(level, "request", extra={"access": entry})
