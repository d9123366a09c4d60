"""The JSON log lines: one access line per request, and what LOG_LEVEL keeps of them."""
import io
import json
import logging
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
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["status"], line["level"]) for line in lines] == [(404, "warning"),
                                                                   (500, "error")]
