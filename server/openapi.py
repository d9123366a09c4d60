"""The OpenAPI 3 document, assembled from the fragments each API module declares.

Each module that serves routes exposes ``OPENAPI``: ``{path: {method: operation}}``, built
with the helpers here; tests check that every served route is documented.
"""
from __future__ import annotations

from typing import Any

from alliance.infra import idempotency

ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "request_id"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"},
                                            "request_id": {"type": "string"},
                                            "details": {"type": "object"}}}},
}


def obj(properties: dict[str, Any] | None = None, required: list[str] | None = None,
        **extra) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}}
    if required:
        schema["required"] = required
    schema.update(extra)
    return schema


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def list_of(item: dict) -> dict:
    return obj({"items": {"type": "array", "items": item},
                "next_cursor": {"type": "string", "nullable": True}}, ["items"])


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
FEN = {"type": "integer", "description": "money in fen (0.01 yuan)"}
TIME = {"type": "string", "format": "date-time"}


IDEMPOTENCY_KEY = (
    "The same key from the same account within 24 h returns the first successful answer "
    "(header Idempotent-Replayed: true) and runs nothing; a different request with the key: "
    "422 IDEMPOTENCY_KEY_REUSED. While the first request runs, a repeat answers 409 "
    "IDEMPOTENCY_IN_PROGRESS; a first request still unanswered "
    f"{int(idempotency.LEASE.total_seconds()) // 60} minutes after it began is taken for "
    "dead (its server stopped), and a repeat runs it instead. A failed attempt frees the key "
    "for a retry.")


def op(summary: str, *, tags: list[str], body: dict | None = None,
       ok: dict | None = None, status: int = 200, errors: tuple[int, ...] = (),
       auth: bool = True, params: list[dict] | None = None, idempotent: bool = False,
       content_type: str = "application/json", description: str = "") -> dict:
    """One operation: its request body, its success answer and the errors it can give."""
    operation: dict[str, Any] = {"summary": summary, "tags": tags, "responses": {}}
    if description:
        operation["description"] = description
    parameters = list(params or [])
    if idempotent:
        parameters.append({"name": "Idempotency-Key", "in": "header", "required": False,
                           "schema": {"type": "string", "maxLength": 128},
                           "description": IDEMPOTENCY_KEY})
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": True,
                                    "content": {content_type: {"schema": body}}}
    if status == 204:
        operation["responses"]["204"] = {"description": "done"}
    else:
        operation["responses"][str(status)] = {
            "description": "success", "content": {"application/json": {"schema": ok or obj()}}}
    codes = (set(errors) | ({401} if auth else set()) | ({400} if body is not None else set())
             | ({409, 422} if idempotent else set()))
    for code in sorted(codes):
        operation["responses"][str(code)] = {"$ref": "#/components/responses/Error"}
    if auth:
        operation["security"] = [{"bearer": []}]
    return operation


def csv_answer(operation: dict, description: str) -> dict:
    """``operation`` answering a CSV file (UTF-8 with a BOM, streamed) instead of JSON."""
    operation["responses"]["200"] = {"description": description,
                                     "content": {"text/csv": {"schema": {"type": "string"}}}}
    return operation


def path_param(name: str, schema: dict | None = None, description: str = "") -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or STR,
            "description": description}


def query_param(name: str, schema: dict | None = None, description: str = "") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema or STR,
            "description": description}


PAGING = [query_param("cursor", STR, "opaque cursor from next_cursor"),
          query_param("limit", {"type": "integer", "minimum": 1, "maximum": 100})]


def build_document(fragments: list[dict], schemas: dict[str, dict], version: str) -> dict:
    paths: dict[str, dict] = {}
    for fragment in fragments:
        for path, operations in fragment.items():
            paths.setdefault(path, {}).update(operations)
    return {
        "openapi": "3.0.3",
        "info": {"title": "异业联盟 Alliance API", "version": version,
                 "description": "Backend of the cross-industry merchant alliance: the "
                                "mini-program API (/api/v1), the operators' console API "
                                "(/api/admin/v1), provider callbacks. Money is integer fen; "
                                "times are ISO 8601 with offset (Asia/Shanghai)."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "bearerFormat": "JWT"}},
            "schemas": {"Error": ERROR_SCHEMA, **schemas},
            "responses": {"Error": {"description": "error envelope",
                                    "content": {"application/json": {"schema": ref("Error")}}}},
        },
    }
