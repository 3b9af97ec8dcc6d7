"""What the register's handlers share: the answer with its ``ETag``, the cleaned record body, the database
checks net, and the audit of refused requests and unknown ids."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from aiohttp import web

from protocols.record import validate_record_body
from protocols.validation import Code, ValidationError

from .. import audit, params
from ..appkeys import POOL
from ..body import invalid
from ..errors import ApiError, BadRequest, ErrorCode, NotFound
from ..middleware import actor
from ..policy import Handler
from .storable import check_storable

T = TypeVar("T")
BASE = "/api/v1/records"


def unknown() -> NotFound:
    return NotFound("no record with this id")


def latest_today() -> dt.date:
    """Today's date somewhere on Earth (UTC+14): a birth date after it is in the future for everybody."""
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()


def check_born(birth_date: str | None, field: str, today: dt.date) -> None:
    """A (partial) birth date whose first possible day is after ``today`` is refused: a typo, not a person."""
    if birth_date is None:
        return
    first = dt.date(int(birth_date[:4]), int(birth_date[5:7] or 1), int(birth_date[8:10] or 1))
    if first > today:
        raise ValidationError(Code.INVALID_DATE, field, "is in the future")


def cleaned_record(body: Any) -> dict[str, Any]:
    try:
        record = validate_record_body(body)
        check_born(record["person"].get("birth_date"), "person.birth_date", latest_today())
        check_storable(record)
    except ValidationError as err:
        raise invalid(err) from None
    return record


def answer(body: dict[str, Any], status: int = 200) -> web.Response:
    headers = {"ETag": f'"{body["version"]}"'}
    if status == 201:
        headers["Location"] = f"{BASE}/{body['id']}"
    return web.json_response(body, status=status, headers=headers)


async def db_checks(work: Awaitable[T]) -> T:
    """Await ``work``; a database CHECK the validators missed becomes a 400, never a 500. The caller's
    transaction then rolls back, so nothing is written (no savepoint needed: the whole request fails)."""
    try:
        return await work
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
        raise BadRequest("a field was refused by the register's own checks", code=ErrorCode.INVALID_FIELD) from None


def audit_refusals(action: str) -> Callable[[Handler], Handler]:
    """Audit the request refusals a handler raises before its transaction (bad body, parameter or header:
    400, 413, 415, 428; a reused idempotency key, 409) as ``outcome="invalid"`` with the error code and field,
    never the value. Refusals found inside the transaction (404, 409, 412) are audited there."""
    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except ApiError as err:
                if err.status not in (400, 413, 415, 428) and err.code != ErrorCode.IDEMPOTENCY_MISMATCH:
                    raise
                rid = params.record_id(request)
                await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
                    action, "invalid", [str(rid)] if rid is not None else [],
                    {"status": err.status, "code": err.code, "field": err.field}))
                raise
        return run
    return wrap


async def unknown_id(request: web.Request, action: str) -> web.Response:
    """Audit and refuse a path id that is not a UUID (404 like an unknown one; the raw value is not logged)."""
    await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
        action, "not_found", detail={"reason": "id is not a UUID"}))
    raise unknown()
