"""The Storage port on local disk: files under ``<ALLIANCE_VAR_DIR>/uploads/`` with random names.

Several server processes on one machine share the directory; behind several machines use a
shared volume (or an object-store adapter of the same port).
"""
from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import tempfile
from pathlib import Path

from config.settings import Settings

_KEY = re.compile(r"^[0-9]{6}/[A-Za-z0-9_-]{20,64}\.[a-z0-9]{1,8}$")


class LocalDiskStorage:
    """Implements alliance.ports.Storage in a directory."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise FileNotFoundError(key)
        return self.root / key

    def save(self, data: bytes, *, suffix: str) -> str:
        """Write ``data`` atomically under a new random key; the key."""
        key = f"{dt.date.today():%Y%m}/{secrets.token_urlsafe(24)}{suffix}"
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return key

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except FileNotFoundError:
            pass


def make_storage(settings: Settings) -> LocalDiskStorage:
    """The storage adapter for these settings."""
    return LocalDiskStorage(settings.var_dir / "uploads")
