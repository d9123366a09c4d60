"""The load generator: raw HTTP/1.1 keep-alive connections on asyncio, in client processes.

Each connection sends one request at a time (no pipelining) and cycles through its own list
of prepared requests, so per-connection state (a token, a user) is baked into the bytes.
Several client processes share the connections so that the generator is never the
bottleneck; they agree on the measuring window through ``time.monotonic()`` (one clock for
every process on Linux). Requests that start before the window warm up; requests still in
flight when it closes are awaited so that the counts of answers are exact (post-checks
compare them with the database). Standard library only: a clean machine runs it as it is.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import queue
import socket
import time
from array import array
from dataclasses import dataclass, field

MAX_ERROR_SAMPLES = 3
DRAIN_TIMEOUT_S = 10.0


def http_request(method: str, path: str, body: bytes = b"", headers: dict | None = None,
                 host: str = "127.0.0.1") -> bytes:
    """The bytes of one HTTP/1.1 keep-alive request."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Job:
    """What one client process does: its connections and the shared window."""

    host: str
    port: int
    requests: list[list[bytes]]  # one list per connection, cycled
    start_at: float  # monotonic: connections fire
    measure_from: float  # monotonic: latencies count from here
    stop_at: float  # monotonic: no new request after this


@dataclass
class Tally:
    """What one client process saw; tallies of several processes add up."""

    latencies_us: array = field(default_factory=lambda: array("Q"))  # in the window
    statuses: dict[int, int] = field(default_factory=dict)  # whole run, warm-up included
    transport_errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        self.latencies_us.extend(other.latencies_us)
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count
        self.transport_errors += other.transport_errors
        room = MAX_ERROR_SAMPLES - len(self.error_samples)
        self.error_samples.extend(other.error_samples[:max(room, 0)])

    def note_error(self, text: str) -> None:
        if len(self.error_samples) < MAX_ERROR_SAMPLES:
            self.error_samples.append(text[:300])


class _Connection(asyncio.Protocol):
    """One keep-alive connection: send, read one response (Content-Length framed), repeat."""

    def __init__(self, requests: list[bytes], job: Job, tally: Tally, done: asyncio.Future):
        self.requests, self.job, self.tally, self.done = requests, job, tally, done
        self.index = 0
        self.buffer = bytearray()
        self.sent_at = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def fire(self) -> None:
        if time.monotonic() >= self.job.stop_at:
            self._finish()
            return
        request = self.requests[self.index % len(self.requests)]
        self.index += 1
        self.sent_at = time.monotonic()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buffer[:head_end]).decode("latin-1")
            status = int(head[9:12])
            length = _content_length(head, status)
            if length is None:
                self._fail(f"unframed response: {head[:200]}")
                return
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            body = bytes(self.buffer[head_end + 4:end])
            del self.buffer[:end]
            self._answered(status, body)

    def _answered(self, status: int, body: bytes) -> None:
        now = time.monotonic()
        tally = self.tally
        tally.statuses[status] = tally.statuses.get(status, 0) + 1
        if status >= 400:
            tally.note_error(f"{status} {body.decode('utf-8', 'replace')}")
        if self.sent_at >= self.job.measure_from and now <= self.job.stop_at:
            tally.latencies_us.append(int((now - self.sent_at) * 1_000_000))
        self.fire()

    def _fail(self, reason: str) -> None:
        self.tally.transport_errors += 1
        self.tally.note_error(reason)
        self._finish()

    def _finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.tally.transport_errors += 1
            self.tally.note_error(f"connection lost: {exc!r}")
            self.done.set_result(None)


def _content_length(head: str, status: int) -> int | None:
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return int(value)
    return 0 if status in (204, 304) or 100 <= status < 200 else None


async def _drive(job: Job) -> Tally:
    loop = asyncio.get_running_loop()
    tally = Tally()
    connections, waits = [], []
    for requests in job.requests:
        done = loop.create_future()
        _, protocol = await loop.create_connection(
            lambda r=requests, d=done: _Connection(r, job, tally, d), job.host, job.port)
        connections.append(protocol)
        waits.append(done)
    await asyncio.sleep(max(0.0, job.start_at - time.monotonic()))
    for protocol in connections:
        protocol.fire()
    timeout = job.stop_at - time.monotonic() + DRAIN_TIMEOUT_S
    _, pending = await asyncio.wait(waits, timeout=max(timeout, 0.1))
    if pending:
        tally.transport_errors += len(pending)
        tally.note_error(f"{len(pending)} requests unanswered {DRAIN_TIMEOUT_S:.0f} s after the end")
        for protocol in connections:
            protocol.transport.close()
    return tally


def _client_main(job: Job, results) -> None:
    try:
        results.put(asyncio.run(_drive(job)))
    except Exception as exc:  # reported to the harness, which fails the scenario
        tally = Tally(transport_errors=1)
        tally.note_error(f"client process failed: {exc!r}")
        results.put(tally)


def prime(host: str, port: int, requests: list[list[bytes]]) -> dict[int, int]:
    """Send every request once, unmeasured (one connection per list, concurrently): what a
    server that has been up for a while keeps warm. The statuses of the answers."""

    async def one_pass(own: list[bytes]) -> list[int]:
        reader, writer = await asyncio.open_connection(host, port)
        statuses = []
        for request in own:
            writer.write(request)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            status = int(head[9:12])
            await reader.readexactly(_content_length(head, status) or 0)
            statuses.append(status)
        writer.close()
        return statuses

    async def every_pass() -> list[list[int]]:
        return await asyncio.gather(*(one_pass(own) for own in requests))

    counts: dict[int, int] = {}
    for status in (s for statuses in asyncio.run(every_pass()) for s in statuses):
        counts[status] = counts.get(status, 0) + 1
    return counts


@dataclass
class Measurement:
    """A scenario's numbers over the measuring window, and the answers of the whole run."""

    connections: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    transport_errors: int
    error_samples: list[str]


def run(host: str, port: int, requests: list[list[bytes]], *, duration_s: float,
        warmup_s: float, clients: int) -> Measurement:
    """Drive ``requests`` (one list per connection) at host:port; the measurement."""
    clients = max(1, min(clients, len(requests)))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.monotonic() + 0.6 + 0.2 * clients  # time to spawn and connect
    measure_from = start_at + warmup_s
    stop_at = measure_from + duration_s
    processes = []
    for index in range(clients):
        job = Job(host, port, requests[index::clients], start_at, measure_from, stop_at)
        process = context.Process(target=_client_main, args=(job, results), daemon=True)
        process.start()
        processes.append(process)
    total = Tally()
    for _ in processes:
        try:
            total.add(results.get(timeout=max(stop_at - time.monotonic(), 0) + DRAIN_TIMEOUT_S + 30))
        except queue.Empty:
            total.transport_errors += 1
            total.note_error("a client process never reported")
    for process in processes:
        process.join(timeout=10)
    latencies = sorted(total.latencies_us)
    return Measurement(
        connections=len(requests), duration_s=duration_s, requests=len(latencies),
        rps=len(latencies) / duration_s, p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99), statuses=dict(sorted(total.statuses.items())),
        transport_errors=total.transport_errors, error_samples=total.error_samples)


def _percentile(sorted_us: list[int], fraction: float) -> float:
    if not sorted_us:
        return 0.0
    index = min(len(sorted_us) - 1, int(round(fraction * (len(sorted_us) - 1))))
    return sorted_us[index] / 1000.0
