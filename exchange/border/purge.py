"""Retention: erase the personal data of border checks older than the retention period (default 90 days).

A check is kept whole while one of its alerts is confirmed (it is evidence of a match) or still open (the
liaison desk has not decided yet). Otherwise its ``personal`` column (child, companions, consent letter,
hand-over persons, notes), its request hash and the explanations of its rejected alerts are erased; the
non-personal columns (post, time, direction, situation, group size, flags, recommendation, outcome) stay,
so the statistics do not change. Work goes in batches, each in its own short transaction with its audit row,
and stops by itself (``max_batches``). ``exchange border purge`` runs it by hand; the service runs it on a
schedule (``jobs``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import asyncpg

from .. import audit

_VICTIMS = """
WITH victims AS (
    SELECT c.id FROM border_checks c
    WHERE c.purged_at IS NULL AND c.checked_at < $1
      AND NOT EXISTS (SELECT 1 FROM border_alerts a WHERE a.check_id = c.id AND a.status IN ('confirmed', 'open'))
    ORDER BY c.checked_at LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE border_checks c SET personal = NULL, request_hash = NULL, purged_at = $3
FROM victims WHERE c.id = victims.id RETURNING c.id
"""


@dataclass(frozen=True)
class PurgeResult:
    checks: int
    alerts: int
    cutoff: dt.datetime


async def purge(conn: asyncpg.Connection, who: audit.Actor, retention_days: int, now: dt.datetime | None = None,
                batch: int = 1000, max_batches: int = 10_000) -> PurgeResult:
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=retention_days)
    checks = alerts = 0
    for _ in range(max_batches):
        async with conn.transaction():
            ids = [r["id"] for r in await conn.fetch(_VICTIMS, cutoff, batch, now)]
            if not ids:
                break
            erased = await conn.fetchval(
                """WITH e AS (UPDATE border_alerts SET explanation = NULL
                              WHERE check_id = ANY($1::uuid[]) AND explanation IS NOT NULL RETURNING 1)
                   SELECT count(*) FROM e""", ids)
            await audit.write(conn, who, audit.Entry(
                "border.purge", record_ids=[str(i) for i in ids],
                detail={"checks": len(ids), "alerts": erased, "retention_days": retention_days}))
        checks += len(ids)
        alerts += erased
        if len(ids) < batch:
            break
    return PurgeResult(checks, alerts, cutoff)
