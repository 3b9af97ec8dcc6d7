"""The audit log: a row per access in the same transaction, append-only for the service role, a hash chain
that detects a changed, removed or reordered row; the auditor's read is itself audited."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
import pytest

from exchange import audit
from exchange.database import connect

from .conftest import fresh_database


@contextlib.asynccontextmanager
async def _audit_db(pg_cluster):
    """A fresh migrated database; yields ``open_(owner=False)``, which connects as the service role (or the owner).
    Every connection opened is closed at the end."""
    from exchange.migrate import migrate
    async with fresh_database(pg_cluster, "audit") as name, contextlib.AsyncExitStack() as stack:
        await migrate(pg_cluster.dsn(name))

        async def open_(owner=False):
            conn = await connect(pg_cluster.dsn(name) if owner else pg_cluster.dsn(name, "exchange_app"))
            stack.push_async_callback(conn.close)
            return conn
        yield open_


async def _settled(conn, expect_pending: int = 0) -> audit.VerifyResult:
    """``audit.verify`` once sealing has caught up. Rows are sealed only when every transaction of the cluster
    that started before them has ended (the snapshot's xmin is cluster-wide), and the session's service in another
    database of the same test cluster runs its own short transactions; so under load a row may wait a moment."""
    for _ in range(100):
        result = await audit.verify(conn)
        if result.pending <= expect_pending:
            return result
        await asyncio.sleep(0.1)
    return result


async def _seal_until(conn, expected: int) -> int:
    """Seal until ``expected`` rows were chained by this call series (bounded), and return how many were."""
    total = 0
    for _ in range(100):
        total += await audit.seal(conn)
        if total >= expected:
            break
        await asyncio.sleep(0.1)
    return total


async def _write(app, i):
    async with app.transaction():
        return await audit.write(app, audit.Actor(username=f"u{i}", role="liaison", purpose="investigation"),
                                 audit.Entry("record.read", record_ids=[f"r{i}"], detail={"n": i}))


async def test_chain_verifies_and_detects_a_tampered_row(pg_cluster):
    async with _audit_db(pg_cluster) as open_:
        app = await open_()
        owner = await open_(owner=True)
        for i in range(5):
            await _write(app, i)
        result = await _settled(app)
        assert result.ok and result.rows == 5 and result.pending == 0
        # only an insider with owner rights can change a row, and only by disabling the trigger first
        await owner.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
        await owner.execute("ALTER TABLE audit_chain DISABLE TRIGGER audit_chain_no_update")
        await owner.execute("UPDATE audit_log SET record_ids = '{someone-else}' WHERE id = 3")
        result = await audit.verify(app)
        assert not result.ok and result.first_bad_id == 3 and "content" in result.reason
        await owner.execute("UPDATE audit_log SET record_ids = '{r2}' WHERE id = 3")
        assert (await audit.verify(app)).ok
        # removing a row means removing its chain entry too (a foreign key holds it): the link breaks
        await owner.execute("DELETE FROM audit_chain WHERE audit_id = 2")
        await owner.execute("DELETE FROM audit_log WHERE id = 2")
        result = await audit.verify(app)
        assert not result.ok and result.first_bad_id == 3 and "link" in result.reason


async def test_rows_are_sealed_only_after_their_transaction_ends(pg_cluster):
    async with _audit_db(pg_cluster) as open_:
        app = await open_()
        slow = await open_()
        await _write(app, 0)
        tx = slow.transaction()
        await tx.start()
        slow_id = await audit.write(slow, audit.Actor(username="slow"), audit.Entry("record.read"))
        after_id = await _write(app, 1)  # commits after the slow one started, with a higher id
        assert await _seal_until(app, 1) == 1  # only row 0: the slow transaction may still commit before row 1
        assert await audit.seal(app) == 0  # still only row 0 while the slow one is open
        assert after_id > slow_id
        await tx.commit()
        assert await _seal_until(app, 2) == 2
        order = await app.fetch("SELECT audit_id FROM audit_chain ORDER BY seq")
        assert [r["audit_id"] for r in order][1:] == [slow_id, after_id]
        result = await _settled(app)
        assert result.ok and result.rows == 3


async def test_a_row_whose_pending_marker_was_removed_is_reported(pg_cluster):
    async with _audit_db(pg_cluster) as open_:
        app = await open_()
        await _write(app, 0)
        row_id = await _write(app, 1)
        await app.execute("DELETE FROM audit_pending WHERE audit_id = $1", row_id)  # the service role can
        result = await audit.verify(app)
        assert not result.ok and result.first_bad_id == row_id and "neither sealed nor pending" in result.reason


async def test_service_role_cannot_change_or_remove_audit_rows(pg_cluster):
    async with _audit_db(pg_cluster) as open_:
        app = await open_()
        async with app.transaction():
            await audit.write(app, audit.Actor(username="u"), audit.Entry("x"))
        await audit.seal(app)
        for sql in ("UPDATE audit_log SET outcome = 'changed'", "DELETE FROM audit_log",
                    "TRUNCATE audit_log", "UPDATE audit_chain SET hash = '\\x00'", "DELETE FROM audit_chain",
                    "TRUNCATE audit_chain"):
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                await app.execute(sql)
        assert await app.fetchval("SELECT count(*) FROM audit_log") == 1


async def test_audit_write_outside_a_transaction_is_refused(pg_cluster):
    async with _audit_db(pg_cluster) as open_:
        app = await open_()
        with pytest.raises(RuntimeError, match="inside the transaction"):
            await audit.write(app, audit.Actor(), audit.Entry("x"))


async def test_auditor_reads_the_log_and_the_read_is_audited(client, officers, owner_conn):
    auditor = officers["auditor"]
    before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'audit.read'")
    resp = await client.get("/api/v1/audit", params={"action": "auth.login", "limit": "5"},
                            headers=auditor.headers(purpose="audit", **{"X-Case-Ref": "AUD-2026/11"}))
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["items"] and all(item["action"] == "auth.login" for item in body["items"])
    row = await owner_conn.fetchrow("SELECT * FROM audit_log WHERE action = 'audit.read' ORDER BY id DESC LIMIT 1")
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'audit.read'") == before + 1
    assert row["username"] == auditor.username and row["purpose"] == "audit" and row["case_ref"] == "AUD-2026/11"


@pytest.mark.parametrize("params,field", [({"limit": "0"}, "limit"), ({"since": "yesterday"}, "since"),
                                          ({"bogus": "1"}, "bogus"), ({"after": "-1"}, "after"),
                                          ({"order": "sideways"}, "order"), ({"before": "0"}, "before"),
                                          ({"before": str(2**62 + 1)}, "before")])
async def test_audit_read_rejects_bad_parameters(client, officers, params, field):
    resp = await client.get("/api/v1/audit", params=params, headers=officers["auditor"].headers(purpose="audit"))
    assert resp.status == 400
    assert (await resp.json())["error"]["field"] == field


async def test_audit_read_newest_first_pages_back_with_before(client, officers, owner_conn):
    headers = officers["auditor"].headers(purpose="audit")
    while await owner_conn.fetchval("SELECT count(*) FROM audit_log") < 12:  # each read writes a row
        await client.get("/api/v1/audit", params={"limit": "1"}, headers=headers)
    latest = await owner_conn.fetchval("SELECT max(id) FROM audit_log")
    first = await (await client.get("/api/v1/audit", params={"order": "newest", "limit": "5"}, headers=headers)).json()
    ids = [item["id"] for item in first["items"]]
    assert first["order"] == "newest" and first["next_after"] is None
    assert ids == sorted(ids, reverse=True) and len(ids) == 5 and ids[0] >= latest  # the newest row first
    assert first["next_before"] == ids[-1]
    resp = await client.get("/api/v1/audit", params={"order": "newest", "before": str(ids[-1]), "limit": "5"},
                            headers=headers)
    second = [item["id"] for item in (await resp.json())["items"]]
    assert resp.status == 200 and second and max(second) < ids[-1] and second == sorted(second, reverse=True)
    expected = await owner_conn.fetch("SELECT id FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT 5", ids[-1])
    assert second == [r["id"] for r in expected]  # no row skipped between the pages
    read = await owner_conn.fetchrow(
        "SELECT detail FROM audit_log WHERE action = 'audit.read' ORDER BY id DESC LIMIT 1")
    assert read["detail"]["filters"] == {"order": "newest", "limit": "5"}  # the cursor is not a filter
    oldest = await (await client.get("/api/v1/audit", params={"limit": "3"}, headers=headers)).json()
    assert oldest["order"] == "oldest" and oldest["next_before"] is None
    assert [i["id"] for i in oldest["items"]] == sorted(i["id"] for i in oldest["items"])
    lo, hi = ids[-1], ids[0]  # both bounds: the rows strictly between, in either order
    stretch = await (await client.get("/api/v1/audit", params={"after": str(lo), "before": str(hi)},
                                      headers=headers)).json()
    assert [i["id"] for i in stretch["items"]] == sorted(ids[1:-1])


async def test_purpose_is_required_to_read_the_audit_log(client, officers):
    resp = await client.get("/api/v1/audit", headers=officers["auditor"].headers(purpose=None))
    assert resp.status == 400
    assert (await resp.json())["error"]["code"] == "missing_purpose"
    resp = await client.get("/api/v1/audit", headers=officers["auditor"].headers(purpose="curiosity"))
    assert (await resp.json())["error"]["code"] == "invalid_purpose"


async def test_audit_read_refuses_a_time_that_overflows(client, officers):
    resp = await client.get("/api/v1/audit", params={"since": "0001-01-01T00:00:00+01:00"},
                            headers=officers["auditor"].headers(purpose="audit"))
    assert resp.status == 400
    assert (await resp.json())["error"]["field"] == "since"
