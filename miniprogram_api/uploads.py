"""Image uploads (multipart) and serving them back: public images to anyone by their
unguessable id, private ones (licences, ID cards) only through signed short-lived links."""
from __future__ import annotations

import hashlib
import json

from alliance.errors import AllianceError, ValidationFailed
from alliance.media import services as media
from server.base import BaseHandler, authenticated, idempotent, rate_limited

MULTIPART_OVERHEAD = 64 * 1024


class MediaLinkInvalid(AllianceError):
    code = "MEDIA_LINK_INVALID"
    http_status = 403
    message = "图片链接无效或已过期"


class UploadHandler(BaseHandler):
    @property
    def max_body_bytes(self) -> int:
        # Room for the multipart framing: the image itself is checked against the limit.
        return self.ctx.settings.max_upload_bytes + MULTIPART_OVERHEAD

    def idempotency_payload(self) -> bytes:
        # The form's fields and the files' contents, not the multipart framing: a retry is
        # framed with a new boundary.
        files = {name: [hashlib.sha256(f["body"]).hexdigest() for f in parts]
                 for name, parts in self.request.files.items()}
        fields = {name: [value.decode("utf-8", "replace") for value in values]
                  for name, values in self.request.body_arguments.items()}
        return json.dumps({"files": files, "fields": fields}).encode()

    def one_file(self) -> bytes:
        """The body of the request's one ``file`` part; VALIDATION_FAILED otherwise."""
        files = self.request.files.get("file") or []
        if len(files) != 1:
            raise ValidationFailed("请以 multipart/form-data 上传一个 file 字段",
                                   details={"field": "file", "issue": "required"})
        return files[0]["body"]

    def write_stored(self, upload, url: str) -> None:
        """Answer 201 with the stored upload and where it is served."""
        self.write_json({"id": upload.id, "purpose": upload.purpose,
                         "content_type": upload.content_type, "size_bytes": upload.size_bytes,
                         "url": url}, 201)

    @authenticated()
    @rate_limited("upload", lambda h: 60, key=lambda h: h.principal.key)
    @idempotent
    async def post(self):
        body = self.one_file()
        purpose = self.get_body_argument("purpose", "") or ""
        settings = self.ctx.settings
        upload = await self.run_sync(media.store_image, self.ctx.storage, self.principal.id,
                                     purpose, body, settings.max_upload_bytes,
                                     settings.upload_daily_bytes)
        path = (media.public_path(upload.id) if upload.purpose in media.PUBLIC_PURPOSES
                else media.signed_path(self.ctx.settings.secret_key, upload.id))
        self.write_stored(upload, path)


class MediaHandler(BaseHandler):
    async def get(self, upload_id: str):
        upload = await self.run_sync(media.get_upload, upload_id)
        if not media.readable(upload, self.ctx.settings.secret_key,
                              self.get_query_argument("exp", None),
                              self.get_query_argument("sig", None)):
            raise MediaLinkInvalid()
        data = await self.run_sync(self.ctx.storage.read, upload.storage_key)
        self.set_header("Content-Type", upload.content_type)
        if upload.purpose in media.PUBLIC_PURPOSES:
            self.set_header("Cache-Control", "public, max-age=86400, immutable")
        self.finish(data)


def routes() -> list:
    return [(r"/api/v1/uploads", UploadHandler),
            (r"/media/([A-Za-z0-9_-]{8,32})", MediaHandler)]


def _openapi() -> dict:
    from server.openapi import INT, STR, obj, op, path_param, query_param

    tags = ["uploads"]
    return {
        "/api/v1/uploads": {"post": op(
            "Upload an image (JPEG, PNG or WebP; the type is read from the bytes)", tags=tags,
            status=201, content_type="multipart/form-data", errors=(413, 415, 429),
            body=obj({"file": {"type": "string", "format": "binary"},
                      "purpose": {"type": "string", "enum": list(media.PURPOSES)}},
                     ["file", "purpose"]),
            ok=obj({"id": STR, "purpose": STR, "content_type": STR, "size_bytes": INT,
                    "url": {"type": "string", "description": "public path, or a signed link "
                                                            "valid 5 minutes (licence, id_card)"}}),
            idempotent=True,
            description="Errors: UNSUPPORTED_FILE_TYPE (not an image), UPLOAD_TOO_LARGE "
                        "(ALLIANCE_MAX_UPLOAD_BYTES, or more than 64 million pixels), "
                        "RATE_LIMITED (60 a minute, or ALLIANCE_UPLOAD_DAILY_BYTES in 24 hours). "
                        "An Idempotency-Key is honoured; a repeat is the same fields and file, "
                        "however framed. Use the id in later requests.")},
        "/media/{id}": {"get": op(
            "An uploaded image (private ones need the signed link's exp and sig)",
            tags=tags, auth=False, errors=(403, 404),
            params=[path_param("id"), query_param("exp", INT), query_param("sig", STR)])},
    }


OPENAPI = _openapi()
