"""The migration runner: applies steps in order, keeps data, refuses newer schemas and edited steps."""

from __future__ import annotations

import pytest

from exchange.database import connect
from exchange.migrate import Migration, MigrationError, installed_version, load_migrations, migrate

from .conftest import fresh_database


async def test_migrating_a_database_that_holds_data(pg_cluster):
    steps = load_migrations()
    assert len(steps) >= 2
    async with fresh_database(pg_cluster, "migr") as name:
        dsn = pg_cluster.dsn(name)
        assert await migrate(dsn, target=1) == [1]
        conn = await connect(dsn)
        try:
            await conn.execute(
                """INSERT INTO users (username, role, password_hash, totp_secret)
                   VALUES ('old-user', 'registrar', 'x', 'y')""")
            await conn.execute(
                """INSERT INTO audit_log (action, outcome, prev_hash, hash)
                   VALUES ('old', 'ok', '\\x00'::bytea, '\\x01'::bytea)""")
            applied = await migrate(dsn)
            assert applied == [s.version for s in steps[1:]]
            assert await installed_version(conn) == steps[-1].version
            assert await conn.fetchval("SELECT count(*) FROM users WHERE username = 'old-user'") == 1
            assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'old'") == 1
            # the chain written before sealing moved (0007) into audit_chain with the same hash
            assert await conn.fetchval(
                "SELECT hash FROM audit_chain c JOIN audit_log a ON a.id = c.audit_id WHERE a.action = 'old'"
            ) == b"\x01"
            # the new tables work with the old rows
            user_id = await conn.fetchval("SELECT id FROM users WHERE username = 'old-user'")
            await conn.execute("INSERT INTO persons (current_version) VALUES (1)")
            assert user_id is not None
            # running again applies nothing
            assert await migrate(dsn) == []
        finally:
            await conn.close()


async def test_refuses_a_schema_newer_than_the_code(pg_cluster):
    steps = load_migrations()
    async with fresh_database(pg_cluster, "migr") as name:
        dsn = pg_cluster.dsn(name)
        extra = [*steps, Migration(len(steps) + 1, "future", "CREATE TABLE future_thing (id int);")]
        await migrate(dsn, migrations=extra)
        with pytest.raises(MigrationError, match="newer than this code knows"):
            await migrate(dsn, migrations=steps)


async def test_refuses_an_applied_step_that_was_edited(pg_cluster):
    steps = load_migrations()
    async with fresh_database(pg_cluster, "migr") as name:
        dsn = pg_cluster.dsn(name)
        await migrate(dsn, migrations=steps[:1])
        edited = [Migration(1, steps[0].name, steps[0].sql + "\n-- edited\n")]
        with pytest.raises(MigrationError, match="has changed"):
            await migrate(dsn, migrations=edited)


async def test_a_failing_step_leaves_the_previous_version(pg_cluster):
    steps = load_migrations()
    async with fresh_database(pg_cluster, "migr") as name:
        dsn = pg_cluster.dsn(name)
        broken = [*steps, Migration(len(steps) + 1, "broken", "CREATE TABLE t1 (id int); SELECT 1/0;")]
        with pytest.raises(Exception, match="division by zero"):
            await migrate(dsn, migrations=broken)
        conn = await connect(dsn)
        try:
            assert await installed_version(conn) == steps[-1].version
            assert await conn.fetchval("SELECT to_regclass('public.t1')") is None
        finally:
            await conn.close()
