"""The border module's background work, as one ``cleanup_ctx``: it creates the process's screening index,
loads it from the register, reconciles it every ``reconcile_interval`` seconds, and runs the retention purge
every ``purge_interval`` seconds. All of it stops with the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from aiohttp import web

from .. import audit
from ..appkeys import POOL
from ..screening_index import SCREENING, ScreeningIndex
from .config import BORDER_SETTINGS, BorderSettings
from .purge import purge

log = logging.getLogger(__name__)
JOB_ACTOR = audit.Actor(username="border-retention-job", role="system", request_id="job")
_RETRY = 30.0


async def _index_loop(app: web.Application, holder: ScreeningIndex, every: int) -> None:
    while not holder.ready.is_set():
        try:
            await holder.load(app[POOL])
        except Exception:  # the database may be briefly unavailable at startup: retry, never give up
            log.exception("screening index load failed; retrying")
            await asyncio.sleep(_RETRY)
    while every:
        await asyncio.sleep(every)
        try:
            changed = await holder.reconcile(app[POOL])
            if changed:
                log.info("screening index reconciled", extra={"fields": {"changed": changed}})
        except Exception:
            log.exception("screening index reconcile failed")


async def _purge_loop(app: web.Application, settings: BorderSettings) -> None:
    await asyncio.sleep(min(60, settings.purge_interval))
    while True:
        try:
            async with app[POOL].acquire() as conn:
                result = await purge(conn, JOB_ACTOR, settings.retention_days, dt.datetime.now(dt.UTC))
            log.info("border purge", extra={"fields": {"checks": result.checks, "alerts": result.alerts}})
        except Exception:
            log.exception("border purge failed")
        await asyncio.sleep(settings.purge_interval)


async def border_jobs(app: web.Application):
    settings = app.get(BORDER_SETTINGS)
    if settings is None:
        settings = BorderSettings.from_env()
        app[BORDER_SETTINGS] = settings
    holder = ScreeningIndex(overlap=dt.timedelta(seconds=settings.index_overlap))
    app[SCREENING] = holder
    tasks = []
    if settings.screening:
        tasks.append(asyncio.create_task(_index_loop(app, holder, settings.reconcile_interval)))
    else:
        holder.ready.set()
    if settings.purge_interval:
        tasks.append(asyncio.create_task(_purge_loop(app, settings)))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
