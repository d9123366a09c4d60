"""Protected fields: personal identifiers encrypted at rest, with a keyed hash for lookups.

AES-256-GCM with a key derived from SECRET_KEY by HKDF-SHA256; the lookup hash is an
HMAC-SHA256 under a second derived key, so equal values can be found without decrypting.
Changing SECRET_KEY makes stored values unreadable: rotate by re-encrypting.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"alliance-protect",
                info=purpose).derive(secret.encode())


class FieldProtector:
    """Encrypts, decrypts and hashes protected values with keys derived from one secret."""

    def __init__(self, secret: str):
        self._aead = AESGCM(_derive(secret, b"field-encryption:v1"))
        self._hash_key = _derive(secret, b"field-lookup-hash:v1")

    def encrypt(self, value: str, context: str) -> str:
        """``value`` encrypted; ``context`` (e.g. the field name) is bound as associated data."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, value.encode(), context.encode())
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext of ``encrypt``'s output; ValueError when it was not ours."""
        version, _, body = token.partition(":")
        if version != _VERSION:
            raise ValueError("unknown protected-field version")
        raw = base64.urlsafe_b64decode(body)
        try:
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except InvalidTag:
            raise ValueError("protected field does not decrypt with this key") from None

    def lookup_hash(self, value: str, context: str) -> str:
        """A keyed hash of ``value`` to find equal values (64 hex characters)."""
        return hmac.new(self._hash_key, f"{context}\x00{value}".encode(),
                        hashlib.sha256).hexdigest()
