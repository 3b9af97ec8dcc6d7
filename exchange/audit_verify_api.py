"""``GET /api/v1/audit/verify``: the auditor checks the audit log's hash chain, one bounded stretch at a time.

``audit.verify`` (the ``exchange audit verify`` command) recomputes the whole chain in one go; on a log of
millions of rows that is minutes of work (the RFC 8785 canonical JSON of each row, in pure Python, bounds it:
about 4,000 links/s measured on 2 shared cores), too long for a request. This endpoint verifies at most
``limit`` links (default 50,000, about 12 s; at most 200,000) after link ``after_seq`` (default 0, the
chain's start) and says where to continue: a stretch starts from the stored hash of link ``after_seq``,
which the previous stretch has verified, so walking the stretches in order checks the same as
``audit.verify``. The last stretch also looks for rows that are neither chained nor waiting to be (a removed
marker). Pending rows are sealed first.

It reads hashes and recomputes them; it answers no personal data (ids and counts only), so it needs no purpose.
Each run writes one ``audit.verify`` row with its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from . import audit, params
from . import openapi_types as T
from .appkeys import POOL
from .errors import NotFound
from .middleware import actor
from .policy import policy

DEFAULT_LIMIT = 50_000
MAX_LIMIT = 200_000
BATCH = 5000


@dataclass
class Stretch:
    ok: bool
    after_seq: int
    last_seq: int  # the last link verified (after_seq when none was)
    chain_length: int
    first_bad_id: int | None = None
    reason: str | None = None
    pending: int = 0

    @property
    def complete(self) -> bool:
        return not self.ok or self.last_seq >= self.chain_length


async def verify_stretch(conn: asyncpg.Connection, after_seq: int, limit: int) -> Stretch | None:
    """Verify links ``after_seq + 1 .. after_seq + limit``; None when link ``after_seq`` does not exist."""
    chain_length = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM audit_chain")
    if after_seq == 0:
        prev = audit.GENESIS
    else:
        stored = await conn.fetchval("SELECT hash FROM audit_chain WHERE seq = $1", after_seq)
        if stored is None:
            return None
        prev = bytes(stored)
    last_seq, bad_id, reason = await audit.walk(conn, after_seq, prev, after_seq + limit, BATCH)
    if reason:
        return Stretch(False, after_seq, last_seq, chain_length, bad_id, reason)
    stretch = Stretch(True, after_seq, last_seq, max(chain_length, last_seq))
    if stretch.complete:
        orphan = await audit.unchained(conn)
        if orphan is not None:
            stretch.ok, stretch.first_bad_id, stretch.reason = False, orphan, audit.UNCHAINED
        stretch.pending = await conn.fetchval("SELECT count(*) FROM audit_pending")
    return stretch


def as_json(stretch: Stretch) -> dict[str, Any]:
    return {"ok": stretch.ok, "complete": stretch.complete, "after_seq": stretch.after_seq,
            "last_seq": stretch.last_seq, "rows": stretch.last_seq - stretch.after_seq,
            "chain_length": stretch.chain_length, "first_bad_id": stretch.first_bad_id, "reason": stretch.reason,
            "pending": stretch.pending, "next_after_seq": None if stretch.complete else stretch.last_seq}


@policy("auditor")
async def verify_chain(request: web.Request) -> web.Response:
    params.only_params(request, ("after_seq", "limit"))
    after_seq = params.int_param(request, "after_seq", 0, 0, 2**62) or 0
    limit = params.int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    async with request.app[POOL].acquire() as conn:
        await audit.seal(conn)
        stretch = await verify_stretch(conn, after_seq, limit)
        if stretch is None:
            raise NotFound("after_seq names no link of the chain", field="after_seq")
        body = as_json(stretch)
        async with conn.transaction():
            await audit.write(conn, actor(request), audit.Entry(
                "audit.verify", "ok" if stretch.ok else "failed",
                detail={k: body[k] for k in ("ok", "after_seq", "last_seq", "first_bad_id", "reason")}))
    return web.json_response(body)


_INT = {"type": "integer", "minimum": 0}
OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/audit/verify"): {
        "summary": "Verify the audit log's hash chain (auditor), at most `limit` links after `after_seq`; audited",
        "description": "Answers ids and counts only. Continue with after_seq=next_after_seq until complete.",
        "parameters": [{"name": "after_seq", "in": "query", "schema": {**_INT, "maximum": 2**62}},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                  "maximum": MAX_LIMIT}}],
        "responses": {"200": {"description": "the result", "content": {"application/json": {"schema": {
            "type": "object", "required": ["ok", "complete", "after_seq", "last_seq", "rows", "chain_length"],
            "properties": {"ok": {"type": "boolean"}, "complete": {"type": "boolean"}, "after_seq": _INT,
                           "last_seq": _INT, "rows": _INT, "chain_length": _INT, "pending": _INT,
                           "first_bad_id": {"type": ["integer", "null"]}, "reason": {"type": ["string", "null"]},
                           "next_after_seq": {"type": ["integer", "null"]}}}}}},
            **T.errors(400, 401, 403, 404)}},
}
