"""Shared fixtures: a real PostgreSQL (the embedded server, as the service uses it) with a fresh database for
the test session, dropped afterwards; the service on a loopback test server; officers of every role.

The embedded server lives in a temporary home folder for the session. ``EXCHANGE_TEST_DATABASE_URL`` (an
owner URL of an existing server) makes the suite use that server instead, still with a fresh database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pyotp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from exchange import audit
from exchange.app import create_app
from exchange.config import Settings
from exchange.database import APP_ROLE, Target, connect, drop_database, embedded_server, ensure_database, socket_dsn
from exchange.migrate import migrate
from exchange.users import create_user


@dataclass
class PgCluster:
    admin_dsn: str
    socket_dir: str | None
    home: Path

    def dsn(self, database: str, user: str = "postgres") -> str:
        if self.socket_dir is not None:
            return socket_dsn(self.socket_dir, user, database)
        parts = urlsplit(self.admin_dsn)
        return urlunsplit(parts._replace(path="/" + database))

    def target(self, database: str) -> Target:
        app = self.dsn(database, APP_ROLE) if self.socket_dir is not None else self.dsn(database)
        return Target(owner_dsn=self.dsn(database), app_dsn=app)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    home = Path(tempfile.mkdtemp(prefix="exchange-test-"))
    url = os.environ.get("EXCHANGE_TEST_DATABASE_URL")
    if url:
        yield PgCluster(url, None, home)
        return
    with embedded_server(home) as socket_dir:
        yield PgCluster(socket_dsn(socket_dir, "postgres", "postgres"), socket_dir, home)


@contextlib.asynccontextmanager
async def fresh_database(cluster: PgCluster, prefix: str = "test") -> AsyncIterator[str]:
    name = f"{prefix}_{secrets.token_hex(4)}"
    await ensure_database(cluster.admin_dsn, name)
    try:
        yield name
    finally:
        await drop_database(cluster.admin_dsn, name)


@pytest.fixture(scope="session")
async def db_target(pg_cluster: PgCluster) -> AsyncIterator[Target]:
    async with fresh_database(pg_cluster) as name:
        target = pg_cluster.target(name)
        await migrate(target.owner_dsn)
        yield target


@pytest.fixture(scope="session")
def settings(pg_cluster: PgCluster) -> Settings:
    return Settings(home=pg_cluster.home, issuer="exchange-kh-test", token_ttl=3600)


@pytest.fixture(scope="session")
async def client(settings: Settings, db_target: Target) -> AsyncIterator[TestClient]:
    app = create_app(settings, target=db_target)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@pytest.fixture(scope="session")
async def owner_conn(db_target: Target) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection as the schema owner, for assertions on what was (not) written."""
    conn = await connect(db_target.owner_dsn)
    try:
        yield conn
    finally:
        await conn.close()


@dataclass
class Officer:
    username: str
    password: str
    totp_secret: str
    role: str
    border_point: str | None
    token: str = ""

    def code(self, at: dt.datetime | None = None) -> str:
        return pyotp.TOTP(self.totp_secret).at(at or dt.datetime.now(dt.UTC))

    def headers(self, purpose: str | None = "investigation", **extra: str) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"}
        if purpose:
            out["X-Purpose"] = purpose
        out.update(extra)
        return out


async def new_officer(db_target: Target, role: str, border_point: str | None = None,
                      settings: Settings | None = None) -> Officer:
    username = f"{role}-{secrets.token_hex(4)}"
    conn = await connect(db_target.app_dsn)
    try:
        async with conn.transaction():
            made = await create_user(conn, audit.Actor(username="test", request_id="test"), username=username,
                                     role=role, border_point=border_point, password=None,
                                     issuer=settings.issuer if settings else "exchange-kh-test")
    finally:
        await conn.close()
    secret = pyotp.parse_uri(made.totp_uri).secret
    return Officer(username, made.password, secret, role, border_point)


async def login(client: TestClient, officer: Officer) -> Officer:
    resp = await client.post("/api/v1/auth/token", json={
        "username": officer.username, "password": officer.password, "totp": officer.code()})
    assert resp.status == 200, await resp.text()
    officer.token = (await resp.json())["token"]
    return officer


@pytest.fixture(scope="session")
async def officers(client: TestClient, db_target: Target) -> dict[str, Officer]:
    """One logged-in officer per role (immigration at POIPET), shared by the session's tests."""
    out = {}
    for role in ("admin", "registrar", "liaison", "immigration", "auditor"):
        officer = await new_officer(db_target, role, "POIPET" if role == "immigration" else None)
        out[role] = await login(client, officer)
    return out
