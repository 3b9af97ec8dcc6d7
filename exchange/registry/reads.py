"""Reading the register: one record (or an older version), its history, and the filtered, paged list.
Each needs a purpose (``X-Purpose``) and writes its audit row, with the record ids touched or returned, in
the transaction of the read."""

from __future__ import annotations

from aiohttp import web

from protocols.record import OFFENCE_CATEGORIES

from .. import audit, params
from ..appkeys import POOL
from ..middleware import actor
from ..policy import policy
from . import shape, store
from .common import answer, audit_refusals, unknown, unknown_id

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


@policy("registrar", "liaison", purpose=True)
@audit_refusals("record.read")
async def read_record(request: web.Request) -> web.Response:
    params.only_params(request, ("version",))
    version = params.int_param(request, "version", None, 1, params.MAX_VERSION)
    rid = params.record_id(request)
    if rid is None:
        return await unknown_id(request, "record.read")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await store.fetch(conn, rid, version)
        await audit.write(conn, actor(request), audit.Entry(
            "record.read", "ok" if row is not None else "not_found", record_ids=[str(rid)],
            detail={"version": row["version"] if row is not None else version}))
    if row is None:
        raise unknown()
    return answer(shape.record_from(row))


@policy("registrar", "liaison", "auditor", purpose=True)  # auditors: who changed a record when
@audit_refusals("record.history")
async def record_history(request: web.Request) -> web.Response:
    params.only_params(request)
    rid = params.record_id(request)
    if rid is None:
        return await unknown_id(request, "record.history")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await store.history(conn, rid)
        await audit.write(conn, actor(request), audit.Entry(
            "record.history", "ok" if rows else "not_found", record_ids=[str(rid)],
            detail={"versions": len(rows)}))
    if not rows:
        raise unknown()
    return web.json_response({"id": str(rid), "versions": [shape.history_entry(r) for r in rows]})


@policy("registrar", "liaison", purpose=True)
@audit_refusals("record.list")
async def list_records(request: web.Request) -> web.Response:
    """Current versions, filtered, in (updated_at, id) order; ``next_cursor`` is null on the last page."""
    params.only_params(request, ("status", "offence_category", "nationality", "updated_since", "cursor", "limit"))
    filters = store.Filters(
        status=params.choice_param(request, "status", ("active", "withdrawn")),
        offence_category=params.choice_param(request, "offence_category", OFFENCE_CATEGORIES),
        nationality=params.country_param(request, "nationality"),
        updated_since=params.time_param(request, "updated_since"),
        after=params.decode_cursor(request))
    limit = params.int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await store.page(conn, filters, limit + 1)
        items = [shape.record_from(r) for r in rows[:limit]]
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        await audit.write(conn, actor(request), audit.Entry(
            "record.list", record_ids=[i["id"] for i in items],
            detail={"filters": query, "paged": filters.after is not None, "count": len(items)}))
    cursor = params.encode_cursor(rows[limit - 1]["updated_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return web.json_response({"items": items, "next_cursor": cursor})
