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


def _two_processes(database: str, tmp_path) -> tuple[subprocess.Popen, int]:
    """`python -m server --processes 2` starting on a free port."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database, "ALLIANCE_VAR_DIR": str(tmp_path)}
    return subprocess.Popen([sys.executable, "-m", "server", "--port", str(port),
                             "--processes", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def test_sigterm_to_the_parent_stops_every_worker(database, tmp_path):
    server, port = _two_processes(database, tmp_path)
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


def _serving_pid(port: int, client: socket.socket, pids: list[int]) -> int:
    """Which of ``pids`` holds the server's end of ``client`` (read from /proc)."""
    client_port = client.getsockname()[1]
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == port and int(remote, 16) == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    holders = {pid for pid in pids for fd in Path(f"/proc/{pid}/fd").iterdir()
               if os.readlink(fd) in inodes}
    assert len(holders) == 1, (client_port, inodes, holders)
    return holders.pop()


def test_the_connections_are_dealt_to_the_workers_in_turn(database, tmp_path):
    # Workers accepting on one shared socket each take whatever the kernel wakes them for:
    # a burst of keep-alive connections often landed whole on one of them. The parent now
    # deals them in turn, and each worker serves the ones it is handed.
    server, port = _two_processes(database, tmp_path)
    clients = []
    try:
        _wait_until_serving(port)
        time.sleep(0.5)  # the delivery process too
        workers = sorted(_children(server.pid))[:2]
        for _ in range(8):  # opened at once, as a client's pool opens them
            clients.append(socket.create_connection(("127.0.0.1", port)))
        for client in clients:  # each served on its connection (kept alive)
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for client in clients:
            client.settimeout(10)
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        served = [_serving_pid(port, client, workers) for client in clients]
        assert sorted(served.count(pid) for pid in workers) == [4, 4], served
        # A connection the parent dealt is served like any other, to its end.
        clients[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := clients[0].recv(4096):
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        for client in clients:
            client.close()
        server.send_signal(signal.SIGTERM)
        try:
            assert server.wait(timeout=20) == 0
        except subprocess.TimeoutExpired:
            server.kill()
            raise
