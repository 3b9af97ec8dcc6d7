"""``GET /api/v1/records/{id}/deliveries``: which partner was sent which version of one of our records, and
when it acknowledged it (LED Art. 7(3): a correction or withdrawal must reach every past recipient).

One line per outbox message of the record (record_upsert or record_withdrawal), newest first, joined with the
partner's signed acknowledgement of that version (the ``deliveries`` table, written on a signed receipt or a
signed feed ack)::

    {"id": "<record id>", "deliveries": [{"partner": "TH", "version": 2, "type": "record_upsert",
      "status": "pending|delivered|rejected", "queued_at", "delivered_at", "via": "push|pull|null",
      "acknowledged_at", "attempts", "last_error"}]}

The answer holds no personal data (opaque record ids, partner codes, times), but it tells who received a
person's record, so it needs a purpose and writes an audit row like the other reads of the register. Registrars
and liaison officers read it; auditors too (checking that corrections reached every recipient is their job).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from .. import audit, params
from .. import openapi_types as T
from ..appkeys import POOL
from ..middleware import actor
from ..policy import policy
from .common import audit_refusals, unknown, unknown_id

ROLES = ("registrar", "liaison", "auditor")
MAX_LINES = 500  # a record is sent to a handful of partners per version; this bounds a pathological history


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()


def _line(row: Any) -> dict[str, Any]:
    return {"partner": row["partner"], "version": row["version"], "type": row["type"], "status": row["status"],
            "queued_at": _iso(row["created_at"]), "delivered_at": _iso(row["delivered_at"]),
            "via": row["delivered_via"], "acknowledged_at": _iso(row["acked_at"]), "attempts": row["attempts"],
            "last_error": row["last_error"]}


@policy(*ROLES, purpose=True)
@audit_refusals("record.deliveries")
async def record_deliveries(request: web.Request) -> web.Response:
    params.only_params(request)
    rid = params.record_id(request)
    if rid is None:
        return await unknown_id(request, "record.deliveries")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        exists = await conn.fetchval("SELECT 1 FROM persons WHERE id = $1", rid)
        rows = await conn.fetch(
            """SELECT o.partner, o.version, o.type, o.status, o.created_at, o.delivered_at, o.delivered_via,
                      o.attempts, o.last_error, d.acked_at
               FROM outbox o
               LEFT JOIN deliveries d ON d.partner = o.partner AND d.person_id = o.person_id
                                     AND d.version = o.version
               WHERE o.person_id = $1 AND o.type IN ('record_upsert', 'record_withdrawal')
               ORDER BY o.id DESC LIMIT $2""", rid, MAX_LINES) if exists else []
        await audit.write(conn, actor(request), audit.Entry(
            "record.deliveries", "ok" if exists else "not_found", [str(rid)], {"lines": len(rows)}))
    if not exists:
        raise unknown()
    return web.json_response({"id": str(rid), "deliveries": [_line(r) for r in rows]})


_TIME = {"type": ["string", "null"], "format": "date-time"}
LINE = {"type": "object", "required": ["partner", "version", "type", "status", "queued_at", "delivered_at", "via",
                                       "acknowledged_at", "attempts", "last_error"],
        "properties": {"partner": {"type": "string", "pattern": "^[A-Z]{2}$"}, "version": {"type": "integer"},
                       "type": {"type": "string", "enum": ["record_upsert", "record_withdrawal"]},
                       "status": {"type": "string", "enum": ["pending", "delivered", "rejected"]},
                       "queued_at": {"type": "string", "format": "date-time"}, "delivered_at": _TIME,
                       "via": {"type": ["string", "null"], "enum": ["push", "pull", None]},
                       "acknowledged_at": _TIME, "attempts": {"type": "integer"},
                       "last_error": {"type": ["string", "null"]}}}
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/records/{id}/deliveries"): {
        "summary": "Which partner was sent which version of a record, and when it acknowledged it "
                   "(registrar, liaison, auditor); audited",
        "parameters": [
            *T.PURPOSE_PARAMS,
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}],
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "required": ["id", "deliveries"],
                "properties": {"id": {"type": "string", "format": "uuid"},
                               "deliveries": {"type": "array", "items": LINE}}}}}},
            **T.errors(400, 401, 403, 404)}},
}
