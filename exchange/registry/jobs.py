"""The register's background work, as one ``cleanup_ctx``: every ``idempotency_purge_interval`` seconds it deletes
the Idempotency-Keys that expired (``idempotency.purge_expired``). It stops with the application."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from ..appkeys import POOL, SETTINGS
from ..config import Settings
from .idempotency import purge_expired

log = logging.getLogger(__name__)


async def _purge_loop(app: web.Application, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.idempotency_purge_interval)
        try:
            async with app[POOL].acquire() as conn:
                gone = await purge_expired(conn, settings.idempotency_ttl)
            if gone:
                log.info("expired idempotency keys deleted", extra={"fields": {"keys": gone}})
        except Exception:  # the database may be briefly away: try again at the next turn
            log.exception("idempotency key purge failed")


async def registry_jobs(app: web.Application):
    settings = app[SETTINGS]
    task = asyncio.create_task(_purge_loop(app, settings)) if settings.idempotency_purge_interval else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
