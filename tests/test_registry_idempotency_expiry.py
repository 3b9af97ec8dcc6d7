"""Idempotency-Keys of register writes expire (EXCHANGE_IDEMPOTENCY_TTL_HOURS): an expired key is a new request,
and expired rows are deleted, in batches, by hand and by the service's housekeeping job (which also deletes idle
rate-limit buckets)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import uuid

import pytest
from aiohttp.test_utils import TestServer

from exchange.app import create_app
from exchange.border.config import BORDER_SETTINGS, BorderSettings
from exchange.config import ConfigError, Settings
from exchange.registry.idempotency import purge_expired

from .test_registry_api import RECORDS, make_body

DAY = dt.timedelta(hours=24)


async def post(client, officer, body, key):
    return await client.post(RECORDS, json=body, headers=officer.headers(purpose=None, **{"Idempotency-Key": key}))


async def age(owner_conn, key: str, hours: float) -> None:
    await owner_conn.execute("UPDATE idempotency_keys SET created_at = now() - make_interval(secs => $2) "
                             "WHERE key = $1", key, hours * 3600)


async def test_an_expired_key_is_a_new_request(client, officers, owner_conn):
    registrar = officers["registrar"]
    key, body = f"old-{uuid.uuid4()}", make_body()
    first = await post(client, registrar, body, key)
    assert first.status == 201
    await age(owner_conn, key, 23.9)  # still alive: replayed
    again = await post(client, registrar, body, key)
    assert again.status == 201 and again.headers.get("Idempotent-Replayed") == "true"
    assert (await again.json())["id"] == (await first.json())["id"]

    await age(owner_conn, key, 24.1)  # expired: the same body makes a new record, a new body is no conflict
    before = await owner_conn.fetchval("SELECT count(*) FROM persons")
    late = await post(client, registrar, body, key)
    assert late.status == 201 and "Idempotent-Replayed" not in late.headers
    assert (await late.json())["id"] != (await first.json())["id"]
    assert await owner_conn.fetchval("SELECT count(*) FROM persons") == before + 1
    # the key now answers for the new record, for another 24 h
    row = await owner_conn.fetchrow("SELECT response, created_at FROM idempotency_keys WHERE key = $1", key)
    assert row["response"]["id"] == (await late.json())["id"]
    assert row["created_at"] > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    replay = await post(client, registrar, body, key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and (await replay.json()) == await late.json()
    other = await post(client, registrar, make_body(), key)
    assert other.status == 409 and (await other.json())["error"]["code"] == "idempotency_mismatch"


async def created_keys(client, officer, owner_conn, prefix: str, n: int, aged: int, hours: float) -> tuple[list, list]:
    """``n`` records created with keys ``prefix-<tag>-<i>``, the first ``aged`` keys claimed ``hours`` ago;
    returns the keys and the record ids."""
    tag = uuid.uuid4().hex[:8]
    keys, ids = [f"{prefix}-{tag}-{i}" for i in range(n)], []
    for key in keys:
        resp = await post(client, officer, make_body(), key)
        assert resp.status == 201
        ids.append(uuid.UUID((await resp.json())["id"]))
    for key in keys[:aged]:
        await age(owner_conn, key, hours)
    return keys, ids


async def test_purge_deletes_only_expired_keys_in_batches(client, officers, owner_conn, app_conn):
    keys, ids = await created_keys(client, officers["registrar"], owner_conn, "purge", 7, 5, 25)
    gone = await purge_expired(app_conn, DAY, batch=2)  # as the service's role: it may delete these rows
    assert gone >= 5  # other tests' aged keys may be in the table too: count ours
    left = await owner_conn.fetch("SELECT key FROM idempotency_keys WHERE key = ANY($1)", keys)
    assert sorted(r["key"] for r in left) == keys[5:]
    # the records themselves stay
    assert await owner_conn.fetchval("SELECT count(*) FROM persons WHERE id = ANY($1)", ids) == 7


async def test_purge_stops_after_max_batches(client, officers, owner_conn, app_conn):
    keys, _ = await created_keys(client, officers["registrar"], owner_conn, "bounded", 5, 5, 48)
    await owner_conn.execute("DELETE FROM idempotency_keys WHERE created_at <= now() - interval '24 hours' "
                             "AND NOT key = ANY($1)", keys)
    assert await purge_expired(app_conn, DAY, batch=2, max_batches=2) == 4
    assert await purge_expired(app_conn, DAY, batch=2, max_batches=2) == 1


async def test_the_service_purges_by_itself(client, officers, owner_conn, settings, db_target):
    """The housekeeping job deletes an expired key and an idle rate-limit bucket, and keeps a live bucket."""
    key = f"job-{uuid.uuid4()}"
    assert (await post(client, officers["registrar"], make_body(), key)).status == 201
    await age(owner_conn, key, 30)
    kind = f"t-{uuid.uuid4().hex[:8]}"
    await owner_conn.execute("INSERT INTO rate_buckets VALUES ($1, 'idle', 1, now() - interval '3 minutes', true), "
                             "($1, 'live', 1, now() + interval '1 hour', true)", kind)
    app = create_app(dataclasses.replace(settings, housekeeping_interval=1), target=db_target)
    app[BORDER_SETTINGS] = BorderSettings(purge_interval=0, reconcile_interval=0, screening=False,
                                          snapshot_interval=0)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            left = await owner_conn.fetchval(
                "SELECT (SELECT count(*) FROM idempotency_keys WHERE key = $1)"
                " + (SELECT count(*) FROM rate_buckets WHERE kind = $2 AND key = 'idle')", key, kind)
            if not left:
                break
            await asyncio.sleep(0.3)
    finally:
        await server.close()
    assert await owner_conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 0
    assert [bytes(r["key"]) for r in await owner_conn.fetch("SELECT key FROM rate_buckets WHERE kind = $1", kind)] \
        == [b"live"]


@pytest.mark.parametrize(("name", "value"), [("EXCHANGE_IDEMPOTENCY_TTL_HOURS", "0"),
                                             ("EXCHANGE_IDEMPOTENCY_TTL_HOURS", "721"),
                                             ("EXCHANGE_HOUSEKEEPING_INTERVAL", "-1"),
                                             ("EXCHANGE_HOUSEKEEPING_INTERVAL", "soon")])
def test_bad_settings_are_refused_by_name(name, value):
    with pytest.raises(ConfigError) as err:
        Settings.from_env({name: value})
    assert str(err.value).startswith(name)


def test_defaults():
    s = Settings.from_env({})
    assert (s.idempotency_ttl, s.housekeeping_interval) == (DAY, 600)
    assert Settings.from_env({"EXCHANGE_IDEMPOTENCY_TTL_HOURS": "2"}).idempotency_ttl == dt.timedelta(hours=2)
