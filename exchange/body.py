"""Reading request bodies: JSON only, size-limited, parsed strictly (protocols.strictjson), then validated."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from protocols.strictjson import StrictJSONError, loads
from protocols.validation import ValidationError

from .appkeys import SETTINGS
from .errors import BadRequest, ErrorCode, PayloadTooLarge, UnsupportedMediaType, ValidationFailed


async def read_json(request: web.Request) -> Any:
    limit = request.app[SETTINGS].max_body
    if request.content_type != "application/json":
        raise UnsupportedMediaType("the body must be application/json", field="Content-Type")
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes") from None
    try:
        return loads(raw, max_bytes=limit)
    except StrictJSONError as err:
        if err.code == "too_large":
            raise PayloadTooLarge(f"the body is larger than {limit} bytes") from None
        raise BadRequest(f"the body is not strict JSON ({err.code})", code=ErrorCode.INVALID_JSON) from None


def invalid(err: ValidationError) -> ValidationFailed:
    """The API error for a failed validation: its stable code, the field path, a message without the value."""
    return ValidationFailed(err.message, code=err.code, field=err.field)
