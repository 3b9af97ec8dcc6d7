"""Liveness (the process answers) and readiness (the database answers)."""

from __future__ import annotations

from aiohttp import web

from .appkeys import POOL
from .errors import Unavailable
from .policy import policy


@policy(public=True)
async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@policy(public=True)
async def readyz(request: web.Request) -> web.Response:
    try:
        async with request.app[POOL].acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
    except Exception:
        raise Unavailable("the database is not answering") from None
    return web.json_response({"status": "ready"})
