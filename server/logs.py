"""JSON log lines: one per request (access) and for every application message."""
from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
import weakref

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


FLUSH_INTERVAL_S = 0.2
MAX_PENDING_LINES = 256


class BatchedStreamHandler(logging.StreamHandler):
    """A stream handler that writes its lines together: a line below ERROR waits up to
    ``FLUSH_INTERVAL_S`` (or until ``MAX_PENDING_LINES`` gather); an ERROR or CRITICAL
    line is written at once, with the lines before it. Each write is a system call that lets
    go of the GIL, which the thread must then wait to take back from the others: one per
    request was one more hand-over of the GIL per request. A process that is killed loses
    at most the last interval's lines below ERROR; one that exits normally flushes them
    (``logging.shutdown``, ``flush_all``); a fork flushes them first, so that parent and
    child never both write them."""

    def __init__(self, stream=None):
        super().__init__(stream)
        self._pending: list[str] = []
        _BATCHED.add(self)
        _start_flusher()

    def emit(self, record: logging.LogRecord) -> None:  # under self.lock (Handler.handle)
        try:
            self._pending.append(self.format(record) + self.terminator)
            if record.levelno >= logging.ERROR or len(self._pending) >= MAX_PENDING_LINES:
                self._write()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def flush(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            self.stream.write(text)
            super().flush()


_BATCHED: "weakref.WeakSet[BatchedStreamHandler]" = weakref.WeakSet()
_flusher_pid = 0


def flush_all() -> None:
    """Write every batched handler's pending lines (before a fork or ``os._exit``)."""
    for handler in list(_BATCHED):
        handler.flush()


def _start_flusher() -> None:
    """The process's one thread that flushes the batched handlers (a fork's child has none:
    started again there)."""
    global _flusher_pid
    if _flusher_pid == os.getpid() or not _BATCHED:
        return
    _flusher_pid = os.getpid()

    def flush_every_interval() -> None:
        while True:
            time.sleep(FLUSH_INTERVAL_S)
            try:
                flush_all()
            except Exception:  # a closed stream: the next interval tries again
                pass

    threading.Thread(target=flush_every_interval, name="log-flush", daemon=True).start()


os.register_at_fork(before=flush_all, after_in_child=_start_flusher)


def configure(level: str = "INFO") -> None:
    # Our lines name neither the source line, the thread nor the process: logging need not
    # look them up for every record (the caller's frame walk is the dearest).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = BatchedStreamHandler(sys.stderr)
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
