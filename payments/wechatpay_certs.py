"""WeChat Pay's platform certificates, for notifications signed under one.

A merchant in public-key mode (``WECHATPAY_PUBLIC_KEY_ID``) still receives notifications
signed with a platform certificate while WeChat Pay moves it over (the public key's share
grows to all of them within a week; PROTOCOLS.md 3.2: support both). Their
``Wechatpay-Serial`` is the certificate's serial number. The certificates come from
``GET /v3/certificates``, each encrypted with the APIv3 key (AEAD_AES_256_GCM), which also
proves they come from WeChat Pay.

Notifications are verified on the event loop, which must not wait for WeChat Pay: a serial
not known yet is refused at once (WeChat Pay sends the notification again within seconds)
and the certificates are downloaded on a thread of their own, at most once a minute.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from cryptography import x509
from wechatpayv3.utils import aes_decrypt

log = logging.getLogger("alliance.payments.wechatpay")

REFRESH_INTERVAL_S = 60.0
_SERIAL = re.compile(r"[0-9A-Fa-f]{1,64}")


@dataclass(frozen=True)
class _Certificate:
    public_key: Any
    not_before: dt.datetime
    not_after: dt.datetime


class PlatformCertificates:
    """The platform certificates' public keys by serial number."""

    def __init__(self, download: Callable[[], tuple[int, Any]], apiv3_key: str,
                 clock: Callable[[], float] = time.time):
        self._download, self._apiv3_key, self._clock = download, apiv3_key, clock
        self._certificates: dict[int, _Certificate] = {}
        self._lock = threading.Lock()
        self._downloading = False
        self._downloaded_at = float("-inf")

    def key(self, serial: str):
        """The public key of the valid certificate ``serial`` names; None when there is
        none known (a download is started, unless one ran within the last minute)."""
        if not _SERIAL.fullmatch(serial):
            return None
        found = self._certificates.get(int(serial, 16))
        now = dt.datetime.fromtimestamp(self._clock(), dt.timezone.utc)
        if found is not None and found.not_before <= now <= found.not_after:
            return found.public_key
        self._download_soon()
        return None

    def _download_soon(self) -> None:
        with self._lock:
            if self._downloading or self._clock() - self._downloaded_at < REFRESH_INTERVAL_S:
                return
            self._downloading, self._downloaded_at = True, self._clock()
        threading.Thread(target=self.download, name="wechatpay-certificates",
                         daemon=True).start()

    def download(self) -> None:
        """Download the certificates now (a failure is logged; the known ones stay)."""
        try:
            status, text = self._download()
            if status != 200:
                raise ValueError(f"HTTP {status}")
            self._certificates = {**self._certificates, **self._read(json.loads(text))}
        except Exception as exc:  # the next unknown serial after a minute tries again
            log.warning("wechatpay certificates not downloaded: %s", exc)
        finally:
            with self._lock:
                self._downloading = False

    def _read(self, answer: dict) -> dict[int, _Certificate]:
        certificates = {}
        for item in answer.get("data") or []:
            sealed = item["encrypt_certificate"]
            if sealed.get("algorithm") != "AEAD_AES_256_GCM":
                continue
            pem = aes_decrypt(nonce=sealed["nonce"], ciphertext=sealed["ciphertext"],
                              associated_data=sealed.get("associated_data") or "",
                              apiv3_key=self._apiv3_key)
            if pem is None:  # not sealed with our APIv3 key: not from WeChat Pay for us
                continue
            certificate = x509.load_pem_x509_certificate(pem.encode())
            certificates[certificate.serial_number] = _Certificate(
                certificate.public_key(), certificate.not_valid_before_utc,
                certificate.not_valid_after_utc)
        return certificates
