"""``GET /api/v1/audit``: the auditor's read of the audit log (filters, cursor paging), itself audited."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from . import audit
from .appkeys import POOL
from .errors import BadRequest, ErrorCode
from .middleware import actor
from .policy import policy

MAX_LIMIT = 500


def _param_time(request: web.Request, name: str) -> dt.datetime | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 time", code=ErrorCode.INVALID_PARAMETER, field=name) from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _param_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not lo <= int(raw) <= hi:
        raise BadRequest(f"{name} must be an integer from {lo} to {hi}", code=ErrorCode.INVALID_PARAMETER,
                         field=name)
    return int(raw)


@policy("auditor", purpose=True)
async def list_audit(request: web.Request) -> web.Response:
    unknown = set(request.query) - {"since", "until", "username", "action", "after", "limit"}
    if unknown:
        raise BadRequest("unknown query parameter", code=ErrorCode.INVALID_PARAMETER, field=sorted(unknown)[0][:40])
    since, until = _param_time(request, "since"), _param_time(request, "until")
    after = _param_int(request, "after", 0, 0, 2**62)
    limit = _param_int(request, "limit", 100, 1, MAX_LIMIT)
    username = request.query.get("username")
    action = request.query.get("action")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT id, at, request_id, user_id, username, role, border_point, purpose, case_ref, action,
                      outcome, record_ids, detail, encode(hash, 'hex') AS hash
               FROM audit_log
               WHERE id > $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
                 AND ($4::text IS NULL OR username = $4) AND ($5::text IS NULL OR action = $5)
               ORDER BY id LIMIT $6""", after, since, until, username, action, limit)
        await audit.write(conn, actor(request), audit.Entry(
            "audit.read", detail={"filters": {k: v for k, v in request.query.items() if k != "after"},
                                  "rows": len(rows)}))
    items = [{**dict(r), "at": r["at"].isoformat()} for r in rows]
    cursor = items[-1]["id"] if len(items) == limit else None
    return web.json_response({"items": items, "next_after": cursor})
