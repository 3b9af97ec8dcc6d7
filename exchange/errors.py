"""The service's error hierarchy; one middleware (``exchange.middleware``) turns each into a JSON answer
``{"error": {"code", "message", "field"}}``. Messages never contain personal data.

    ApiError (500, internal_error)
    ├── BadRequest (400)           invalid_json, invalid_field, missing_purpose, invalid_purpose, ...
    │   └── ValidationFailed (400) one field of the body is wrong (code from protocols.validation.Code)
    ├── Unauthorized (401)         not_authenticated, invalid_credentials, invalid_token, session_expired
    ├── Forbidden (403)            forbidden, csrf_failed
    ├── NotFound (404)             not_found
    ├── Conflict (409)             version_conflict, conflict, idempotency_mismatch
    ├── PreconditionFailed (412)   stale_version, if_match_required (428)
    ├── PayloadTooLarge (413)      body_too_large
    ├── TooManyRequests (429)      rate_limited, account_locked
    └── Unavailable (503)          database_unavailable
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    INTERNAL = "internal_error"
    INVALID_JSON = "invalid_json"
    INVALID_FIELD = "invalid_field"
    MISSING_PURPOSE = "missing_purpose"
    INVALID_PURPOSE = "invalid_purpose"
    INVALID_PARAMETER = "invalid_parameter"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)
    SESSION_EXPIRED = "session_expired"
    FORBIDDEN = "forbidden"
    CSRF_FAILED = "csrf_failed"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    VERSION_CONFLICT = "version_conflict"
    CONFLICT = "conflict"
    IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
    STALE_VERSION = "stale_version"
    IF_MATCH_REQUIRED = "if_match_required"
    BODY_TOO_LARGE = "body_too_large"
    RATE_LIMITED = "rate_limited"
    ACCOUNT_LOCKED = "account_locked"
    DATABASE_UNAVAILABLE = "database_unavailable"


class ApiError(Exception):
    status = 500
    default_code = ErrorCode.INTERNAL

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = str(code or self.default_code)
        self.message = message
        self.field = field
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


class BadRequest(ApiError):
    status = 400
    default_code = ErrorCode.INVALID_FIELD


class ValidationFailed(BadRequest):
    pass


class Unauthorized(ApiError):
    status = 401
    default_code = ErrorCode.NOT_AUTHENTICATED


class Forbidden(ApiError):
    status = 403
    default_code = ErrorCode.FORBIDDEN


class NotFound(ApiError):
    status = 404
    default_code = ErrorCode.NOT_FOUND


class MethodNotAllowed(ApiError):
    status = 405
    default_code = ErrorCode.METHOD_NOT_ALLOWED


class Conflict(ApiError):
    status = 409
    default_code = ErrorCode.CONFLICT


class PreconditionFailed(ApiError):
    status = 412
    default_code = ErrorCode.STALE_VERSION


class PreconditionRequired(ApiError):
    status = 428
    default_code = ErrorCode.IF_MATCH_REQUIRED


class PayloadTooLarge(ApiError):
    status = 413
    default_code = ErrorCode.BODY_TOO_LARGE


class UnsupportedMediaType(ApiError):
    status = 415
    default_code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


class TooManyRequests(ApiError):
    status = 429
    default_code = ErrorCode.RATE_LIMITED


class Unavailable(ApiError):
    status = 503
    default_code = ErrorCode.DATABASE_UNAVAILABLE
