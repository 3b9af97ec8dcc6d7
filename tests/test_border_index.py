"""The screening index follows the register through the database: new, replaced and withdrawn records after
a refresh, a change whose transaction started before the last look (inside the overlap window), and one that
only the periodic reconcile can see (outside the window)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from exchange.database import create_pool
from exchange.screening_index import ScreeningIndex


async def _insert(conn, pid: uuid.UUID, family: str, updated_at: dt.datetime, version: int = 1) -> None:
    if version == 1:
        await conn.execute("INSERT INTO persons (id, status, current_version, created_at, updated_at) "
                           "VALUES ($1, 'active', 1, $2, $2)", pid, updated_at)
    else:
        await conn.execute("UPDATE persons SET current_version = $2, updated_at = $3 WHERE id = $1",
                           pid, version, updated_at)
    await conn.execute("INSERT INTO record_versions (person_id, version, status, birth_date, birth_precision) "
                       "VALUES ($1, $2, 'active', '1970-05-06', 'day')", pid, version)
    await conn.execute("INSERT INTO person_names (person_id, version, ordinal, family, given, full_name, kind) "
                       "VALUES ($1, $2, 0, $3, 'Phalla', $3 || ' Phalla', 'primary')", pid, version, family)


def _names(holder: ScreeningIndex, pid: uuid.UUID) -> list[str]:
    p = holder.index.get(str(pid))
    return [] if p is None else sorted(p.name_tokens)


@pytest.fixture
async def pool(db_target):
    made = await create_pool(db_target.owner_dsn, min_size=1, max_size=3)
    try:
        yield made
    finally:
        await made.close()


async def test_index_follows_the_register(pool, owner_conn):
    holder = ScreeningIndex(overlap=dt.timedelta(seconds=30))
    await holder.load(pool)
    assert holder.ready.is_set()
    base = len(holder)
    pid = uuid.uuid4()
    async with owner_conn.transaction():
        await _insert(owner_conn, pid, "Ravuthxq", dt.datetime.now(dt.UTC))
    async with pool.acquire() as conn:
        assert await holder.refresh(conn) == 1
        assert "ravuthxq" in " ".join(_names(holder, pid)) and len(holder) == base + 1
        assert await holder.refresh(conn) == 0                         # nothing new: nothing re-read
        async with owner_conn.transaction():
            await _insert(owner_conn, pid, "Sovannzq", dt.datetime.now(dt.UTC), version=2)
        await holder.refresh(conn)
        assert holder.versions[str(pid)] == 2 and "sovannzq" in " ".join(_names(holder, pid))
        await owner_conn.execute("UPDATE persons SET status = 'withdrawn', updated_at = now() WHERE id = $1", pid)
        await holder.refresh(conn)
        assert str(pid) not in holder.versions and holder.index.get(str(pid)) is None


async def test_slow_writer_inside_the_overlap_is_seen_and_outside_it_reconcile_repairs(pool, owner_conn):
    holder = ScreeningIndex(overlap=dt.timedelta(seconds=30))
    await holder.load(pool)
    async with pool.acquire() as conn:
        await holder.refresh(conn)
        # a transaction that started 10 s before our last look and commits only now
        slow = uuid.uuid4()
        async with owner_conn.transaction():
            await _insert(owner_conn, slow, "Bunthoeunzq", holder.looked_at - dt.timedelta(seconds=10))
        await holder.refresh(conn)
        assert str(slow) in holder.versions
        # one that started long before (beyond the window): only the reconcile finds it
        lost = uuid.uuid4()
        async with owner_conn.transaction():
            await _insert(owner_conn, lost, "Vireakzq", holder.looked_at - dt.timedelta(hours=2))
        await holder.refresh(conn)
        assert str(lost) not in holder.versions
    assert await holder.reconcile(pool) >= 1
    assert str(lost) in holder.versions
