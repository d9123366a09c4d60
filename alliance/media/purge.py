"""Uploads nobody uses: an image uploaded and never attached (a form abandoned, a file sent
twice), or detached since (a photo replaced), stays on disk for good unless it is purged.

An upload is in use while any reference column names it (``alliance.models``:
``UPLOAD_REFERENCES``; its test checks that every column of upload ids is listed). Only
uploads older than ``older_than`` go, long after any form that could still attach them.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable

from peewee import Field

from alliance.db import transaction, utcnow
from alliance.media.models import Upload
from alliance.ports import Storage

# An upload id ("u" and 20 URL-safe characters) wherever a column names it: alone, or in a
# JSON list or object. Anything that only looks like one keeps an upload; never loses one.
_UPLOAD_ID = re.compile(r"u[A-Za-z0-9_-]{20}")
BATCH = 500


def referenced_uploads(references: Iterable[Field]) -> set[str]:
    """Every upload id a reference column names."""
    found: set[str] = set()
    for field in references:
        query = field.model.select(field).where(field.is_null(False)).tuples()
        for (value,) in query.iterator():
            found.update(_UPLOAD_ID.findall(value))
    return found


def purge_unreferenced(storage: Storage, references: Iterable[Field],
                       older_than: dt.timedelta) -> int:
    """Delete the uploads older than ``older_than`` that no reference names (the row, then
    its file: a crash between leaves a file nobody serves, never a row without a file);
    how many."""
    in_use = referenced_uploads(references)
    cutoff = utcnow() - older_than
    deleted, after = 0, ""
    while True:
        rows = list(Upload.select(Upload.id, Upload.storage_key)
                    .where(Upload.created_at < cutoff, Upload.id > after)
                    .order_by(Upload.id).limit(BATCH).tuples())
        if not rows:
            return deleted
        after = rows[-1][0]
        unused = [(upload_id, key) for upload_id, key in rows if upload_id not in in_use]
        if unused:
            with transaction():
                Upload.delete().where(Upload.id.in_([u for u, _ in unused])).execute()
            for _, key in unused:
                storage.delete(key)
            deleted += len(unused)
