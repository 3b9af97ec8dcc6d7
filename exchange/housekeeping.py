"""The service's housekeeping, as one ``cleanup_ctx``: every ``housekeeping_interval`` seconds it deletes the
register's expired Idempotency-Keys (``registry.idempotency.purge_expired``) and the rate-limit rows whose
bucket is full again and whose usual volume has decayed (``ratelimit.purge_idle_buckets``). Neither changes an
answer: an expired key is claimed again as new, and a missing row starts as such a row is. It stops with the
application."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from .appkeys import POOL, SETTINGS
from .config import Settings
from .ratelimit import purge_idle_buckets
from .registry.idempotency import purge_expired

log = logging.getLogger(__name__)


async def housekeep(pool, settings: Settings) -> dict[str, int]:
    """One round; returns how many rows of each kind went."""
    async with pool.acquire() as conn:
        keys = await purge_expired(conn, settings.idempotency_ttl)
        buckets = await purge_idle_buckets(conn)
    return {"idempotency_keys": keys, "rate_buckets": buckets}


async def _loop(app: web.Application, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.housekeeping_interval)
        try:
            gone = await housekeep(app[POOL], settings)
            if any(gone.values()):
                log.info("housekeeping", extra={"fields": gone})
        except Exception:  # the database may be briefly away: try again at the next turn
            log.exception("housekeeping failed")


async def housekeeping(app: web.Application):
    settings = app[SETTINGS]
    task = asyncio.create_task(_loop(app, settings)) if settings.housekeeping_interval else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
