"""The handlers of ``/api/v1/records``: create, read (a version), replace, withdraw, history, list.

Every handler reads or writes personal data and the audit row that records it in one transaction, the audit
row last (it takes the chain lock). Refusals found inside the transaction (unknown id, stale version, a
withdrawn record) are audited in that transaction too, then answered after it commits. Reads need a purpose
(``X-Purpose``, enforced by the access middleware); writes are the registrar's alone.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
from aiohttp import web

from protocols.record import OFFENCE_CATEGORIES, validate_record_body
from protocols.validation import ValidationError, clean_country, clean_enum, clean_text, expect_mapping

from .. import audit
from ..appkeys import POOL
from ..body import invalid, read_json
from ..errors import ApiError, BadRequest, Conflict, ErrorCode, NotFound, PreconditionFailed
from ..federation import enqueue_record_change
from ..middleware import actor, principal
from ..policy import Handler, policy
from . import idempotency, params, shape, store
from .storable import check_storable

T = TypeVar("T")
BASE = "/api/v1/records"
WITHDRAWAL_REASONS = ("expungement", "acquittal_on_appeal", "death", "error")
MAX_NOTE = 500
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def _unknown() -> NotFound:
    return NotFound("no record with this id")


def _cleaned_record(body: Any) -> dict[str, Any]:
    try:
        record = validate_record_body(body)
        check_storable(record)
    except ValidationError as err:
        raise invalid(err) from None
    return record


def _answer(body: dict[str, Any], status: int = 200) -> web.Response:
    headers = {"ETag": f'"{body["version"]}"'}
    if status == 201:
        headers["Location"] = f"{BASE}/{body['id']}"
    return web.json_response(body, status=status, headers=headers)


async def _db_checks(work: Awaitable[T]) -> T:
    """Await ``work``; a database CHECK the validators missed becomes a 400, never a 500. The caller's
    transaction then rolls back, so nothing is written (no savepoint needed: the whole request fails)."""
    try:
        return await work
    except (asyncpg.IntegrityConstraintViolationError, asyncpg.DataError):
        raise BadRequest("a field was refused by the register's own checks", code=ErrorCode.INVALID_FIELD) from None


def _audit_refusals(action: str) -> Callable[[Handler], Handler]:
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


async def _unknown_id(request: web.Request, action: str) -> web.Response:
    await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
        action, "not_found", detail={"reason": "id is not a UUID"}))
    raise _unknown()


@policy("registrar")
@_audit_refusals("record.create")
async def create_record(request: web.Request) -> web.Response:
    params.only_params(request)
    key = idempotency.key_of(request)
    body = await read_json(request)
    record = _cleaned_record(body)
    who = principal(request)
    rid = uuid.uuid4()
    answer = {"id": str(rid), "version": 1}
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if key is not None:
            digest = idempotency.request_hash("POST", BASE, body)
            stored = await idempotency.claim(conn, who.user_id, key, digest, 201, answer)
            if stored is not None:  # a retry: the first answer, nothing written
                response = _answer(stored.response, stored.status)
                response.headers["Idempotent-Replayed"] = "true"
                return response

        async def write() -> None:
            await store.create_person(conn, rid)
            await store.insert_version(conn, rid, 1, record, who.user_id)

        await _db_checks(write())
        await enqueue_record_change(conn, rid, 1)  # partner outbox rows, in this transaction
        await audit.write(conn, actor(request), audit.Entry("record.create", record_ids=[str(rid)],
                                                            detail={"version": 1}))
    return _answer(answer, 201)


@policy("registrar", "liaison", purpose=True)
@_audit_refusals("record.read")
async def read_record(request: web.Request) -> web.Response:
    params.only_params(request, ("version",))
    version = params.int_param(request, "version", None, 1, params.MAX_VERSION)
    rid = params.record_id(request)
    if rid is None:
        return await _unknown_id(request, "record.read")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await store.fetch(conn, rid, version)
        await audit.write(conn, actor(request), audit.Entry(
            "record.read", "ok" if row is not None else "not_found", record_ids=[str(rid)],
            detail={"version": row["version"] if row is not None else version}))
    if row is None:
        raise _unknown()
    return _answer(shape.record_from(row))


@policy("registrar", "liaison", purpose=True)
@_audit_refusals("record.history")
async def record_history(request: web.Request) -> web.Response:
    params.only_params(request)
    rid = params.record_id(request)
    if rid is None:
        return await _unknown_id(request, "record.history")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await store.history(conn, rid)
        await audit.write(conn, actor(request), audit.Entry(
            "record.history", "ok" if rows else "not_found", record_ids=[str(rid)],
            detail={"versions": len(rows)}))
    if not rows:
        raise _unknown()
    return web.json_response({"id": str(rid), "versions": [shape.history_entry(r) for r in rows]})


async def _change(request: web.Request, action: str, expected: int | None, make: Any) -> web.Response:
    """Lock the record, check it may change (exists, active, version as expected), add a version, audit.

    A refusal is audited in the same transaction, which then commits (it wrote nothing else); the error is
    raised after the commit.
    """
    rid = params.record_id(request)
    if rid is None:
        return await _unknown_id(request, action)
    who = principal(request)
    refusal: ApiError | None = None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        current = await store.lock(conn, rid)
        outcome, detail = "ok", {"expected": expected, "current": current.version if current else None}
        if current is None:
            refusal, outcome = _unknown(), "not_found"
        elif current.status == "withdrawn":
            refusal, outcome = Conflict("a withdrawn record cannot change", code=ErrorCode.CONFLICT), "withdrawn"
        elif expected is not None and expected != current.version:
            refusal, outcome = PreconditionFailed(
                "the record has changed since that version; read it again", field="If-Match",
                headers={"ETag": f'"{current.version}"'}), "stale_version"
        else:
            version, status = await _db_checks(make(conn, rid, current.version, who.user_id))
            await store.set_current(conn, rid, version, status)
            await enqueue_record_change(conn, rid, version)  # to partners and every past recipient
            detail["version"] = version
        await audit.write(conn, actor(request), audit.Entry(action, outcome, [str(rid)], detail))
    if refusal is not None:
        raise refusal
    return _answer({"id": str(rid), "version": version, "status": status})


@policy("registrar")
@_audit_refusals("record.update")
async def replace_record(request: web.Request) -> web.Response:
    params.only_params(request)
    expected = params.if_match(request, required=True)
    record = _cleaned_record(await read_json(request))

    async def make(conn: asyncpg.Connection, rid: uuid.UUID, current: int, user_id: int) -> tuple[int, str]:
        await store.insert_version(conn, rid, current + 1, record, user_id)
        return current + 1, "active"

    return await _change(request, "record.update", expected, make)


@policy("registrar")
@_audit_refusals("record.withdraw")
async def withdraw_record(request: web.Request) -> web.Response:
    params.only_params(request)
    expected = params.if_match(request, required=False)
    body = await read_json(request)
    try:
        obj = expect_mapping(body, "", ("reason", "note"), required=("reason",))
        reason = clean_enum(obj["reason"], "reason", WITHDRAWAL_REASONS)
        note = clean_text(obj["note"], "note", MAX_NOTE) if obj.get("note") is not None else None
        check_storable(note, "note")
    except ValidationError as err:
        raise invalid(err) from None

    async def make(conn: asyncpg.Connection, rid: uuid.UUID, current: int, user_id: int) -> tuple[int, str]:
        return await store.insert_withdrawal(conn, rid, current, reason, note, user_id), "withdrawn"

    return await _change(request, "record.withdraw", expected, make)


@policy("registrar", "liaison", purpose=True)
@_audit_refusals("record.list")
async def list_records(request: web.Request) -> web.Response:
    """Current versions, filtered, in (updated_at, id) order; ``next_cursor`` is null on the last page."""
    params.only_params(request, ("status", "offence_category", "nationality", "updated_since", "cursor", "limit"))
    nationality = request.query.get("nationality")
    try:
        nationality = clean_country(nationality, "nationality") if nationality is not None else None
    except ValidationError as err:
        raise params.bad_parameter("nationality", err.message) from None
    filters = store.Filters(
        status=params.choice_param(request, "status", ("active", "withdrawn")),
        offence_category=params.choice_param(request, "offence_category", OFFENCE_CATEGORIES),
        nationality=nationality,
        updated_since=params.time_param(request, "updated_since"),
        after=params.decode_cursor(request))
    limit = params.int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    assert limit is not None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await store.page(conn, filters, limit + 1)
        items = [shape.record_from(r) for r in rows[:limit]]
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        await audit.write(conn, actor(request), audit.Entry(
            "record.list", record_ids=[i["id"] for i in items],
            detail={"filters": query, "paged": filters.after is not None, "count": len(items)}))
    cursor = params.encode_cursor(rows[limit - 1]["updated_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return web.json_response({"items": items, "next_cursor": cursor})
