"""Changing the register (registrar only): create, replace as a new version, withdraw. Each change is one
transaction: the version rows, the partner outbox rows, and the audit row last. Concurrent changes of one
record serialise on its ``persons`` row (``SELECT ... FOR UPDATE``): one wins, the other gets 412."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from protocols.validation import ValidationError, clean_enum, clean_text, expect_mapping

from .. import audit, params
from ..appkeys import POOL, SETTINGS
from ..body import invalid, read_json
from ..errors import ApiError, Conflict, ErrorCode, PreconditionFailed
from ..federation import enqueue_record_change
from ..middleware import actor, principal
from ..policy import policy
from . import idempotency, store
from .common import BASE, answer, audit_refusals, cleaned_record, db_checks, unknown, unknown_id
from .storable import check_storable

WITHDRAWAL_REASONS = ("expungement", "acquittal_on_appeal", "death", "error")
MAX_NOTE = 500


@policy("registrar")
@audit_refusals("record.create")
async def create_record(request: web.Request) -> web.Response:
    params.only_params(request)
    key = idempotency.key_of(request)
    body = await read_json(request)
    record = cleaned_record(body)
    who = principal(request)
    rid = uuid.uuid4()
    created = {"id": str(rid), "version": 1}
    async with request.app[POOL].acquire() as conn, conn.transaction():
        if key is not None:
            digest = idempotency.request_hash("POST", BASE, body)
            stored = await idempotency.claim(conn, who.user_id, key, digest, 201, created,
                                            request.app[SETTINGS].idempotency_ttl)
            if stored is not None:  # a retry: the first answer, nothing written
                response = answer(stored.response, stored.status)
                response.headers["Idempotent-Replayed"] = "true"
                return response

        async def write() -> None:
            await store.create_person(conn, rid)
            await store.insert_version(conn, rid, 1, record, who.user_id)

        await db_checks(write())
        await enqueue_record_change(conn, rid, 1)  # partner outbox rows, in this transaction
        await audit.write(conn, actor(request), audit.Entry("record.create", record_ids=[str(rid)],
                                                            detail={"version": 1}))
    return answer(created, 201)


async def _change(request: web.Request, action: str, expected: int | None, make: Any) -> web.Response:
    """Lock the record, check it may change (exists, active, version as expected), add a version, audit.

    A refusal is audited in the same transaction, which then commits (it wrote nothing else); the error is
    raised after the commit.
    """
    rid = params.record_id(request)
    if rid is None:
        return await unknown_id(request, action)
    who = principal(request)
    refusal: ApiError | None = None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        current = await store.lock(conn, rid)
        outcome, detail = "ok", {"expected": expected, "current": current.version if current else None}
        if current is None:
            refusal, outcome = unknown(), "not_found"
        elif current.status == "withdrawn":
            refusal, outcome = Conflict("a withdrawn record cannot change", code=ErrorCode.CONFLICT), "withdrawn"
        elif expected is not None and expected != current.version:
            refusal, outcome = PreconditionFailed(
                "the record has changed since that version; read it again", field="If-Match",
                headers={"ETag": f'"{current.version}"'}), "stale_version"
        else:
            version, status = await db_checks(make(conn, rid, current.version, who.user_id))
            await store.set_current(conn, rid, version, status)
            await enqueue_record_change(conn, rid, version)  # to partners and every past recipient
            detail["version"] = version
        await audit.write(conn, actor(request), audit.Entry(action, outcome, [str(rid)], detail))
    if refusal is not None:
        raise refusal
    return answer({"id": str(rid), "version": version, "status": status})


@policy("registrar")
@audit_refusals("record.update")
async def replace_record(request: web.Request) -> web.Response:
    params.only_params(request)
    expected = params.if_match(request, required=True)
    record = cleaned_record(await read_json(request))

    async def make(conn: asyncpg.Connection, rid: uuid.UUID, current: int, user_id: int) -> tuple[int, str]:
        await store.insert_version(conn, rid, current + 1, record, user_id)
        return current + 1, "active"

    return await _change(request, "record.update", expected, make)


@policy("registrar")
@audit_refusals("record.withdraw")
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


