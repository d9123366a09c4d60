"""The JSON log lines: one access line per request, and what LOG_LEVEL keeps of them."""
import contextlib
import io
import json
import logging
import os
import time
from types import SimpleNamespace

import pytest

from server import logs


@pytest.fixture
def log_stream(monkeypatch):
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging._srcfile, logging.logThreads)
    def configure(level):
        stream = io.StringIO()
        # Here, in the test's call: pytest sets its own sys.stderr between setup and call.
        monkeypatch.setattr("sys.stderr", stream)
        logs.configure(level)
        return stream

    yield configure
    root.handlers[:], root.level, logging._srcfile, logging.logThreads = saved


def _request(status: int, path: str = "/api/v1/orders"):
    """What Tornado's log_function is handed: the finished handler."""
    request = SimpleNamespace(method="POST", path=path, remote_ip="203.0.113.9",
                              request_time=lambda: 0.01234)
    return SimpleNamespace(get_status=lambda: status, request=request, request_id="r-1",
                           log_fields={"outcome": "processed"})


def test_an_access_line_is_one_json_object_with_the_request_and_its_outcome(log_stream):
    stream = log_stream("INFO")
    logs.log_request(_request(200))
    logging.getLogger("alliance.test").warning("付款 %s", "已到账")
    logs.flush_all()
    access, message = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert access == {"ts": access["ts"], "level": "info", "logger": "alliance.access",
                      "msg": "request", "request_id": "r-1", "method": "POST",
                      "path": "/api/v1/orders", "status": 200, "ms": 12.34,
                      "ip": "203.0.113.9", "handler": "SimpleNamespace",
                      "outcome": "processed"}
    assert len(access["ts"]) == 20 and access["ts"].endswith("Z") and access["ts"][10] == "T"
    assert message["msg"] == "付款 已到账" and message["level"] == "warning"
    assert message["ts"][:17] == access["ts"][:17]


def test_log_level_warning_keeps_only_the_refused_and_failed_requests(log_stream):
    stream = log_stream("WARNING")
    for status in (200, 302, 404, 500):
        logs.log_request(_request(status, f"/x/{status}"))
    logs.flush_all()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["status"], line["level"]) for line in lines] == [(404, "warning"),
                                                                   (500, "error")]


def _lines(stream) -> list[str]:
    return [json.loads(line)["msg"] for line in stream.getvalue().splitlines()]


def _eventually(check, timeout_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_lines_below_error_are_written_together_within_the_flush_interval(log_stream):
    stream = log_stream("INFO")
    log = logging.getLogger("alliance.test")
    log.info("一")
    log.warning("二")
    assert stream.getvalue() == ""  # not one write per line
    assert _eventually(lambda: _lines(stream) == ["一", "二"])


def test_an_error_line_is_written_at_once_after_the_lines_before_it(log_stream):
    stream = log_stream("INFO")
    log = logging.getLogger("alliance.test")
    log.info("之前")
    log.error("出错")
    assert _lines(stream) == ["之前", "出错"]


def test_a_full_batch_is_written_without_waiting(log_stream, monkeypatch):
    monkeypatch.setattr(logs, "MAX_PENDING_LINES", 3)
    stream = log_stream("INFO")
    log = logging.getLogger("alliance.test")
    for n in range(4):
        log.info("%d", n)
    assert _lines(stream) == ["0", "1", "2"]
    logs.flush_all()
    assert _lines(stream) == ["0", "1", "2", "3"]


@contextlib.contextmanager
def _root_logging_to(path):
    """The root logger writing JSON lines to the file ``path`` through a batched handler."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    with open(path, "w", buffering=1) as stream:
        handler = logs.BatchedStreamHandler(stream)
        handler.setFormatter(logs.JsonFormatter())
        root.handlers[:] = [handler]
        root.setLevel("INFO")
        try:
            yield
        finally:
            root.handlers[:], root.level = saved


def test_a_forked_child_writes_its_own_lines_and_never_the_parents_again(tmp_path):
    path = tmp_path / "out.log"
    with _root_logging_to(path):
        logging.getLogger("alliance.test").info("父进程")
        pid = os.fork()  # flushes the parent's pending lines first
        if pid == 0:
            logging.getLogger("alliance.test").info("子进程")
            time.sleep(3 * logs.FLUSH_INTERVAL_S)  # the child's own flusher writes it
            os._exit(0)
        os.waitpid(pid, 0)
        logs.flush_all()
    assert [json.loads(line)["msg"] for line in path.read_text().splitlines()] == [
        "父进程", "子进程"]


def test_a_server_process_writes_its_pending_lines_before_it_exits(tmp_path, monkeypatch):
    """``supervisor.run_child`` ends a forked server process with ``os._exit``, which runs no
    atexit hook: its last lines (here an access line written moments before) must not wait
    for a flusher that will never run again."""
    from server import supervisor

    monkeypatch.setattr(logs, "FLUSH_INTERVAL_S", 60.0)  # only the exit can write them
    path = tmp_path / "out.log"
    with _root_logging_to(path):
        pid = os.fork()
        if pid == 0:
            supervisor.run_child(lambda: logs.log_request(_request(200)), 0)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert [json.loads(line)["path"] for line in path.read_text().splitlines()] == [
        "/api/v1/orders"]
