"""Abuse limits (exchange.ratelimit): token buckets shared through PostgreSQL (refill, two processes, hashed
keys, idle rows deleted), the unusual-volume alert with an injected clock; and over HTTP on a service with small
limits: 429 ``rate_limited`` with ``Retry-After`` on reads and on logins, audited, the limit shared by two
service processes, and a ``security.alert`` row when an account reads far more than usual."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from exchange.app import create_app
from exchange.config import ConfigError, Settings
from exchange.database import connect
from exchange.ratelimit import LIMITS, SharedBuckets, UsageWatch, purge_idle_buckets

from .conftest import login, new_officer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
async def app_conn(db_target):
    """A connection as the service's role (the buckets are written by the service)."""
    conn = await connect(db_target.app_dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def _back(owner_conn, buckets: SharedBuckets, key, seconds: float) -> None:
    """Move a bucket's last take ``seconds`` into the past (time passing, for the refill)."""
    await owner_conn.execute("UPDATE rate_buckets SET at = at - make_interval(secs => $3) WHERE kind = $1 AND key = $2",
                             buckets.kind, buckets.row_key(key), seconds)


async def test_a_bucket_allows_its_burst_then_asks_to_wait_and_refills(app_conn, owner_conn):
    buckets = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 6)  # 6 a minute: one token every 10 s
    assert [await buckets.take(app_conn, "a") for _ in range(6)] == [0] * 6
    assert 7 <= await buckets.take(app_conn, "a") <= 10  # 10 s less the time since the first take
    assert await buckets.take(app_conn, "b") == 0  # another key has its own bucket
    await _back(owner_conn, buckets, "a", 10.5)
    assert await buckets.take(app_conn, "a") == 0  # one token came back in 10 s
    assert await buckets.take(app_conn, "a") >= 7
    await _back(owner_conn, buckets, "a", 3600)  # a long pause refills to the burst, never more
    assert [await buckets.take(app_conn, "a") for _ in range(7)][6] >= 7
    # refused takes do not dig a hole: after one token's time, one take is allowed again
    for _ in range(5):
        await buckets.take(app_conn, "a")
    await _back(owner_conn, buckets, "a", 10.5)
    assert await buckets.take(app_conn, "a") == 0


async def test_two_service_processes_draw_from_one_bucket(db_target):
    """Two Limits (two processes, two connections): the third take of a 2-a-minute bucket is refused on either."""
    kind = f"t-{uuid.uuid4().hex[:8]}"
    one, two = SharedBuckets(kind, 2), SharedBuckets(kind, 2)
    conns = [await connect(db_target.app_dsn) for _ in range(4)]
    try:
        assert await one.take(conns[0], 7) == 0 and await two.take(conns[1], 7) == 0
        assert await one.take(conns[0], 7) >= 25 and await two.take(conns[1], 7) >= 25
        # four concurrent takes of a fresh bucket on four connections: exactly the burst is allowed
        got = await asyncio.gather(*[b.take(c, 8) for b, c in zip((one, two) * 2, conns, strict=True)])
        assert sorted(w == 0 for w in got) == [False, False, True, True]
    finally:
        for conn in conns:
            await conn.close()


async def test_rows_hold_a_hash_and_idle_buckets_are_deleted(app_conn, owner_conn):
    buckets = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 60)
    await buckets.take(app_conn, ("officer-name", "10.1.2.3"))
    await buckets.take(app_conn, ("someone-else", "10.1.2.3"))
    rows = await owner_conn.fetch("SELECT key FROM rate_buckets WHERE kind = $1", buckets.kind)
    assert len(rows) == 2 and all(len(r["key"]) == 16 for r in rows)
    assert not any(b"officer" in bytes(r["key"]) or b"10.1" in bytes(r["key"]) for r in rows)
    await _back(owner_conn, buckets, ("officer-name", "10.1.2.3"), 121)
    assert await purge_idle_buckets(app_conn) >= 1
    left = await owner_conn.fetch("SELECT key FROM rate_buckets WHERE kind = $1", buckets.kind)
    assert [bytes(r["key"]) for r in left] == [buckets.row_key(("someone-else", "10.1.2.3"))]
    # a deleted bucket starts full, as it had refilled anyway
    assert [await buckets.take(app_conn, ("officer-name", "10.1.2.3")) for _ in range(60)] == [0] * 60


def test_the_alert_fires_on_far_more_than_usual_once_per_quiet_period():
    clock = Clock()
    watch = UsageWatch(clock=clock, factor=10, floor=20)
    for _minute in range(30):  # a steady 5 reads a minute: the usual
        assert not any(watch.note("u") for _ in range(5))
        clock.t += 60
    fired = [watch.note("u") for _ in range(200)]
    assert fired.count(True) == 1 and fired.index(True) > 20  # past max(floor, 10 x ~5)
    clock.t += 60
    assert not any(watch.note("u") for _ in range(200))  # quiet period: no second alert
    assert not any(UsageWatch(clock=clock, floor=20).note("new") for _ in range(20))


def test_rates_come_from_the_environment():
    settings = Settings.from_env({"EXCHANGE_SEARCH_RATE": "30", "EXCHANGE_LOGIN_RATE": "3"})
    assert (settings.search_rate, settings.login_rate) == (30, 3)
    with pytest.raises(ConfigError, match="EXCHANGE_SEARCH_RATE"):
        Settings.from_env({"EXCHANGE_SEARCH_RATE": "0"})


@pytest.fixture(scope="module")
async def tight(pg_cluster, db_target):
    settings = Settings(home=pg_cluster.home, issuer="exchange-kh-test", token_ttl=3600, federation_loops=False,
                        search_rate=3, login_rate=2)
    async with TestClient(TestServer(create_app(settings, target=db_target), host="127.0.0.1")) as client:
        yield client


async def test_reads_past_the_rate_get_429_with_retry_after_and_an_alert(tight, db_target, owner_conn):
    tight.server.app[LIMITS].usage.floor = 2  # make "far more than usual" reachable in a test
    liaison = await login(tight, await new_officer(db_target, "liaison"))
    statuses = []
    for _ in range(4):
        resp = await tight.get("/api/v1/records?limit=1", headers=liaison.headers("investigation"))
        statuses.append(resp.status)
    assert statuses == [200, 200, 200, 429]
    body = await resp.json()
    assert body["error"]["code"] == "rate_limited" and 1 <= int(resp.headers["Retry-After"]) <= 20
    assert (await tight.get("/api/v1/auth/me", headers=liaison.headers())).status == 200  # not a personal read
    rows = await owner_conn.fetch("SELECT action, outcome, detail FROM audit_log WHERE username = $1 "
                                  "AND action IN ('security.alert', 'access.rate_limited') ORDER BY id",
                                  liaison.username)
    assert [(r["action"], r["outcome"]) for r in rows] == [("security.alert", "alert"),
                                                           ("access.rate_limited", "denied")]
    assert rows[0]["detail"] == {"reason": "unusual_read_volume"}


async def test_two_service_processes_share_an_officers_read_limit(tight, pg_cluster, db_target):
    """The limit is the setting, not the setting times the processes behind the load balancer."""
    liaison = await login(tight, await new_officer(db_target, "liaison"))
    settings = Settings(home=pg_cluster.home, issuer="exchange-kh-test", token_ttl=3600, federation_loops=False,
                        search_rate=3, login_rate=2)
    async with TestClient(TestServer(create_app(settings, target=db_target), host="127.0.0.1")) as second:
        statuses = []
        for client in (tight, second, tight, second):
            resp = await client.get("/api/v1/records?limit=1", headers=liaison.headers("investigation"))
            statuses.append(resp.status)
        assert statuses == [200, 200, 200, 429]
        assert (await resp.json())["error"]["code"] == "rate_limited"


async def test_logins_past_the_rate_get_429_before_any_password_check(tight, db_target, owner_conn):
    officer = await new_officer(db_target, "registrar")
    wrong = {"username": officer.username, "password": "wrong", "totp": "000000"}
    first = [(await tight.post("/api/v1/auth/token", json=wrong)).status for _ in range(2)]
    refused = await tight.post("/api/v1/auth/token", json=wrong)
    assert first == [401, 401] and refused.status == 429
    assert (await refused.json())["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) >= 1
    failures = await owner_conn.fetchval("SELECT failed_logins FROM users WHERE username = $1", officer.username)
    assert failures == 2  # the refused attempt did not count towards the lockout: it never reached the password
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND action = 'auth.login' "
                                     "AND outcome = 'rate_limited'", officer.username) == 1
