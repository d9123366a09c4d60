"""Errors as data: a stable code, an HTTP status, a Chinese message, developer details.

Subclasses only set attributes; one converter (server/base.py) turns any of them into the
contract's error envelope.
"""
from __future__ import annotations

from typing import Any


class AllianceError(Exception):
    code = "INTERNAL_ERROR"
    http_status = 500
    message = "服务器开小差了，请稍后再试"

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 http_status: int | None = None, details: dict[str, Any] | None = None):
        if message is not None:
            self.message = message
        if code is not None:
            self.code = code
        if http_status is not None:
            self.http_status = http_status
        self.details = details or {}
        super().__init__(f"{self.code}: {self.message}")


class ValidationFailed(AllianceError):
    code = "VALIDATION_FAILED"
    http_status = 400
    message = "请求参数有误"


class MalformedJson(AllianceError):
    code = "MALFORMED_JSON"
    http_status = 400
    message = "请求内容不是有效的 JSON"


class Unauthenticated(AllianceError):
    code = "UNAUTHENTICATED"
    http_status = 401
    message = "请先登录"


class TokenInvalid(Unauthenticated):
    code = "TOKEN_INVALID"
    message = "登录状态无效，请重新登录"


class TokenExpired(Unauthenticated):
    code = "TOKEN_EXPIRED"
    message = "登录已过期，请重新登录"


class PermissionDenied(AllianceError):
    code = "FORBIDDEN"
    http_status = 403
    message = "没有权限执行此操作"


class NotFound(AllianceError):
    code = "NOT_FOUND"
    http_status = 404
    message = "请求的内容不存在"


class Conflict(AllianceError):
    code = "CONFLICT"
    http_status = 409
    message = "操作冲突，请刷新后重试"


class RateLimited(AllianceError):
    code = "RATE_LIMITED"
    http_status = 429
    message = "操作太频繁，请稍后再试"

    def __init__(self, retry_after: int, **kwargs):
        self.retry_after = max(1, int(retry_after))
        super().__init__(**kwargs)
        self.details.setdefault("retry_after", self.retry_after)


class UpstreamUnavailable(AllianceError):
    code = "UPSTREAM_UNAVAILABLE"
    http_status = 503
    message = "微信服务繁忙，请稍后再试"


class UpstreamError(AllianceError):
    code = "UPSTREAM_ERROR"
    http_status = 502
    message = "第三方服务返回错误，请稍后再试"
