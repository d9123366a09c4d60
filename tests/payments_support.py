"""Payment tests: the real application and its provider stand-ins, plus helpers to call the
blocking gateways and to wait for notifications while the test's event loop keeps serving."""
from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance.db import connection
from alliance.payments import notices
from alliance.payments.models import PaymentNotification
from tests.support import VAR_DIR, ApiTestCase

T = TypeVar("T")
KEYS = VAR_DIR / "sandbox"


def write_key_pair(directory: Path, name: str) -> tuple[Path, Path]:
    """A fresh RSA key pair (PKCS#8 private, SPKI public) as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = directory / f"{name}.pem", directory / f"{name}.pub.pem"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def failing_once(calls: list) -> Callable:
    """A notice handler that records each call and fails the first (as a locked order would)."""

    def handle(notice):
        calls.append(notice)
        if len(calls) == 1:
            raise RuntimeError("order locked")

    return handle


class ProviderCalls:
    """Calls that block on the providers' stand-ins, served by this test's own loop."""

    @property
    def extras(self) -> dict:
        return self.app.settings["ctx"].extras

    def gateway(self, channel: str):
        return self.extras["payment_gateways"][channel]

    def call(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run blocking ``fn`` (a gateway call) in a thread while this loop serves the sandbox."""
        return self.io_loop.run_sync(
            lambda: asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs)),
            timeout=30)

    def spin(self, seconds: float) -> None:
        self.io_loop.run_sync(lambda: asyncio.sleep(seconds))

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        deadline = time.monotonic() + timeout
        while True:
            with connection():
                value = predicate()
            if value or time.monotonic() > deadline:
                assert value, "condition not reached in time"
                return value
            self.spin(0.05)

    def notifications(self, **where) -> list[PaymentNotification]:
        with connection():
            query = PaymentNotification.select().order_by(PaymentNotification.id)
            for name, value in where.items():
                query = query.where(getattr(PaymentNotification, name) == value)
            return list(query)

    def run_together(self, count: int, work: Callable[[int], T]) -> list:
        """``work(i)`` from ``count`` threads started together while this loop keeps
        serving (the application and its stand-ins answer them); each result, or the
        exception raised."""
        outcomes: list = []
        barrier = threading.Barrier(count)

        def run(i: int) -> None:
            barrier.wait()
            try:
                outcomes.append(work(i))
            except Exception as exc:  # the outcome is what the test counts
                outcomes.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        self.wait_for(lambda: len(outcomes) == count, timeout=30)
        for thread in threads:
            thread.join()
        return outcomes

    def post_concurrently(self, path: str, body: bytes, headers: dict, copies: int) -> list[int]:
        """POST the same request from ``copies`` threads at once; their statuses."""
        return self.run_together(copies, lambda i: requests.post(
            self.get_url(path), data=body, headers=headers, timeout=20).status_code)


class PaymentTestCase(ProviderCalls, ApiTestCase):
    """The notification mechanism alone: the orders' handlers (installed by make_app) are
    taken out, and each test registers what it observes with."""

    def setUp(self):
        super().setUp()
        notices.register_payment_handler(None)
        notices.register_refund_handler(None)
        self.addCleanup(notices.register_payment_handler, None)
        self.addCleanup(notices.register_refund_handler, None)
