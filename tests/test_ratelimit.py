"""Abuse limits (exchange.ratelimit): token buckets shared through PostgreSQL (refill, two processes, hashed
keys, idle rows deleted), the unusual-volume watch (the alert once per quiet period, minutes folded into the
usual); and over HTTP on a service with small limits: 429 ``rate_limited`` with ``Retry-After`` on reads and on
logins, audited, the limit and the watch shared by two service processes, and a ``security.alert`` row when an
account reads far more than usual."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiohttp.test_utils import TestClient, TestServer

from exchange.app import create_app
from exchange.config import ConfigError, Settings
from exchange.database import connect
from exchange.ratelimit import LIMITS, SharedBuckets, purge_idle_buckets

from .conftest import login, new_officer


async def _back(owner_conn, buckets: SharedBuckets, key, seconds: float) -> None:
    """Move a bucket's last take ``seconds`` into the past (time passing, for the refill)."""
    await owner_conn.execute("UPDATE rate_buckets SET at = at - make_interval(secs => $3) WHERE kind = $1 AND key = $2",
                             buckets.kind, buckets.row_key(key), seconds)


async def test_a_bucket_allows_its_burst_then_asks_to_wait_and_refills(app_conn, owner_conn):
    buckets = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 6)  # 6 a minute: one token every 10 s
    assert [await wait(buckets, app_conn, "a") for _ in range(6)] == [0] * 6
    assert 7 <= await wait(buckets, app_conn, "a") <= 10  # 10 s less the time since the first take
    assert await wait(buckets, app_conn, "b") == 0  # another key has its own bucket
    await _back(owner_conn, buckets, "a", 10.5)
    assert await wait(buckets, app_conn, "a") == 0  # one token came back in 10 s
    assert await wait(buckets, app_conn, "a") >= 7
    await _back(owner_conn, buckets, "a", 3600)  # a long pause refills to the burst, never more
    assert [await wait(buckets, app_conn, "a") for _ in range(7)][6] >= 7
    # refused takes do not dig a hole: after one token's time, one take is allowed again
    for _ in range(5):
        await wait(buckets, app_conn, "a")
    await _back(owner_conn, buckets, "a", 10.5)
    assert await wait(buckets, app_conn, "a") == 0


async def test_two_service_processes_draw_from_one_bucket(db_target):
    """Two Limits (two processes, two connections): the third take of a 2-a-minute bucket is refused on either."""
    kind = f"t-{uuid.uuid4().hex[:8]}"
    one, two = SharedBuckets(kind, 2), SharedBuckets(kind, 2)
    conns = [await connect(db_target.app_dsn) for _ in range(4)]
    try:
        assert await wait(one, conns[0], 7) == 0 and await wait(two, conns[1], 7) == 0
        assert await wait(one, conns[0], 7) >= 25 and await wait(two, conns[1], 7) >= 25
        # four concurrent takes of a fresh bucket on four connections: exactly the burst is allowed
        got = await asyncio.gather(*[wait(b, c, 8) for b, c in zip((one, two) * 2, conns, strict=True)])
        assert sorted(w == 0 for w in got) == [False, False, True, True]
    finally:
        for conn in conns:
            await conn.close()


async def test_rows_hold_a_hash_and_idle_buckets_are_deleted(app_conn, owner_conn):
    kind = f"t-{uuid.uuid4().hex[:8]}"
    logins, reads = SharedBuckets(kind, 60), SharedBuckets(kind, 60, watch=True)  # one kind: one listing below
    await wait(logins, app_conn, ("officer-name", "10.1.2.3"))
    await wait(logins, app_conn, ("someone-else", "10.1.2.3"))
    rows = await owner_conn.fetch("SELECT key FROM rate_buckets WHERE kind = $1", kind)
    assert len(rows) == 2 and all(len(r["key"]) == 16 for r in rows)
    assert not any(b"officer" in bytes(r["key"]) or b"10.1" in bytes(r["key"]) for r in rows)
    await wait(reads, app_conn, 41)
    await wait(reads, app_conn, 42)
    await _back(owner_conn, logins, ("officer-name", "10.1.2.3"), 121)  # full again: nothing else to keep
    await _back(owner_conn, logins, ("someone-else", "10.1.2.3"), 30)  # not full yet
    await _back(owner_conn, reads, 41, 180)  # full, but its reads still weigh in its usual
    await _back(owner_conn, reads, 42, 900)  # full, and its reads decayed to nothing
    assert await purge_idle_buckets(app_conn) >= 2
    left = await owner_conn.fetch("SELECT key FROM rate_buckets WHERE kind = $1", kind)
    assert sorted(bytes(r["key"]) for r in left) == sorted([logins.row_key(("someone-else", "10.1.2.3")),
                                                            reads.row_key(41)])
    # a deleted bucket starts full, as it had refilled anyway
    assert [await wait(logins, app_conn, ("officer-name", "10.1.2.3")) for _ in range(60)] == [0] * 60


async def _outside_a_minute_boundary() -> None:
    """The watch counts by the clock's minute: start a test that must stay within one minute early in it."""
    if time.time() % 60 > 50:
        await asyncio.sleep(61 - time.time() % 60)


async def _set(owner_conn, buckets: SharedBuckets, key, **values) -> None:
    sets = ", ".join(f"{name} = {expr}" for name, expr in values.items())
    await owner_conn.execute(f"UPDATE rate_buckets SET {sets} WHERE kind = $1 AND key = $2",
                             buckets.kind, buckets.row_key(key))


THIS_MINUTE = "floor(extract(epoch FROM now()) / 60)"


async def test_the_alert_fires_on_far_more_than_usual_once_per_quiet_period(app_conn, owner_conn):
    await _outside_a_minute_boundary()
    watched = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 100_000, watch=True, factor=10, floor=20)
    await watched.take(app_conn, "u")
    await _set(owner_conn, watched, "u", usual="5", count="0", minute=THIS_MINUTE)  # a steady 5 reads a minute
    fired = [(await watched.take(app_conn, "u")).alert for _ in range(80)]
    assert fired.count(True) == 1 and fired.index(True) == 50  # the 51st read passes max(20, 10 x 5)
    await _set(owner_conn, watched, "u", alerted_at="now() - interval '599 seconds'")
    assert not (await watched.take(app_conn, "u")).alert  # quiet period: no second alert
    await _set(owner_conn, watched, "u", alerted_at="now() - interval '601 seconds'")
    assert (await watched.take(app_conn, "u")).alert
    # a new account: only the floor applies; a bucket that is not watched never alerts
    fresh = [(await watched.take(app_conn, "new")).alert for _ in range(21)]
    assert fresh == [False] * 20 + [True]
    plain = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 100_000, floor=1)
    assert not any([(await plain.take(app_conn, "u")).alert for _ in range(5)])


async def test_finished_and_idle_minutes_fold_into_the_usual(app_conn, owner_conn):
    await _outside_a_minute_boundary()
    watched = SharedBuckets(f"t-{uuid.uuid4().hex[:8]}", 100_000, watch=True)
    await watched.take(app_conn, "u")
    usual = "SELECT usual, count FROM rate_buckets WHERE kind = $1 AND key = $2"
    # 50 reads in the minute before this one, usual 10: 0.8 x 10 + 0.2 x 50 = 18
    await _set(owner_conn, watched, "u", usual="10", count="50", minute=f"{THIS_MINUTE} - 1")
    await watched.take(app_conn, "u")
    row = await owner_conn.fetchrow(usual, watched.kind, watched.row_key("u"))
    assert row["usual"] == pytest.approx(18.0) and row["count"] == 1
    # ... and then ten idle minutes: each takes a fifth off
    await _set(owner_conn, watched, "u", usual="10", count="50", minute=f"{THIS_MINUTE} - 11")
    await watched.take(app_conn, "u")
    row = await owner_conn.fetchrow(usual, watched.kind, watched.row_key("u"))
    assert row["usual"] == pytest.approx(18.0 * 0.8 ** 10) and row["count"] == 1


async def wait(buckets: SharedBuckets, db, key) -> int:
    return (await buckets.take(db, key)).wait


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
    tight.server.app[LIMITS].reads.floor = 2  # make "far more than usual" reachable in a test
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


async def test_two_service_processes_share_an_officers_read_limit(tight, pg_cluster, db_target, owner_conn):
    """The limit is the setting, not the setting times the processes behind the load balancer."""
    liaison = await login(tight, await new_officer(db_target, "liaison"))
    settings = Settings(home=pg_cluster.home, issuer="exchange-kh-test", token_ttl=3600, federation_loops=False,
                        search_rate=3, login_rate=2)
    async with TestClient(TestServer(create_app(settings, target=db_target), host="127.0.0.1")) as second:
        for app in (tight.server.app, second.server.app):
            app[LIMITS].reads.floor = 2  # the third read in a minute is "far more than usual"
        statuses = []
        for client in (tight, second, tight, second):
            resp = await client.get("/api/v1/records?limit=1", headers=liaison.headers("investigation"))
            statuses.append(resp.status)
        assert statuses == [200, 200, 200, 429]
        assert (await resp.json())["error"]["code"] == "rate_limited"
    alerts = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE username = $1 AND action = "
                                       "'security.alert'", liaison.username)
    assert alerts == 1  # seen by the watch shared by both processes, neither of which saw three reads


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
