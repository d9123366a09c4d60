"""Sandbox credentials: generated once into ``var/sandbox/`` and reused afterwards.

The stand-ins of WeChat Pay and Alipay sign with their own key pairs; the merchant (us)
signs with another. All keys are RSA 2048; private keys are PKCS#1 PEM because
alipay-sdk-python's signer refuses PKCS#8.
"""
from __future__ import annotations

import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

_KEY_FILES = {
    "merchant_private_key": "merchant_private_key.pem",
    "merchant_public_key": "merchant_public_key.pem",
    "wechatpay_private_key": "wechatpay_private_key.pem",
    "wechatpay_public_key": "wechatpay_public_key.pem",
    "wechatpay_platform_private_key": "wechatpay_platform_private_key.pem",
    "wechatpay_platform_public_key": "wechatpay_platform_public_key.pem",
    "alipay_app_private_key": "alipay_app_private_key.pem",
    "alipay_app_public_key": "alipay_app_public_key.pem",
    "alipay_private_key": "alipay_private_key.pem",
    "alipay_public_key": "alipay_public_key.pem",
}


@dataclass(frozen=True)
class SandboxKeys:
    secret_key: str
    miniapp_secret: str
    oa_secret: str
    apiv3_key: str
    merchant_cert_serial: str
    merchant_private_key: Path
    merchant_public_key: Path
    wechatpay_private_key: Path
    wechatpay_public_key: Path
    wechatpay_platform_private_key: Path  # the stand-in's platform certificate's key
    wechatpay_platform_public_key: Path
    alipay_app_private_key: Path
    alipay_app_public_key: Path
    alipay_private_key: Path
    alipay_public_key: Path


def _write_pair(private_path: Path, public_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))
    os.chmod(private_path, 0o600)
    public_path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def ensure(directory: Path) -> SandboxKeys:
    """Create the sandbox credentials in ``directory`` unless they exist; return them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {name: directory / file for name, file in _KEY_FILES.items()}
    for private, public in (("merchant_private_key", "merchant_public_key"),
                            ("wechatpay_private_key", "wechatpay_public_key"),
                            ("wechatpay_platform_private_key", "wechatpay_platform_public_key"),
                            ("alipay_app_private_key", "alipay_app_public_key"),
                            ("alipay_private_key", "alipay_public_key")):
        if not (paths[private].exists() and paths[public].exists()):
            _write_pair(paths[private], paths[public])
    secrets_file = directory / "credentials.json"
    if secrets_file.exists():
        scalars = json.loads(secrets_file.read_text())
    else:
        alphabet = string.ascii_letters + string.digits
        scalars = {
            "secret_key": secrets.token_urlsafe(48),
            "miniapp_secret": secrets.token_hex(16),
            "oa_secret": secrets.token_hex(16),
            "apiv3_key": "".join(secrets.choice(alphabet) for _ in range(32)),
            "merchant_cert_serial": secrets.token_hex(20).upper(),
        }
        tmp = secrets_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(scalars))
        os.chmod(tmp, 0o600)
        os.replace(tmp, secrets_file)
    return SandboxKeys(**scalars, **paths)
