"""Abuse limits (exchange.ratelimit): token buckets with an injected clock, the unusual-volume alert, bounded
memory; and over HTTP on a service with small limits: 429 ``rate_limited`` with ``Retry-After`` on reads and on
logins, audited, and a ``security.alert`` row when an account reads far more than usual."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from exchange.app import create_app
from exchange.config import ConfigError, Settings
from exchange.ratelimit import LIMITS, TokenBuckets, UsageWatch

from .conftest import login, new_officer


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_allows_its_burst_then_asks_to_wait_and_refills():
    clock = Clock()
    buckets = TokenBuckets(6, clock=clock)  # 6 a minute: one token every 10 s
    assert [buckets.take("a") for _ in range(6)] == [0] * 6
    assert buckets.take("a") == 10
    assert buckets.take("b") == 0  # another key has its own bucket
    clock.t += 4
    assert buckets.take("a") == 6
    clock.t += 6
    assert buckets.take("a") == 0 and buckets.take("a") == 10
    clock.t += 3600  # a long pause refills to the burst, never more
    assert [buckets.take("a") for _ in range(7)] == [0] * 6 + [10]


def test_the_number_of_buckets_is_bounded():
    buckets = TokenBuckets(1, clock=Clock(), max_keys=100)
    for i in range(10_000):
        buckets.take(("user", i))
    assert len(buckets) == 100


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
