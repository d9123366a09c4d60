"""wechatpy's HTTP (wechat_handlers.transport) against a real HTTP/1.1 server on loopback:
kept connections, requests' exceptions, decoded answers, and requests' own machinery for
what is not a plain call."""
from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from requests.adapters import HTTPAdapter
from wechatpy.session.memorystorage import MemoryStorage

from wechat_handlers.api import make_client


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list[dict] = []  # every request received: path, body, client port
        self.close_after_answer = False
        self.delay_s = 0.0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status: int, body: bytes, **headers) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.server.close_after_answer:
            self.close_connection = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.append({"method": self.command, "path": self.path, "body": body,
                                 "port": self.client_address[1],
                                 "headers": dict(self.headers)})
        time.sleep(self.server.delay_s)
        if self.path.startswith("/twice"):
            self.send_response(200)
            self.send_header("X-Seen", "a")
            self.send_header("X-Seen", "b")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
        elif self.path.startswith("/gzip"):
            self._answer(200, gzip.compress(b'{"errcode":0,"errmsg":"zipped"}'),
                         Content_Type="application/json", Content_Encoding="gzip")
        elif self.path.startswith("/moved"):
            self._answer(302, b"", Location="/cgi-bin/after")
        else:
            self._answer(200, json.dumps({"errcode": 0, "errmsg": "ok",
                                          "echo": self.path}).encode(),
                         Content_Type="application/json")

    do_GET = do_POST = _handle


@pytest.fixture
def server():
    httpd = _Server()
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _client(origin: str, timeout: float = 2.0):
    return make_client("wx-transport", "secret", origin, timeout, MemoryStorage())


def test_a_plain_call_goes_once_over_a_kept_connection(server, monkeypatch):
    def urllib3_path(*args, **kwargs):
        raise AssertionError("a plain call went through requests' HTTPAdapter")

    monkeypatch.setattr(HTTPAdapter, "send", urllib3_path)
    client = _client(server.origin)
    first = client.post("message/subscribe/send", params={"access_token": "T1"},
                        data={"touser": "o1", "data": {"thing1": {"value": "好"}}})
    second = client._http.post("https://api.weixin.qq.com/cgi-bin/echo?a=1",
                               params={"access_token": "T 2"}, json={"n": 2})
    assert first["errmsg"] == "ok"
    assert second.json()["echo"] == "/cgi-bin/echo?a=1&access_token=T+2"
    assert [r["path"] for r in server.seen] == [
        "/cgi-bin/message/subscribe/send?access_token=T1", "/cgi-bin/echo?a=1&access_token=T+2"]
    assert json.loads(server.seen[0]["body"]) == {"touser": "o1",
                                                  "data": {"thing1": {"value": "好"}}}
    assert json.loads(server.seen[1]["body"]) == {"n": 2}
    assert server.seen[1]["headers"]["Content-Type"] == "application/json"
    assert server.seen[0]["port"] == server.seen[1]["port"]  # one connection, kept
    assert second.status_code == 200 and second.headers["content-type"] == "application/json"
    assert second.url == server.origin + "cgi-bin/echo?a=1&access_token=T+2"


def test_a_connection_the_server_closed_is_not_reused_and_nothing_is_sent_twice(server):
    server.close_after_answer = True
    client = _client(server.origin)
    for n in range(3):
        assert client._http.post(server.origin + f"n{n}", json={}).json()["errmsg"] == "ok"
        time.sleep(0.05)  # the server's close reaches the kept socket
    assert [r["path"] for r in server.seen] == ["/n0", "/n1", "/n2"]
    assert len({r["port"] for r in server.seen}) == 3


def test_a_slow_answer_times_out_and_a_closed_port_refuses_as_requests_says(server):
    server.delay_s = 0.5
    client = _client(server.origin, timeout=0.1)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client._http.post(server.origin + "slow", json={})
    server.delay_s = 0
    # The timed-out connection is dropped: the next call answers on a fresh one.
    assert client._http.post(server.origin + "after", json={}).json()["echo"] == "/after"
    idle = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    closed_port = idle.server_address[1]
    idle.server_close()
    with pytest.raises(requests.exceptions.ConnectionError):
        client._http.post(f"http://127.0.0.1:{closed_port}/x", json={})


def test_compressed_answers_are_decoded_and_redirects_followed(server):
    http = _client(server.origin)._http
    assert http.get(server.origin + "gzip").json() == {"errcode": 0, "errmsg": "zipped"}
    assert server.seen[-1]["headers"]["Accept-Encoding"] == "gzip, deflate"
    moved = http.get(server.origin + "moved")
    assert moved.json()["echo"] == "/cgi-bin/after"
    assert [r.status_code for r in moved.history] == [302]
    assert http.get(server.origin + "twice").headers["x-seen"] == "a, b"


def test_what_is_not_a_plain_call_goes_through_requests_own_adapter(server, monkeypatch):
    http = _client(server.origin)._http
    spaced = http.get(server.origin + "a path/名")  # quoted by requests, as before
    assert spaced.json()["echo"] == "/a%20path/%E5%90%8D"
    answer = http.post(server.origin + "upload", files={"media": ("a.png", b"PNGDATA")})
    assert answer.json()["echo"] == "/upload"
    assert b"PNGDATA" in server.seen[-1]["body"]
    assert server.seen[-1]["headers"]["Content-Type"].startswith("multipart/form-data")
    # A proxy in the environment: the call goes to the proxy, in the proxy's form.
    monkeypatch.setenv("HTTP_PROXY", server.origin)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    proxied = _client("http://weixin.invalid/")._http
    assert proxied.post("https://api.weixin.qq.com/cgi-bin/x", json={}).status_code == 200
    assert server.seen[-1]["path"] == "http://weixin.invalid/cgi-bin/x"
