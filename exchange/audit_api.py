"""``GET /api/v1/audit``: the auditor's read of the audit log (filters, cursor paging), itself audited.

``order=oldest`` (the default) pages forward from the first row (answer: ``next_after``, the ``after`` of the
next page); ``order=newest`` pages back from the latest row (answer: ``next_before``, the ``before`` of the next
page), which is how an auditor looks at what just happened. ``after`` and ``before`` are row ids that bound the
rows in either order, so both together read a stretch of the log.
"""

from __future__ import annotations

from aiohttp import web

from . import audit, params
from .appkeys import POOL
from .middleware import actor
from .policy import policy

MAX_LIMIT = 500
ORDERS = ("oldest", "newest")
CURSORS = ("after", "before")

# The two orders differ only in these fixed words (never in anything the request sent).
_QUERY = """SELECT a.id, at, request_id, user_id, username, role, border_point, purpose, case_ref, action,
                   outcome, record_ids, detail, encode(c.hash, 'hex') AS hash, c.seq AS chain_seq
            FROM audit_log a LEFT JOIN audit_chain c ON c.audit_id = a.id
            WHERE ($1::bigint IS NULL OR a.id > $1) AND ($8::bigint IS NULL OR a.id < $8)
              AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
              AND ($4::text IS NULL OR username = $4) AND ($5::text IS NULL OR action = $5)
              AND ($7::text IS NULL OR outcome = $7)
            ORDER BY a.id {direction} LIMIT $6"""
_QUERIES = {"oldest": _QUERY.format(direction="ASC"), "newest": _QUERY.format(direction="DESC")}


@policy("auditor", purpose=True)
async def list_audit(request: web.Request) -> web.Response:
    params.only_params(request, ("since", "until", "username", "action", "outcome", "order", *CURSORS, "limit"))
    order = params.choice_param(request, "order", ORDERS) or "oldest"
    since, until = params.time_param(request, "since"), params.time_param(request, "until")
    after = params.int_param(request, "after", None, 0, 2**62)
    before = params.int_param(request, "before", None, 1, 2**62)
    limit = params.int_param(request, "limit", 100, 1, MAX_LIMIT)
    username = request.query.get("username")
    action = request.query.get("action")
    outcome = request.query.get("outcome")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(_QUERIES[order], after, since, until, username, action, limit, outcome, before)
        await audit.write(conn, actor(request), audit.Entry(
            "audit.read", detail={"filters": {k: v for k, v in request.query.items() if k not in CURSORS},
                                  "rows": len(rows)}))
    items = [{**dict(r), "at": r["at"].isoformat()} for r in rows]
    cursor = items[-1]["id"] if len(items) == limit else None
    return web.json_response({"items": items, "order": order,
                              "next_after": cursor if order == "oldest" else None,
                              "next_before": cursor if order == "newest" else None})
