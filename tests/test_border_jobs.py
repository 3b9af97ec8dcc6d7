"""The border module's background work in a running service: the scheduled purge erases an old check by itself,
and the screening index is loaded at start-up."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from aiohttp.test_utils import TestServer

from exchange.app import create_app
from exchange.border.config import BORDER_SETTINGS, BorderSettings
from exchange.screening_index import SCREENING

from .test_border_support import family_body, register, submit, unique_word


async def test_scheduled_purge_runs_by_itself(client, officers, owner_conn, settings, db_target):
    pid = await register(client, officers["registrar"], {"names": [{"full": unique_word("Loaded")}]})
    old = (await submit(client, officers["immigration"], family_body()))["id"]
    await owner_conn.execute("UPDATE border_checks SET checked_at = now() - interval '100 days' WHERE id = $1",
                             uuid.UUID(old))
    app = create_app(settings, target=db_target)
    app[BORDER_SETTINGS] = BorderSettings(retention_days=90, purge_interval=1, reconcile_interval=0)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        await asyncio.wait_for(app[SCREENING].ready.wait(), 30)
        assert pid in app[SCREENING].versions
        deadline = asyncio.get_running_loop().time() + 20
        while asyncio.get_running_loop().time() < deadline:
            if await owner_conn.fetchval("SELECT purged_at FROM border_checks WHERE id = $1", uuid.UUID(old)):
                break
            await asyncio.sleep(0.3)
    finally:
        await server.close()
    row = await owner_conn.fetchrow("SELECT personal, purged_at FROM border_checks WHERE id = $1", uuid.UUID(old))
    assert row["personal"] is None and row["purged_at"] > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    job = await owner_conn.fetchval("SELECT username FROM audit_log WHERE action = 'border.purge' "
                                    "AND $1 = ANY(record_ids)", old)
    assert job == "border-retention-job"
