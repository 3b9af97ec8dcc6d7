"""The liaison officers' review queue: partner records that arrived matching our register.

``receive.on_new_version`` matches every new partner record version against the register and keeps the
candidates (probability and the matching explanation) in ``partner_match_candidates``. Here they are read and
decided:

- ``GET  /api/v1/review-queue``                  candidates, oldest first (``status`` open by default, ``limit``);
- ``GET  /api/v1/review-queue/{id}``             one candidate;
- ``POST /api/v1/review-queue/{id}/decision``    ``{decision: confirm|reject, reason_code}``, the reason codes of
                                                 the border alerts; of two decisions one gets 200, the other 409.

Each item holds the partner's person (the version that matched, with the signed message it came in), our
record (its current version) and the explanation. Liaison officers only, with a purpose; every read and
decision writes an audit row in the same transaction (ids only, never names).
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from protocols.validation import ValidationError, clean_enum, expect_mapping

from .. import audit, params
from .. import openapi_types as T
from ..appkeys import POOL
from ..body import invalid, read_json
from ..border.alerts import CONFIRM_REASONS, REJECT_REASONS
from ..errors import Conflict, NotFound
from ..middleware import actor, principal
from ..policy import policy
from ..registry import shape
from ..registry import store as registry_store

STATUSES = ("open", "confirmed", "rejected", "all")

_ITEMS = """
SELECT c.id, c.country::text AS country, c.record_id, c.version, c.person_id, c.probability, c.explanation,
       c.status, c.created_at, c.reason_code, c.decided_at, u.username AS decided_by,
       v.body -> 'person' AS partner_person, v.message_id, v.kid, v.via, v.received_at
FROM partner_match_candidates c
JOIN partner_record_versions v ON v.country = c.country AND v.record_id = c.record_id AND v.version = c.version
LEFT JOIN users u ON u.id = c.decided_by
WHERE ($1::text = 'all' OR c.status = $1) AND ($2::bigint IS NULL OR c.id = $2)
ORDER BY c.created_at, c.id LIMIT $3
"""


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


async def _items(conn: asyncpg.Connection, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The items of ``rows``, with our records' current versions read in one query."""
    ours = await registry_store.fetch_current(conn, (r["person_id"] for r in rows))
    return [_item(r, ours.get(r["person_id"])) for r in rows]


def _item(row: asyncpg.Record, ours: asyncpg.Record | None) -> dict[str, Any]:
    return {
        "id": row["id"], "status": row["status"], "created_at": _iso(row["created_at"]),
        "probability": row["probability"], "explanation": row["explanation"],
        "partner_record": {"country": row["country"], "record_id": row["record_id"], "version": row["version"],
                           "person": row["partner_person"],
                           "provenance": {"message_id": str(row["message_id"]), "kid": row["kid"],
                                          "via": row["via"], "received_at": _iso(row["received_at"])}},
        "register_record": None if ours is None else shape.record_from(ours),
        "decision": None if row["reason_code"] is None else {
            "reason_code": row["reason_code"], "by": row["decided_by"], "at": _iso(row["decided_at"])},
    }


def _refs(rows: list[asyncpg.Record]) -> list[str]:
    """The audit row's ids: each candidate, and the records on both sides."""
    out = [f"review:{r['id']}" for r in rows]
    return out + sorted({f"{r['country']}:{r['record_id']}" for r in rows} | {str(r["person_id"]) for r in rows})


def _candidate_id(request: web.Request) -> int:
    raw = request.match_info.get("id", "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound("no such review item")
    return int(raw)


@policy("liaison", purpose=True)
async def list_review(request: web.Request) -> web.Response:
    params.only_params(request, ("status", "limit"))
    status = params.choice_param(request, "status", STATUSES) or "open"
    limit = params.int_param(request, "limit", 50, 1, 200)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(_ITEMS, status, None, limit)
        items = await _items(conn, rows)
        await audit.write(conn, actor(request), audit.Entry(
            "partner_match.review.view", record_ids=_refs(rows), detail={"status": status, "count": len(rows)}))
    return web.json_response({"items": items})


@policy("liaison", purpose=True)
async def read_review(request: web.Request) -> web.Response:
    params.only_params(request)
    candidate = _candidate_id(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(_ITEMS, "all", candidate, 1)
        item = (await _items(conn, rows))[0] if rows else None
        await audit.write(conn, actor(request), audit.Entry(
            "partner_match.review.view", "ok" if rows else "not_found", _refs(rows), {"count": len(rows)}))
    if item is None:
        raise NotFound("no such review item")
    return web.json_response(item)


def _decision(body: Any) -> tuple[str, str]:
    obj = expect_mapping(body, "", ("decision", "reason_code"), required=("decision", "reason_code"))
    decision = clean_enum(obj["decision"], "decision", ("confirm", "reject"))
    reason = clean_enum(obj["reason_code"], "reason_code",
                        CONFIRM_REASONS if decision == "confirm" else REJECT_REASONS)
    return decision, reason


@policy("liaison", purpose=True)
async def decide_review(request: web.Request) -> web.Response:
    params.only_params(request)
    candidate = _candidate_id(request)
    try:
        decision, reason = _decision(await read_json(request))
    except ValidationError as err:
        raise invalid(err) from None
    status = "confirmed" if decision == "confirm" else "rejected"
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """UPDATE partner_match_candidates SET status = $2, reason_code = $3, decided_by = $4, decided_at = now()
               WHERE id = $1 AND status = 'open' RETURNING id, country::text AS country, record_id, person_id""",
            candidate, status, reason, principal(request).user_id)
        if row is None:
            held = await conn.fetchval("SELECT status FROM partner_match_candidates WHERE id = $1", candidate)
            if held is None:
                raise NotFound("no such review item")
            raise Conflict(f"this review item is {held} already")
        await audit.write(conn, actor(request), audit.Entry(
            "partner_match.decision", decision, _refs([row]), {"decision": decision, "reason_code": reason}))
    return web.json_response({"id": candidate, "status": status, "reason_code": reason})


_PURPOSE = T.PURPOSE_PARAMS
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}
_TIME = {"type": ["string", "null"], "format": "date-time"}
ITEM = {"type": "object", "required": ["id", "status", "created_at", "probability", "explanation", "partner_record",
                                       "register_record", "decision"],
        "properties": {"id": {"type": "integer"}, "status": {"type": "string"},
                       "created_at": {"type": "string", "format": "date-time"},
                       "probability": {"type": "number", "minimum": 0, "maximum": 1},
                       "explanation": {"type": "object", "description": "features (name, level, weight, detail), "
                                                                        "probability, model_version"},
                       "partner_record": {"type": "object", "description": "country, record_id, version, person, "
                                                                           "provenance (message_id, kid, via, "
                                                                           "received_at)"},
                       "register_record": {"type": ["object", "null"], "description": "our record, current "
                                                                                      "version"},
                       "decision": {"type": ["object", "null"], "properties": {
                           "reason_code": {"type": "string"}, "by": {"type": ["string", "null"]}, "at": _TIME}}}}


def _decision_body(decision: str, reasons: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["decision", "reason_code"],
            "properties": {"decision": {"type": "string", "enum": [decision]},
                           "reason_code": {"type": "string", "enum": list(reasons)}}}


def _ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}}


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/review-queue"): {
        "summary": "Partner records matching our register, for review (liaison); audited",
        "parameters": [*_PURPOSE,
                       {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(STATUSES)}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                   "maximum": 200}}],
        "responses": {**_ok({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": ITEM}}}), **T.errors(400, 401, 403, 429)}},
    ("GET", "/api/v1/review-queue/{id}"): {
        "summary": "One review item (liaison); audited", "parameters": [*_PURPOSE, _ID],
        "responses": {**_ok(ITEM), **T.errors(400, 401, 403, 404, 429)}},
    ("POST", "/api/v1/review-queue/{id}/decision"): {
        "summary": "Confirm or reject a review item with a reason code (liaison); one of two concurrent "
                   "decisions gets 409; audited",
        "parameters": [*_PURPOSE, _ID],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": [
            _decision_body("confirm", CONFIRM_REASONS), _decision_body("reject", REJECT_REASONS)]}}}},
        "responses": {**_ok({"type": "object", "required": ["id", "status", "reason_code"], "properties": {
            "id": {"type": "integer"}, "status": {"type": "string", "enum": ["confirmed", "rejected"]},
            "reason_code": {"type": "string"}}}), **T.errors(400, 401, 403, 404, 409, 413, 415, 429)}},
}
