"""The receiving node is a real process, killed with SIGKILL in the middle of a push and started again: every
message arrives, none is applied twice, the versions of each record are applied in order. Bounded in time.

KH sends from this test process (its own database, keys and send loop); the receiver "LA" runs ``exchange
serve`` in a subprocess on its own database of the session's PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from exchange.appkeys import POOL
from exchange.config import Settings
from exchange.database import connect, create_pool
from exchange.federation import identity, partners
from exchange.federation.context import Federation
from exchange.federation.loops import send_loop
from exchange.federation.outbox import enqueue
from exchange.migrate import migrate
from protocols.fixtures import sample_bodies

from .conftest import fresh_database

# records (the first CORRECTED of them with versions 1..3); EXCHANGE_TEST_KILL_RECORDS=10000 runs the full-size case
RECORDS = int(os.environ.get("EXCHANGE_TEST_KILL_RECORDS", "150"))
CORRECTED = max(1, RECORDS // 5)
DEADLINE = 120.0 + RECORDS / 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, target, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    env.update(EXCHANGE_HOME=str(home), EXCHANGE_COUNTRY="LA", EXCHANGE_DATABASE_URL=target.app_dsn,
               EXCHANGE_DATABASE_OWNER_URL=target.owner_dsn, EXCHANGE_FEDERATION_LOOPS="0",
               EXCHANGE_LOG_LEVEL="WARNING")
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "exchange.cli", "serve", "--port", str(port)], env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def _ready(port: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise AssertionError("the receiver did not start in time")


def _body(i: int, version: int) -> dict:
    body = dict(sample_bodies("KH", "LA")["record_upsert"])
    body.pop("source_country")
    return {**body, "record_id": f"KH-K-{i:06d}", "version": version}


@pytest.mark.slow
async def test_receiver_killed_mid_push_and_restarted(pg_cluster, tmp_path):
    now = dt.datetime.now(dt.UTC)
    async with fresh_database(pg_cluster, "kill_kh") as kh_db, fresh_database(pg_cluster, "kill_la") as la_db:
        kh_t, la_t = pg_cluster.target(kh_db), pg_cluster.target(la_db)
        await migrate(kh_t.owner_dsn)
        await migrate(la_t.owner_dsn)
        kh_id = identity.init(tmp_path / "kh", "KH", now)
        la_id = identity.init(tmp_path / "la", "LA", now)
        port = _free_port()
        kh_pool = await create_pool(kh_t.app_dsn)
        la_owner = await connect(la_t.owner_dsn)
        fed = Federation(Settings(home=tmp_path / "kh", country="KH", federation_loops=False, backoff_max_s=1,
                                  send_interval_ms=20))
        receiver = None
        sender = None
        try:
            async with kh_pool.acquire() as conn, conn.transaction():
                shown = la_id.show(now)
                await partners.add(conn, country="LA", url=f"http://127.0.0.1:{port}", signing_key=shown["signing_key"],
                                   box_key=shown["box_key"], key_id=shown["key_id"], receives="full", now=now)
            async with la_owner.transaction():
                shown = kh_id.show(now)
                await partners.add(la_owner, country="KH", url="http://127.0.0.1:9", signing_key=shown["signing_key"],
                                   box_key=shown["box_key"], key_id=shown["key_id"], receives="full", now=now)
            async with kh_pool.acquire() as conn, conn.transaction():
                for version in (1, 2, 3):
                    for i in range(RECORDS if version == 1 else CORRECTED):
                        await enqueue(conn, "LA", "record_upsert", _body(i, version), person_id=uuid.uuid5(
                            uuid.NAMESPACE_URL, str(i)), version=version)
            total = RECORDS + 2 * CORRECTED
            log = tmp_path / "la.log"
            started = time.monotonic()
            receiver = _serve(tmp_path / "la", la_t, port, log)
            await _ready(port, started + 60)
            app = {POOL: kh_pool}
            sender = asyncio.create_task(send_loop(fed, app, "LA"))
            while await la_owner.fetchval("SELECT count(*) FROM partner_record_versions") < total // 3:
                assert time.monotonic() - started < DEADLINE
                await asyncio.sleep(0.02)
            receiver.send_signal(signal.SIGKILL)  # in the middle of the push
            receiver.wait(timeout=10)
            await asyncio.sleep(1.0)  # the sender meets a dead port and backs off
            receiver = _serve(tmp_path / "la", la_t, port, log)
            while await kh_pool.fetchval("SELECT count(*) FROM outbox WHERE status = 'pending'"):
                assert time.monotonic() - started < DEADLINE, "the push did not finish in time"
                await asyncio.sleep(0.1)
        finally:
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
            if receiver is not None and receiver.poll() is None:
                receiver.send_signal(signal.SIGTERM)
                receiver.wait(timeout=20)
            await fed.transport.close()
        try:
            statuses = await kh_pool.fetch("SELECT status, count(*) AS n FROM outbox GROUP BY status")
            assert {s["status"]: s["n"] for s in statuses} == {"delivered": total}
            versions = await la_owner.fetch(
                "SELECT record_id, array_agg(version ORDER BY received_at, version) AS v FROM partner_record_versions"
                " GROUP BY record_id")
            assert len(versions) == RECORDS and sum(len(r["v"]) for r in versions) == total
            assert all(list(r["v"]) == list(range(1, len(r["v"]) + 1)) for r in versions)
            assert await la_owner.fetchval("SELECT count(*) FROM inbox") == total  # every message id once
            failure = await kh_pool.fetchval("SELECT last_error FROM send_state WHERE partner = 'LA'")
            assert failure is not None  # the outage was seen, recorded, and backed off from
        finally:
            await la_owner.close()
            await kh_pool.close()
