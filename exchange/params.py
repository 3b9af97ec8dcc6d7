"""Strict parsing of everything in a request that is not the body: the path id, ``If-Match``, the
query string and the list cursor. Each failure is a 4xx ``ApiError`` whose message never echoes the value.

The list cursor is opaque to clients: URL-safe base64 (no padding) of ``<updated_at ISO 8601>|<uuid>``, the
sort key of the last record of the previous page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Iterable

from aiohttp import web

from protocols.validation import ValidationError, clean_country

from .errors import BadRequest, ErrorCode, PreconditionRequired

_IF_MATCH = re.compile(r'(?:"([0-9]{1,9})"|([0-9]{1,9}))', re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,200}", re.ASCII)
MAX_VERSION = 2**31 - 1


def bad_parameter(field: str, message: str) -> BadRequest:
    return BadRequest(message, code=ErrorCode.INVALID_PARAMETER, field=field)


def record_id(request: web.Request) -> uuid.UUID | None:
    """The record id of the path, or None when it is not a UUID (the caller answers 404, not 500)."""
    raw = request.match_info.get("id", "")
    if len(raw) > 64 or not raw.isascii():
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        return None


def only_params(request: web.Request, allowed: Iterable[str] = ()) -> None:
    """Refuse unknown or repeated query parameters (the name in the error is cut and kept printable), and
    values with a control character (a NUL would reach PostgreSQL, which refuses it with a 500)."""
    allowed_set = set(allowed)
    for name in request.query:
        if name not in allowed_set:
            safe = "".join(ch for ch in name[:40] if ch.isascii() and ch.isprintable())
            raise bad_parameter(safe or "query", "unknown query parameter")
        if len(request.query.getall(name)) > 1:
            raise bad_parameter(name, "query parameter given more than once")
        if _CONTROL.search(request.query[name]):
            raise bad_parameter(name, "contains a control character")


def int_param(request: web.Request, name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    # the length bound keeps int() cheap on a hostile value; it follows ``hi`` (2**62 has 19 digits)
    if not (raw.isascii() and raw.isdigit() and len(raw) <= max(10, len(str(hi)))) or not lo <= int(raw) <= hi:
        raise bad_parameter(name, f"must be an integer from {lo} to {hi}")
    return int(raw)


def choice_param(request: web.Request, name: str, choices: Iterable[str]) -> str | None:
    raw = request.query.get(name)
    options = tuple(choices)
    if raw is not None and raw not in options:
        raise bad_parameter(name, "must be one of: " + ", ".join(options))
    return raw


def country_param(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        return clean_country(raw, name)
    except ValidationError as err:
        raise bad_parameter(name, err.message) from None


def time_param(request: web.Request, name: str) -> dt.datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    return parse_time(raw, name)


def parse_time(raw: str, field: str) -> dt.datetime:
    """An ISO 8601 time in ASCII; without an offset it is taken as UTC."""
    if not raw.isascii() or len(raw) > 40:
        raise bad_parameter(field, "must be an ISO 8601 time")
    try:
        value = dt.datetime.fromisoformat(raw)
        # in UTC, so a time whose offset moves it past year 1 or 9999 is refused here, not by the driver (500)
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise bad_parameter(field, "must be an ISO 8601 time") from None


def if_match(request: web.Request, *, required: bool) -> int | None:
    """The version named by ``If-Match`` (``"3"`` or ``3``); 428 when required and absent."""
    raw = request.headers.get("If-Match")
    if raw is None:
        if required:
            raise PreconditionRequired("If-Match with the version you are replacing is required",
                                       field="If-Match")
        return None
    match = _IF_MATCH.fullmatch(raw.strip())
    if match is None or not 1 <= int(match[1] or match[2]) <= MAX_VERSION:
        raise bad_parameter("If-Match", 'must be the record version, e.g. "3"')
    return int(match[1] or match[2])


def encode_cursor(updated_at: dt.datetime, rid: uuid.UUID) -> str:
    raw = f"{updated_at.astimezone(dt.UTC).isoformat()}|{rid}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(request: web.Request) -> tuple[dt.datetime, uuid.UUID] | None:
    raw = request.query.get("cursor")
    if raw is None:
        return None
    if not _CURSOR.fullmatch(raw):
        raise bad_parameter("cursor", "is not a cursor this service issued")
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode("ascii")
        when, _, rid = text.partition("|")
        return parse_time(when, "cursor"), uuid.UUID(rid)
    except (binascii.Error, UnicodeDecodeError, ValueError, BadRequest):
        raise bad_parameter("cursor", "is not a cursor this service issued") from None
