"""The errors a receiver raises on a partner message: one hierarchy, a stable code, an HTTP status.

::

    ProtocolError                      base: .code (ErrorCode), .status (HTTP), .detail (safe text)
    ├── Malformed            400       not a well-formed envelope / body (strict JSON, field set, types)
    │   ├── TooLarge         413       over the size limit, refused before parsing
    │   ├── SchemaError      400       body does not match its message type's schema (.field = dotted path)
    │   └── Undecryptable    400       signed correctly but the ciphertext does not open with our box key
    ├── BadSignature         401       every failure of the Ed25519 signature check is this one type
    ├── KeyRefused           401       the kid cannot be used for this message
    │   ├── UnknownKey       401       sender or kid not in the trusted key set (kid only ever dict-tested)
    │   ├── ExpiredKey       401       the key was not valid at the message's ``created`` time
    │   └── RevokedKey       401       the key is revoked: refused whatever the time
    ├── NotForUs             400       ``to`` names another node
    ├── Expired              400       past ``expires``, or ``created`` older than the maximum age
    ├── TooEarly             400       ``created`` further in the future than the allowed clock skew
    ├── Replayed             200       message id already processed: the service answers idempotently
    └── FeedRefused          502       a pulled feed page the puller must not apply (a partner's fault)
        ├── Rollback         502       a sequence number at or below one already seen
        └── Frozen           502       the page's ``expires`` has passed (a replayed/stale page)

Messages never contain personal data nor echo input: only fixed words, field paths and limits.
``Replayed`` is raised by the service (the database holds the message ids); its status 200 says the
sender may treat the message as delivered and must not retry. Feed errors are 502 because they are a
partner's failure seen by us as a client, never an error of the caller we answer.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Stable error codes, sent verbatim to partners and shown in the audit log."""

    MALFORMED = "malformed"
    UNKNOWN_FIELD = "unknown_field"
    DUPLICATE_KEY = "duplicate_key"
    BAD_NUMBER = "bad_number"
    LONE_SURROGATE = "lone_surrogate"
    TOO_DEEP = "too_deep"
    INVALID_JSON = "invalid_json"
    INVALID_UTF8 = "invalid_utf8"
    TOO_LARGE = "too_large"
    SCHEMA_ERROR = "schema_error"
    UNDECRYPTABLE = "undecryptable"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    EXPIRED_KEY = "expired_key"
    REVOKED_KEY = "revoked_key"
    NOT_FOR_US = "not_for_us"
    EXPIRED = "expired"
    TOO_EARLY = "too_early"
    REPLAYED = "replayed"
    ROLLBACK = "rollback"
    FROZEN = "frozen"


class ProtocolError(Exception):
    """Base of every declared protocol failure."""

    status = 400
    default_code = ErrorCode.MALFORMED

    def __init__(self, detail: str = "", *, code: ErrorCode | None = None) -> None:
        self.code: ErrorCode = code or self.default_code
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else str(self.code))

    def to_dict(self) -> dict[str, str]:
        """The JSON error body the service sends (no personal data by construction)."""
        out = {"code": str(self.code), "message": self.detail or str(self.code)}
        field = getattr(self, "field", None)
        if field:
            out["field"] = field
        return out


class Malformed(ProtocolError):
    status = 400
    default_code = ErrorCode.MALFORMED


class TooLarge(Malformed):
    status = 413
    default_code = ErrorCode.TOO_LARGE


class SchemaError(Malformed):
    """The body failed its schema; ``field`` is the dotted path, ``reason`` the validation code."""

    default_code = ErrorCode.SCHEMA_ERROR

    def __init__(self, field: str, detail: str, *, reason: str = "invalid_value") -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.reason = reason


class Undecryptable(Malformed):
    default_code = ErrorCode.UNDECRYPTABLE


class BadSignature(ProtocolError):
    status = 401
    default_code = ErrorCode.BAD_SIGNATURE


class KeyRefused(ProtocolError):
    status = 401
    default_code = ErrorCode.UNKNOWN_KEY


class UnknownKey(KeyRefused):
    default_code = ErrorCode.UNKNOWN_KEY


class ExpiredKey(KeyRefused):
    default_code = ErrorCode.EXPIRED_KEY


class RevokedKey(KeyRefused):
    default_code = ErrorCode.REVOKED_KEY


class NotForUs(ProtocolError):
    status = 400
    default_code = ErrorCode.NOT_FOR_US


class Expired(ProtocolError):
    status = 400
    default_code = ErrorCode.EXPIRED


class TooEarly(ProtocolError):
    status = 400
    default_code = ErrorCode.TOO_EARLY


class Replayed(ProtocolError):
    status = 200
    default_code = ErrorCode.REPLAYED


class FeedRefused(ProtocolError):
    status = 502
    default_code = ErrorCode.ROLLBACK


class Rollback(FeedRefused):
    default_code = ErrorCode.ROLLBACK


class Frozen(FeedRefused):
    default_code = ErrorCode.FROZEN
