"""The border module's background work, as one ``cleanup_ctx``: it creates the process's screening index,
restores it from its encrypted snapshot and reconciles it with the register (or, without a usable snapshot,
loads it from the register), reconciles it every ``reconcile_interval`` seconds, writes a new snapshot after a
load and then at most every ``snapshot_interval`` seconds when it changed, and runs the retention purge every
``purge_interval`` seconds. All of it stops with the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from aiohttp import web

from .. import audit
from ..appkeys import POOL, SETTINGS
from ..screening_index import SCREENING, ScreeningIndex
from ..screening_snapshot import SnapshotFile, restore, save
from .config import BORDER_SETTINGS, BorderSettings
from .purge import purge

log = logging.getLogger(__name__)
JOB_ACTOR = audit.Actor(username="border-retention-job", role="system", request_id="job")
_RETRY = 30.0


async def _start_index(app: web.Application, holder: ScreeningIndex, snapshots: SnapshotFile | None) -> bool:
    """Restore and reconcile, or load; True if the index came from the snapshot."""
    while True:
        try:
            if snapshots is not None and await restore(holder, app[POOL], snapshots):
                repaired = await holder.reconcile(app[POOL])  # what changed since the snapshot was written
                holder.mark_ready()
                log.info("screening index reconciled after restore", extra={"fields": {"changed": repaired}})
                return True
            await holder.load(app[POOL])
            return False
        except Exception:  # the database may be briefly unavailable at startup: retry, never give up
            log.exception("screening index load failed; retrying")
            await asyncio.sleep(_RETRY)


async def _snapshot_loop(app: web.Application, holder: ScreeningIndex, snapshots: SnapshotFile, every: int,
                         saved: int | None) -> None:
    """Write a snapshot whenever the index changed since the last one (``saved``: the change count it holds),
    checking every ``every`` seconds; a failed write is retried at the next turn."""
    while True:
        if holder.changes != saved:
            try:
                written = await save(holder, app[POOL], snapshots)
                saved = saved if written is None else written
            except Exception:
                log.exception("screening snapshot failed")
        await asyncio.sleep(every)


async def _index_loop(app: web.Application, holder: ScreeningIndex, settings: BorderSettings) -> None:
    snapshots = SnapshotFile(app[SETTINGS].home) if settings.snapshot_interval else None
    restored = await _start_index(app, holder, snapshots)
    async with asyncio.TaskGroup() as group:
        group.create_task(_reconcile_loop(app, holder, settings.reconcile_interval))
        if snapshots is not None:  # a restored index starts at change count 0, which its snapshot holds
            group.create_task(_snapshot_loop(app, holder, snapshots, settings.snapshot_interval,
                                             0 if restored else None))


async def _reconcile_loop(app: web.Application, holder: ScreeningIndex, every: int) -> None:
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
        tasks.append(asyncio.create_task(_index_loop(app, holder, settings)))
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
