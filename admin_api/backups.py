"""The console's backups (admin:settings): start one, follow it, list them, download a file.

A backup is written on the server's backup thread, never on the event loop nor on a request
worker; its record (running, then succeeded or failed) is what the console polls. Restoring
stays on the command line, with the servers stopped: each successful backup carries the
exact command.
"""
from __future__ import annotations

import contextvars
import os

from tornado.ioloop import IOLoop

from alliance.backups import queries
from alliance.backups import services as backups
from alliance.backups.models import CONSOLE
from server import validation as v
from server.base import BaseHandler, authenticated, idempotent

BACKUP_ID = r"([0-9]{1,18})"
CHUNK_BYTES = 256 * 1024


def start_writing(ctx, backup_id: int) -> None:
    """Write the begun backup ``backup_id`` on the backup thread (its record tells the end)."""
    settings = ctx.settings
    context = contextvars.copy_context()
    ctx.backup_executor.submit(context.run, backups.write, backup_id, settings.backup_dir,
                               settings.var_dir / "uploads")


class BackupsHandler(BaseHandler):
    @authenticated("admin:settings", kind="operator")
    async def get(self):
        limit = v.page_limit(self.query("limit"))
        items, next_cursor = await self.run_sync(queries.page, self.ctx.settings.backup_dir,
                                                 self.query("cursor"), limit)
        self.write_json({"items": items, "next_cursor": next_cursor,
                         "backup_dir": str(self.ctx.settings.backup_dir),
                         "keep": self.ctx.settings.backup_keep})

    @authenticated("admin:settings", kind="operator")
    @idempotent
    async def post(self):
        directory = self.ctx.settings.backup_dir

        def begin():
            row = backups.begin(CONSOLE, self.principal.id)
            return row.id, queries.view(row, directory)

        backup_id, answer = await self.run_sync(begin)
        start_writing(self.ctx, backup_id)
        self.set_header("Location", f"/api/admin/v1/backups/{backup_id}")
        self.write_json(answer, status=202)


class BackupHandler(BaseHandler):
    @authenticated("admin:settings", kind="operator")
    async def get(self, backup_id: str):
        self.write_json(await self.run_sync(queries.detail, int(backup_id),
                                            self.ctx.settings.backup_dir))


class BackupDownloadHandler(BaseHandler):
    """The backup's file, read a chunk at a time on a worker and sent as it is read."""

    @authenticated("admin:settings", kind="operator")
    async def get(self, backup_id: str):
        path, name = await self.run_sync(backups.downloadable, int(backup_id),
                                         self.ctx.settings.backup_dir, self.principal.id)
        loop = IOLoop.current()
        handle = await loop.run_in_executor(self.executor, open, path, "rb")
        try:
            self.set_header("Content-Type", "application/gzip")
            self.set_header("Content-Disposition", f'attachment; filename="{name}"')
            self.set_header("Content-Length", str(os.fstat(handle.fileno()).st_size))
            while chunk := await loop.run_in_executor(self.executor, handle.read, CHUNK_BYTES):
                self.write(chunk)
                await self.flush()
        finally:
            handle.close()
        self.finish()


def routes() -> list:
    return [
        (r"/api/admin/v1/backups", BackupsHandler),
        (rf"/api/admin/v1/backups/{BACKUP_ID}", BackupHandler),
        (rf"/api/admin/v1/backups/{BACKUP_ID}/download", BackupDownloadHandler),
    ]


def _schemas() -> dict:
    from server.openapi import INT, STR, TIME, obj

    nullable = lambda schema: {**schema, "nullable": True}  # noqa: E731
    return {"Backup": obj({
        "id": INT, "file_name": STR,
        "status": {"type": "string", "enum": ["running", "succeeded", "failed"]},
        "trigger": {"type": "string", "enum": ["console", "schedule", "command", "found"],
                    "description": "who started it; found: a file in BACKUP_DIR recorded after "
                                   "a restore"},
        "started_by": nullable(INT), "started_by_name": nullable(STR),
        "host": {**STR, "description": "the host whose BACKUP_DIR holds the file"},
        "size_bytes": nullable(INT),
        "sha256": {**nullable(STR), "description": "of the whole file, as downloaded"},
        "schema_migration": nullable(STR),
        "row_counts": {"type": "object", "additionalProperties": INT,
                       "description": "rows per table"},
        "rows_total": INT, "files": {**INT, "description": "uploaded files in it"},
        "progress": obj({"tables_done": INT, "tables_total": INT}),
        "error": nullable(STR), "started_at": TIME, "finished_at": nullable(TIME),
        "download_url": nullable(STR),
        "restore_command": {**nullable(STR),
                            "description": "run with the servers and the scheduler stopped"},
    }, ["id", "file_name", "status", "started_at"])}


SCHEMAS = _schemas()


def _openapi() -> dict:
    from server.openapi import INT, PAGING, STR, list_of, obj, op, path_param, ref

    tags = ["admin backups"]
    backup_id = path_param("id", INT, "the backup's id")
    download = op("Download a backup's file (admin:settings; audited)", tags=tags,
                  errors=(403, 404, 409), params=[backup_id],
                  description="Streamed; its SHA-256 is the backup's sha256. 409 "
                              "BACKUP_NOT_READY unless it succeeded; 404 BACKUP_FILE_MISSING "
                              "when the file is no longer in this server's BACKUP_DIR.")
    download["responses"]["200"] = {"description": "the backup (.tar.gz)", "content": {
        "application/gzip": {"schema": {"type": "string", "format": "binary"}}}}
    return {
        "/api/admin/v1/backups": {
            "get": op("Backups, newest first (admin:settings)", tags=tags, errors=(400, 403),
                      params=PAGING, ok={"allOf": [list_of(ref("Backup")), obj({
                          "backup_dir": STR, "keep": {**INT, "description": "BACKUP_KEEP"}})]},
                      description="A running backup whose process stopped (no heartbeat for "
                                  "5 minutes) is marked failed before the list is read."),
            "post": op("Start a backup (admin:settings; audited)", tags=tags, status=202,
                       errors=(403, 409), idempotent=True, ok=ref("Backup"),
                       description="Answers at once with the running backup; poll "
                                   "GET /api/admin/v1/backups/{id} until it has succeeded or "
                                   "failed. One backup runs at a time across every process: "
                                   "409 BACKUP_RUNNING meanwhile.")},
        "/api/admin/v1/backups/{id}": {"get": op(
            "One backup: status, progress, size, checksum, row counts, restore command "
            "(admin:settings)", tags=tags, errors=(403, 404), params=[backup_id],
            ok=ref("Backup"))},
        "/api/admin/v1/backups/{id}/download": {"get": download},
    }


OPENAPI = _openapi()
