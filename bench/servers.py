"""Servers under test as subprocesses: started in their own session, stopped as a group."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0


class ServerProcess:
    """``argv`` serving on ``port`` until ``stop()``; its output goes to ``log_path``."""

    def __init__(self, name: str, argv: list[str], port: int, env: dict[str, str],
                 log_path: Path, ready_path: str):
        self.name, self.argv, self.port, self.env = name, argv, port, env
        self.log_path, self.ready_path = log_path, ready_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # A session of its own: fork_processes children are stopped with their parent.
            self.process = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; "
                                   f"see {self.log_path}")
            try:
                status, _ = call("127.0.0.1", self.port, "GET", self.ready_path)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready on :{self.port} after {READY_TIMEOUT_S:.0f} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process of the server's session (forked ones too)."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited while we looked
            if int(fields[3]) == self.process.pid:  # the session id
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def app_server(port: int, processes: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    """``python -m server`` with ``env`` (DATABASE_URL and the rest)."""
    return ServerProcess("server", [sys.executable, "-m", "server", "--port", str(port),
                                    "--processes", str(processes)],
                         port, env, log_path, "/healthz")


def providers_server(port: int, env: dict[str, str], log_path: Path) -> ServerProcess:
    """The stand-ins of WeChat, WeChat Pay, Alipay and the SMS gateway in a server of their
    own (``python -m server`` in sandbox mode on ``env``'s database, one process): in
    production that work runs at the providers, so it must not count as the server's, and
    it writes no access line for the calls it answers (a fifth of its CPU per message)."""
    return ServerProcess("providers", [sys.executable, "-m", "server", "--port", str(port),
                                       "--processes", "1"],
                         port, {**env, "ALLIANCE_DELIVERY_PROCESSES": "0",
                                "LOG_LEVEL": "WARNING"}, log_path, "/healthz")


def providers_env(env: dict[str, str], port: int) -> dict[str, str]:
    """``env`` with the providers' base URLs pointing at the stand-ins served on ``port``."""
    origin = f"http://127.0.0.1:{port}/_sandbox"
    return {**env, "WECHAT_API_BASE": f"{origin}/wechat/",
            "WECHATPAY_API_BASE": f"{origin}/wechatpay/",
            "ALIPAY_GATEWAY": f"{origin}/alipay/gateway.do",
            "ALIYUN_SMS_ENDPOINT": f"{origin}/sms/"}


def baseline_server(port: int, processes: int, log_path: Path) -> ServerProcess:
    """The bare Tornado JSON handler of ``bench.baseline``."""
    return ServerProcess("baseline", [sys.executable, "-m", "bench.baseline", "--port", str(port),
                                      "--processes", str(processes)],
                         port, dict(os.environ), log_path, "/")


def call(host: str, port: int, method: str, path: str, body: dict | None = None,
         headers: dict | None = None) -> tuple[int, dict | None]:
    """One request outside the measurement (setup, readiness); (status, JSON body)."""
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None
    finally:
        conn.close()


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when it is free, else a port the kernel picks."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
        try:
            sock.bind(("127.0.0.1", preferred or 0))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DatabaseProbe:
    """What the scenarios cost the MySQL/MariaDB server: the CPU time of its process (when it
    runs on this machine: ``pid``) and the statements it was sent (``Questions``, read through
    ``alliance.db``'s database, which must be that server's)."""

    PROCESS_NAMES = ("mariadbd", "mysqld")

    def __init__(self, pid: int | None):
        self.pid = pid

    @classmethod
    def local(cls) -> "DatabaseProbe":
        """The probe of the database server process running here (pid None: none found)."""
        for comm in Path("/proc").glob("[0-9]*/comm"):
            try:
                if comm.read_text().strip() in cls.PROCESS_NAMES:
                    return cls(int(comm.parent.name))
            except OSError:
                continue
        return cls(None)

    def cpu_seconds(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def statements(self) -> int:
        from alliance.db import connection, db

        with connection():
            return int(db.execute_sql("SHOW GLOBAL STATUS LIKE 'Questions'").fetchone()[1])

    def sample(self) -> tuple[float | None, int]:
        return self.cpu_seconds(), self.statements()

    def per_request(self, before: tuple[float | None, int],
                    answered: int) -> tuple[float | None, float]:
        """(database CPU ms, statements) per answered request since ``before``."""
        cpu, statements = self.sample()
        answered = max(answered, 1)
        cpu_ms = (None if cpu is None or before[0] is None
                  else (cpu - before[0]) * 1000 / answered)
        return cpu_ms, (statements - before[1]) / answered
