"""WeChat Pay platform certificates: downloaded off the event loop, at most once a minute,
and only those sealed with our APIv3 key and valid now are used."""
import base64
import datetime as dt
import json
import secrets
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from payments.wechatpay_certs import PlatformCertificates
from sandbox.wechatpay import platform_certificate

APIV3_KEY = "0123456789abcdef0123456789abcdef"


class Clock:
    def __init__(self):
        self.now = time.time()

    def __call__(self):
        return self.now


def sealed(certificate, apiv3_key: str = APIV3_KEY) -> dict:
    """An item of GET /v3/certificates, as WeChat Pay seals it."""
    nonce = secrets.token_hex(6)
    pem = certificate.public_bytes(serialization.Encoding.PEM)
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), pem, b"certificate")
    return {"serial_no": format(certificate.serial_number, "X"),
            "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce,
                                    "associated_data": "certificate",
                                    "ciphertext": base64.b64encode(ciphertext).decode()}}


def serial_of(certificate) -> str:
    return format(certificate.serial_number, "X")


def test_a_serial_is_known_after_the_download_it_starts():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ours = platform_certificate(key)
    forged = platform_certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    calls = []

    def download():
        calls.append(1)
        return 200, json.dumps({"data": [sealed(ours), sealed(forged, "f" * 32)]})

    clock = Clock()
    certificates = PlatformCertificates(download, APIV3_KEY, clock)
    assert certificates.key(serial_of(ours)) is None  # not known yet: a download starts
    deadline = time.monotonic() + 5
    while certificates.key(serial_of(ours)) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert certificates.key(serial_of(ours)).public_numbers() == \
        key.public_key().public_numbers()
    assert certificates.key(serial_of(ours).lower()) is not None  # hex, any case
    # not sealed with our APIv3 key: never used, and asked about again only after a minute
    assert certificates.key(serial_of(forged)) is None
    assert certificates.key("not-hex") is None and len(calls) == 1
    clock.now += 61
    assert certificates.key(serial_of(forged)) is None
    deadline = time.monotonic() + 5
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 2


def test_a_certificate_is_used_only_while_valid_and_a_failed_download_keeps_the_known():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ours = platform_certificate(key)  # valid 2020 to 2040
    answers = [(200, json.dumps({"data": [sealed(ours)]})), (500, "{}")]
    clock = Clock()
    certificates = PlatformCertificates(lambda: answers.pop(0), APIV3_KEY, clock)
    certificates.download()
    assert certificates.key(serial_of(ours)) is not None
    clock.now += 61
    certificates.download()  # WeChat Pay busy: what was known stays
    assert certificates.key(serial_of(ours)) is not None
    clock.now = dt.datetime(2041, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    assert certificates.key(serial_of(ours)) is None  # expired
