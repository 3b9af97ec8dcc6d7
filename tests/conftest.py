"""Shared fixtures: a real PostgreSQL (the embedded server, as the service uses it) with a fresh database for
the test session, dropped afterwards; the service on a loopback test server; officers of every role.

The embedded server lives in a temporary home folder for the session. ``EXCHANGE_TEST_DATABASE_URL`` (an
owner URL of an existing server) makes the suite use that server instead, still with a fresh database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import re
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
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
    return Settings(home=pg_cluster.home, issuer="exchange-kh-test", token_ttl=3600,
                    cookie_secure=False,  # the test client keeps no Secure cookie over plain HTTP
                    housekeeping_interval=0)  # purges run when a test calls them (the job's own test starts it)


@pytest.fixture(scope="session")
async def client(settings: Settings, db_target: Target) -> AsyncIterator[TestClient]:
    app = create_app(settings, target=db_target)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@contextlib.asynccontextmanager
async def connected(dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """One connection (``exchange.database.connect``), closed at the end."""
    conn = await connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def app_conn(db_target: Target) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the service's role, for work the service does itself (purges, rate-limit takes)."""
    async with connected(db_target.app_dsn) as conn:
        yield conn


@pytest.fixture(scope="session")
async def owner_conn(db_target: Target) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection as the schema owner, for assertions on what was (not) written."""
    async with connected(db_target.owner_dsn) as conn:
        yield conn


@dataclass
class Officer:
    username: str
    password: str
    totp_secret: str
    role: str
    border_point: str | None
    token: str = ""
    last_step: int | None = None  # the last TOTP step used to log in (each works once)

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
    async with connected(db_target.app_dsn) as conn, conn.transaction():
        made = await create_user(conn, audit.Actor(username="test", request_id="test"), username=username,
                                 role=role, border_point=border_point, password=None,
                                 issuer=settings.issuer if settings else "exchange-kh-test")
    secret = pyotp.parse_uri(made.totp_uri).secret
    return Officer(username, made.password, secret, role, border_point)


async def login(client: TestClient, officer: Officer) -> Officer:
    resp = await client.post("/api/v1/auth/token", json={
        "username": officer.username, "password": officer.password, "totp": await fresh_code(officer)})
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


# --- the web pages in a real browser (Playwright driving Debian's headless Chromium) -------------------------

CHROMIUM = os.environ.get("EXCHANGE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
async def browser():
    """One headless Chromium for the session. Missing Chromium fails the browser tests (scripts/test installs
    it); set EXCHANGE_SKIP_BROWSER=1 to skip them on a machine that cannot have it."""
    if os.environ.get("EXCHANGE_SKIP_BROWSER") == "1":
        pytest.skip("EXCHANGE_SKIP_BROWSER=1")
    if not os.path.exists(CHROMIUM):  # noqa: ASYNC240 (one stat at fixture set-up)
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs Debian's chromium (or apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def web_page(browser, client):
    """A fresh browser context (its own cookies) at 1366x768 with the service's base URL as ``page.base``."""
    context = await browser.new_context(viewport={"width": 1366, "height": 768},
                                        base_url=str(client.make_url("")).rstrip("/"))
    context.set_default_timeout(15_000)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()


async def web_login(page, officer: Officer) -> None:
    """Log ``officer`` in through the login form (the TOTP code of a step not used yet)."""
    await page.goto("/login")
    await page.get_by_label("User name").fill(officer.username)
    await page.get_by_label("Password").fill(officer.password)
    await page.get_by_label("Code from your authenticator app").fill(await fresh_code(officer))
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state()


async def fresh_code(officer: Officer) -> str:
    """A TOTP code the server will accept: each step works once per account, so another login of the same
    officer soon after uses the next step's code (the server allows one step of drift), or waits for it."""
    while True:
        now_step = int(dt.datetime.now(dt.UTC).timestamp()) // 30
        step = now_step if officer.last_step is None or officer.last_step < now_step else officer.last_step + 1
        if step <= now_step + 1:
            break
        await asyncio.sleep(1)
    officer.last_step = step
    return pyotp.TOTP(officer.totp_secret).at(dt.datetime.fromtimestamp(step * 30, dt.UTC))


def shot_path(name: str) -> Path | None:
    """Where a browser test saves the screenshot ``name`` (docs/screenshots/ when EXCHANGE_SCREENSHOTS=1)."""
    if os.environ.get("EXCHANGE_SCREENSHOTS") != "1":
        return None
    folder = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"


async def screenshot(page, name: str) -> None:
    path = shot_path(name)
    if path is not None:
        await page.screenshot(path=str(path), full_page=True)


@contextlib.asynccontextmanager
async def web_session(client: TestClient) -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client with its own cookie jar (one officer's browser, without the browser) on the service."""
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of the 127.0.0.1 test server
    async with aiohttp.ClientSession(base_url=str(client.make_url("")), cookie_jar=jar) as session:
        yield session


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


async def web_login_http(session: aiohttp.ClientSession, officer: Officer) -> None:
    """Log in through the login form over plain HTTP; afterwards the session's jar holds the session cookie."""
    resp = await session.get("/login")
    token = form_token(await resp.text())
    resp = await session.post("/login", data={"csrf": token, "username": officer.username,
                                              "password": officer.password, "totp": await fresh_code(officer)},
                              allow_redirects=False)
    assert resp.status == 303, await resp.text()
