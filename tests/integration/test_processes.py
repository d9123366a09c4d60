"""`python -m server --processes 2`: both workers serve beside the delivery process, and
SIGTERM to the parent stops all."""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def _wait_until_serving(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.2)


def test_sigterm_to_the_parent_stops_every_worker(database, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path)}
    server = subprocess.Popen([sys.executable, "-m", "server", "--port", str(port),
                               "--processes", "2"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(port)
        workers = _children(server.pid)
        assert len(workers) == 3  # two serving, one delivering notifications
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        time.sleep(0.5)
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    finally:
        if server.poll() is None:
            server.kill()


def test_a_body_that_stops_arriving_is_dropped_after_the_body_timeout(database, tmp_path):
    # Tornado holds a request body whole before any handler sees it: a client that sends
    # 1 MB of a declared 10 MB and then nothing must not hold that memory for good.
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path),
           "ALLIANCE_BODY_TIMEOUT_S": "1"}
    server = subprocess.Popen([sys.executable, "-m", "server", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_until_serving(port)
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"POST /api/v1/uploads HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Type: multipart/form-data; boundary=b\r\n"
                           b"Content-Length: 10000000\r\n\r\n" + b"A" * 1_000_000)
            client.settimeout(10)
            started = time.monotonic()
            assert client.recv(1024) == b""  # closed by the server
            assert time.monotonic() - started < 5
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
