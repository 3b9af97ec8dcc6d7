"""The service-side holder of the matching index over the register's active records (``matching.CandidateIndex``).

One :class:`ScreeningIndex` per process. It is filled once from the database in the background at startup
(``load``), then kept current from ``persons.updated_at`` before every screening (``refresh``): one cheap
query lists the persons changed since the last refresh, with an ``overlap`` window before the last look,
because ``updated_at`` is the time a transaction *started* and a slow one may commit after a later one.
Rows whose version the index already holds are skipped, withdrawn ones are removed, the rest are read and
re-indexed. Because it reads the database and not a message from the register code, it stays correct with
several service processes: a register change made by another process is seen by the next check.
``on_record_changed(app, person_id)`` is a hook the register may call to update this process at once.
A periodic ``reconcile`` compares every id and version, which also catches a writer whose transaction
outlived the overlap window.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import asyncpg
from aiohttp import web

from matching.index import Candidate, CandidateIndex

log = logging.getLogger(__name__)

BATCH = 2000
_YIELD_EVERY = 200

# The current version of active persons, in the canonical shape the matching library reads.
_RECORDS = """
SELECT p.id, p.current_version, v.sex, v.birth_date, v.nationalities, v.addresses,
       (SELECT json_agg(json_build_object('family', n.family, 'given', n.given, 'full', n.full_name,
                                          'script', n.script, 'kind', n.kind) ORDER BY n.ordinal)
          FROM person_names n WHERE n.person_id = p.id AND n.version = p.current_version) AS names,
       (SELECT json_agg(json_build_object('kind', d.kind, 'number', d.number, 'country', d.country,
                                          'expires', d.expires, 'mrz', d.mrz) ORDER BY d.ordinal)
          FROM person_documents d WHERE d.person_id = p.id AND d.version = p.current_version) AS documents
FROM persons p JOIN record_versions v ON v.person_id = p.id AND v.version = p.current_version
WHERE p.status = 'active'
"""


def _present(items: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if v is not None} for item in items or []]


def record_of(row: asyncpg.Record) -> dict[str, Any]:
    """One database row as the canonical person record (the id is the register's person id)."""
    out: dict[str, Any] = {"id": str(row["id"]), "names": _present(row["names"])}
    for key in ("sex", "birth_date"):
        if row[key] is not None:
            out[key] = row[key]
    if row["nationalities"]:
        out["nationalities"] = list(row["nationalities"])
    if row["documents"]:
        out["documents"] = _present(row["documents"])
    if row["addresses"]:
        out["addresses"] = row["addresses"]
    return out


class ScreeningIndex:
    """The register's active records in a ``CandidateIndex``, with the version of each one."""

    def __init__(self, overlap: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        self.index = CandidateIndex()
        self.versions: dict[str, int] = {}
        self.overlap = overlap
        self.watermark: dt.datetime | None = None
        self.looked_at: dt.datetime | None = None
        self.ready = asyncio.Event()
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self.index)

    def _since(self) -> dt.datetime:
        if self.watermark is None or self.looked_at is None:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        return min(self.watermark, self.looked_at - self.overlap)

    async def _put(self, rows: list[asyncpg.Record]) -> None:
        for i, row in enumerate(rows):
            self.index.replace(record_of(row))
            self.versions[str(row["id"])] = row["current_version"]
            if i % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # preparing names is CPU work: let requests through

    def _drop(self, pid: str) -> None:
        self.index.remove(pid)
        self.versions.pop(pid, None)

    async def load(self, pool: asyncpg.Pool) -> None:
        """Fill the index from the register in batches of ``BATCH`` (keyset on id), then mark it ready."""
        async with self._lock:
            async with pool.acquire() as conn:
                self.looked_at = await conn.fetchval("SELECT now()")
                self.watermark = await conn.fetchval("SELECT coalesce(max(updated_at), now()) FROM persons")
            after = uuid.UUID(int=0)
            while True:
                async with pool.acquire() as conn:
                    rows = await conn.fetch(_RECORDS + " AND p.id > $1 ORDER BY p.id LIMIT $2", after, BATCH)
                if not rows:
                    break
                await self._put(rows)
                after = rows[-1]["id"]
            self.ready.set()
        log.info("screening index loaded", extra={"fields": {"records": len(self.index)}})

    async def refresh(self, conn: asyncpg.Connection) -> int:
        """Apply the register changes since the last refresh; returns how many records changed.

        A change committed since the last look has ``updated_at`` after the newest one seen then, unless its
        transaction started before that look and was still running: such a change is at most ``overlap`` older
        than the last look, so the window re-read is ``min(watermark, last look - overlap)``. Rows re-read
        whose version the index holds cost one dict lookup.
        """
        async with self._lock:
            since = self._since()
            self.looked_at = await conn.fetchval("SELECT now()")
            rows = await conn.fetch(
                "SELECT id, status, current_version, updated_at FROM persons WHERE updated_at > $1", since)
            stale = []
            for row in rows:
                pid = str(row["id"])
                if row["status"] != "active":
                    if pid in self.versions:
                        self._drop(pid)
                elif self.versions.get(pid) != row["current_version"]:
                    stale.append(row["id"])
                if self.watermark is None or row["updated_at"] > self.watermark:
                    self.watermark = row["updated_at"]
            if stale:
                await self._put(await conn.fetch(_RECORDS + " AND p.id = ANY($1::uuid[])", stale))
            return len(stale)

    async def reconcile(self, pool: asyncpg.Pool) -> int:
        """Compare every id and version with the database and repair the differences (periodic, cheap)."""
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT id, current_version FROM persons WHERE status = 'active'")
        current = {str(r["id"]): r["current_version"] for r in rows}
        async with self._lock:
            gone = [pid for pid in self.versions if pid not in current]
            for pid in gone:
                self._drop(pid)
            stale = [uuid.UUID(pid) for pid, version in current.items() if self.versions.get(pid) != version]
            for start in range(0, len(stale), BATCH):
                async with pool.acquire() as conn:
                    await self._put(await conn.fetch(_RECORDS + " AND p.id = ANY($1::uuid[])",
                                                     stale[start:start + BATCH]))
        return len(gone) + len(stale)

    async def update_one(self, conn: asyncpg.Connection, person_id: uuid.UUID) -> None:
        async with self._lock:
            rows = await conn.fetch(_RECORDS + " AND p.id = $1", person_id)
            if rows:
                await self._put(rows)
            else:
                self._drop(str(person_id))

    def query(self, record: dict[str, Any], limit: int, threshold: float) -> list[Candidate]:
        return self.index.query(record, limit=limit, threshold=threshold)


SCREENING = web.AppKey("screening_index", ScreeningIndex)


async def on_record_changed(app: web.Application, person_id: uuid.UUID) -> None:
    """Hook for the register: re-read one person into this process's index after its change committed."""
    holder = app.get(SCREENING)
    if holder is None or not holder.ready.is_set():
        return  # not started, or still loading (the load will read the change)
    from .appkeys import POOL
    async with app[POOL].acquire() as conn:
        await holder.update_one(conn, person_id)
