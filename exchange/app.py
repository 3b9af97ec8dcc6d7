"""The aiohttp application factory. Each resource (database, pool, token keys) has one ``cleanup_ctx``
generator that starts it, yields, and stops it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from . import audit, middleware
from .appkeys import POOL, SETTINGS, TOKEN_KEYS
from .border.jobs import border_jobs
from .config import Settings
from .database import Target, create_pool, target_for
from .federation.context import FEDERATION, Federation
from .federation.loops import federation_ctx
from .housekeeping import housekeeping
from .keystore import TokenKeys
from .migrate import migrate
from .ratelimit import LIMITS, Limits
from .routes import ROUTES
from .web.apiclient import http_ctx
from .web.routes import PAGES

log = logging.getLogger(__name__)


def create_app(settings: Settings, target: Target | None = None) -> web.Application:
    """Build the service. With ``target`` None the database comes from ``settings`` (embedded if no URL)."""
    app = web.Application(
        middlewares=[middleware.context, middleware.errors, middleware.access],
        client_max_size=settings.max_body,
    )
    app[SETTINGS] = settings
    app[TOKEN_KEYS] = TokenKeys.load_or_create(settings.home)
    app[LIMITS] = Limits.create(settings.search_rate, settings.login_rate)  # buckets in PostgreSQL (ratelimit.py)
    app[FEDERATION] = Federation(settings)  # node keys, partner transport, clock (tests swap the last two)

    async def database(app: web.Application):
        async with contextlib.AsyncExitStack() as stack:
            tgt = target if target is not None else await stack.enter_async_context(target_for(settings))
            applied = await migrate(tgt.owner_dsn)
            log.info("database ready", extra={"fields": {"migrations_applied": applied}})
            app[POOL] = await create_pool(tgt.app_dsn)
            sealer = asyncio.create_task(audit.seal_loop(app[POOL]), name="audit-sealer")
            try:
                yield
            finally:
                sealer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sealer
                try:
                    async with app[POOL].acquire() as conn:  # seal what the last requests wrote
                        await audit.seal(conn)
                except Exception:  # the database may be gone: the rows stay pending for the next start
                    log.exception("final audit sealing failed")
                finally:
                    await app[POOL].close()

    app.cleanup_ctx.append(database)
    app.cleanup_ctx.append(border_jobs)  # screening index (load, reconcile) and the retention purge
    app.cleanup_ctx.append(housekeeping)  # deletes expired Idempotency-Keys and idle rate-limit buckets
    app.cleanup_ctx.append(federation_ctx)  # one send loop and one pull loop per partner
    app.cleanup_ctx.append(http_ctx)  # the web pages' client for their calls to the API
    for method, path, handler in [*ROUTES, *PAGES]:
        app.router.add_route(method, path, handler)
    return app
