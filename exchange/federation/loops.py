"""Background work of a running node, as one aiohttp ``cleanup_ctx``: a supervisor starts one send loop and
one pull loop per active partner (partners added while the service runs are picked up within one interval)
and cancels them all on shutdown.

A send loop calls ``sender.send_batch`` again at once while batches come back full, sleeps one send interval
when the queue is empty, and otherwise waits until the backoff stored for the partner has passed. A pull loop
first fetches the partner's signed key set (accepted only if newer and signed by a trusted key), then pulls
the partner's feed, every ``EXCHANGE_PULL_INTERVAL_S``. Failures are logged and retried on the next round;
nothing here ever stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable

from aiohttp import web

from protocols.errors import ProtocolError

from ..appkeys import POOL
from . import partners
from .context import FEDERATION, Federation, NodeKeysMissing
from .feed import pull_once
from .identity import IdentityError
from .keys_api import refresh_partner_keys
from .sender import send_batch
from .transport import TransportError

log = logging.getLogger("exchange.federation.loops")


async def send_loop(fed: Federation, app: web.Application, country: str) -> None:
    interval = fed.settings.send_interval_ms / 1000
    while True:
        try:
            result = await send_batch(fed, app[POOL], country)
            if result.more:
                continue
        except (NodeKeysMissing, IdentityError):
            pass
        except Exception:  # a lost database or a bug in one round must not end the loop
            log.exception("send round failed", extra={"fields": {"partner": country}})
        await asyncio.sleep(interval)


async def refresh_keys(fed: Federation, app: web.Application, country: str) -> None:
    """Accept the partner's newer signed key set, if any (rotation, revocation); a refusal keeps the trusted one."""
    try:
        async with app[POOL].acquire() as conn, conn.transaction():
            await refresh_partner_keys(fed, conn, country)
    except (ProtocolError, TransportError) as exc:
        log.warning("partner key set not accepted", extra={"fields": {"partner": country, "error": str(exc)}})


async def pull_loop(fed: Federation, app: web.Application, country: str) -> None:
    while True:
        try:
            await refresh_keys(fed, app, country)
            await pull_once(fed, app[POOL], country)
        except (NodeKeysMissing, IdentityError):
            pass
        except Exception:
            log.exception("pull round failed", extra={"fields": {"partner": country}})
        await asyncio.sleep(fed.settings.pull_interval_s)


async def supervise(fed: Federation, app: web.Application, tasks: dict[str, asyncio.Task[None]]) -> None:
    while True:
        try:
            async with app[POOL].acquire() as conn:
                active = [p.country for p in await partners.all_partners(conn)]
            for country in active:
                for kind, loop in (("send", send_loop), ("pull", pull_loop)):
                    name = f"{kind}:{country}"
                    if name not in tasks or tasks[name].done():
                        tasks[name] = asyncio.create_task(loop(fed, app, country), name=name)
        except Exception:
            log.exception("federation supervisor round failed")
        await asyncio.sleep(max(fed.settings.send_interval_ms / 1000, 1.0))


async def cancel_all(tasks: Iterable[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until each has ended (how it ended is not raised: this is shutdown)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def federation_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the federation loops (unless ``EXCHANGE_FEDERATION_LOOPS=0``), yield, stop them."""
    fed = app[FEDERATION]
    tasks: dict[str, asyncio.Task[None]] = {}
    supervisor = asyncio.create_task(supervise(fed, app, tasks)) if fed.settings.federation_loops else None
    try:
        yield
    finally:
        await cancel_all(([supervisor] if supervisor else []) + list(tasks.values()))
        await fed.transport.close()
