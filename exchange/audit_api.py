"""``GET /api/v1/audit``: the auditor's read of the audit log (filters, cursor paging), itself audited."""

from __future__ import annotations

from aiohttp import web

from . import audit, params
from .appkeys import POOL
from .middleware import actor
from .policy import policy

MAX_LIMIT = 500


@policy("auditor", purpose=True)
async def list_audit(request: web.Request) -> web.Response:
    params.only_params(request, ("since", "until", "username", "action", "outcome", "after", "limit"))
    since, until = params.time_param(request, "since"), params.time_param(request, "until")
    after = params.int_param(request, "after", 0, 0, 2**62)
    limit = params.int_param(request, "limit", 100, 1, MAX_LIMIT)
    username = request.query.get("username")
    action = request.query.get("action")
    outcome = request.query.get("outcome")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            """SELECT a.id, at, request_id, user_id, username, role, border_point, purpose, case_ref, action,
                      outcome, record_ids, detail, encode(c.hash, 'hex') AS hash, c.seq AS chain_seq
               FROM audit_log a LEFT JOIN audit_chain c ON c.audit_id = a.id
               WHERE a.id > $1 AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
                 AND ($4::text IS NULL OR username = $4) AND ($5::text IS NULL OR action = $5)
                 AND ($7::text IS NULL OR outcome = $7)
               ORDER BY a.id LIMIT $6""", after, since, until, username, action, limit, outcome)
        await audit.write(conn, actor(request), audit.Entry(
            "audit.read", detail={"filters": {k: v for k, v in request.query.items() if k != "after"},
                                  "rows": len(rows)}))
    items = [{**dict(r), "at": r["at"].isoformat()} for r in rows]
    cursor = items[-1]["id"] if len(items) == limit else None
    return web.json_response({"items": items, "next_after": cursor})
