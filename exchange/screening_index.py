"""The service-side holder of the matching index (``matching.CandidateIndex``) over our register's active
records and the partners' active records (``partner_records``, received through the federation inbox).

One :class:`ScreeningIndex` per process. It is filled once from the database in the background at startup
(``load``), or restored from its encrypted snapshot on disk (``adopt``, ``exchange/screening_snapshot.py``) and
reconciled with the database, which takes seconds instead of minutes; then it is kept current from ``updated_at``
(``persons``, ``partner_records``) before every screening (``refresh``): one cheap query per source lists the
records changed since the last refresh, with an ``overlap`` window before the last look, because ``updated_at`` is
the time a transaction *started* and a slow one may commit after a later one. Rows whose version the index already
holds are skipped, withdrawn ones are removed, the rest are read and re-indexed. Because it reads the database and
not a message from the register code, it stays correct with several service processes: a change made by another
process is seen by the next check. A periodic ``reconcile`` compares every id and version, which also catches a
writer whose transaction outlived the overlap window.

Requests that arrive together share one refresh (``refreshed``): each waits for a refresh that *began* after it
arrived, so it still sees every change committed before it, but twenty officers submitting at once cost one or
two refreshes, not twenty in a row behind the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import Any

import asyncpg
from aiohttp import web

from matching.index import Candidate, CandidateIndex, gc_paused

from .errors import Unavailable
from .screening_snapshot import Snapshot

log = logging.getLogger(__name__)

BATCH = 2000
_YIELD_EVERY = 200
PARTNER_PREFIX = "partner:"  # index ids of partner records: partner:<country>:<record id>; ours are UUIDs

# The current version of our active persons, in the canonical shape the matching library reads.
_LOCAL = """
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
# The current version of the partners' active records (the verified record_upsert body holds the person).
_PARTNER = """
SELECT h.country::text AS country, h.record_id, h.current_version, v.body -> 'person' AS person
FROM partner_records h JOIN partner_record_versions v
  ON v.country = h.country AND v.record_id = h.record_id AND v.version = h.current_version
WHERE h.status = 'active'
"""


def _present(items: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if v is not None} for item in items or []]


def record_of(row: asyncpg.Record) -> dict[str, Any]:
    """One row of ``_LOCAL`` as the canonical person record (the id is the register's person id)."""
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


def partner_key(country: str, record_id: str) -> str:
    return f"{PARTNER_PREFIX}{country}:{record_id}"


def split_partner_key(key: str) -> tuple[str, str] | None:
    """(country, record id) of a partner record's index id; None for one of our records."""
    if not key.startswith(PARTNER_PREFIX):
        return None
    country, _, record_id = key[len(PARTNER_PREFIX):].partition(":")
    return country, record_id


def audit_ref(key: str) -> str:
    """How the audit log names a record: our person UUID, or ``<country>:<record id>`` for a partner's (as the
    federation's and the alert views' audit rows do), so one search by record id finds every row."""
    partner = split_partner_key(key)
    return key if partner is None else f"{partner[0]}:{partner[1]}"


def _partner_record(row: asyncpg.Record) -> dict[str, Any]:
    person = row["person"] if isinstance(row["person"], dict) else {}
    return {**person, "id": partner_key(row["country"], row["record_id"])}


class _Source:
    """Where one kind of record lives: our register or the partners' records (same refresh logic)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.watermark: dt.datetime | None = None

    def key(self, row: asyncpg.Record) -> str:
        if self.name == "local":
            return str(row["id"])
        return partner_key(row["country"], row["record_id"])

    def record(self, row: asyncpg.Record) -> dict[str, Any]:
        return record_of(row) if self.name == "local" else _partner_record(row)

    async def newest(self, conn: asyncpg.Connection) -> dt.datetime | None:
        table = "persons" if self.name == "local" else "partner_records"
        return await conn.fetchval(f"SELECT max(updated_at) FROM {table}")  # noqa: S608 (constant)

    async def page(self, conn: asyncpg.Connection, after: Any) -> list[asyncpg.Record]:
        if self.name == "local":
            return await conn.fetch(_LOCAL + " AND p.id > $1 ORDER BY p.id LIMIT $2", after or uuid.UUID(int=0),
                                    BATCH)
        country, record_id = after or ("", "")
        return await conn.fetch(_PARTNER + " AND (h.country::text, h.record_id) > ($1, $2) "
                                "ORDER BY h.country, h.record_id LIMIT $3", country, record_id, BATCH)

    def after(self, row: asyncpg.Record) -> Any:
        return row["id"] if self.name == "local" else (row["country"], row["record_id"])

    async def changes(self, conn: asyncpg.Connection, since: dt.datetime) -> list[asyncpg.Record]:
        if self.name == "local":
            return await conn.fetch("SELECT id, status, current_version, updated_at FROM persons "
                                    "WHERE updated_at > $1", since)
        return await conn.fetch("SELECT country::text AS country, record_id, status, current_version, updated_at "
                                "FROM partner_records WHERE updated_at > $1", since)

    async def active(self, conn: asyncpg.Connection) -> list[asyncpg.Record]:
        if self.name == "local":
            return await conn.fetch("SELECT id, current_version FROM persons WHERE status = 'active'")
        return await conn.fetch("SELECT country::text AS country, record_id, current_version FROM partner_records "
                                "WHERE status = 'active'")

    async def fetch(self, conn: asyncpg.Connection, keys: list[str]) -> list[asyncpg.Record]:
        if self.name == "local":
            return await conn.fetch(_LOCAL + " AND p.id = ANY($1::uuid[])", [uuid.UUID(k) for k in keys])
        pairs = [split_partner_key(k) for k in keys]
        by_keys = _PARTNER + " AND (h.country::text, h.record_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))"  # noqa: S608
        return await conn.fetch(by_keys, [p[0] for p in pairs if p], [p[1] for p in pairs if p])


class ScreeningIndex:
    """Our register's and the partners' active records in one ``CandidateIndex``, with each one's version."""

    def __init__(self, overlap: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        self.index = CandidateIndex()
        self.versions: dict[str, int] = {}
        self.overlap = overlap
        self.sources = (_Source("local"), _Source("partner"))
        self.looked_at: dt.datetime | None = None
        self.ready = asyncio.Event()
        self.changes = 0  # records (re-)indexed or dropped: a snapshot is due when this moved since the last
        self._lock = asyncio.Lock()
        self._running: asyncio.Task[int] | None = None  # the shared refresh reading the database now
        self._queued: asyncio.Task[int] | None = None   # the next one, joined by every request arriving meanwhile

    def __len__(self) -> int:
        return len(self.index)

    def _since(self, source: _Source) -> dt.datetime:
        if source.watermark is None or self.looked_at is None:
            return dt.datetime.min.replace(tzinfo=dt.UTC)
        return min(source.watermark, self.looked_at - self.overlap)

    async def _put(self, source: _Source, rows: list[asyncpg.Record]) -> None:
        for i, row in enumerate(rows):
            self.index.replace(source.record(row))
            self.versions[source.key(row)] = row["current_version"]
            self.changes += 1
            if i % _YIELD_EVERY == _YIELD_EVERY - 1:
                await asyncio.sleep(0)  # preparing names is CPU work: let requests through

    def _drop(self, key: str) -> None:
        self.index.remove(key)
        self.versions.pop(key, None)
        self.changes += 1

    @contextlib.asynccontextmanager
    async def locked(self) -> AsyncIterator[tuple[Snapshot, int]]:
        """The index as it is, with its change count, while no refresh or reconcile can change it (for a forked
        snapshot writer: the fork copies this moment). The state is by reference: read it, never change it."""
        async with self._lock:
            yield Snapshot(self.index.export_state(), self.versions,
                           {source.name: source.watermark for source in self.sources}, self.looked_at), self.changes

    async def adopt(self, snap: Snapshot) -> None:
        """Replace the contents with a restored snapshot (not yet ready: reconcile, then ``mark_ready``)."""
        index = CandidateIndex.from_state(snap.index, self.index.model)
        async with self._lock:
            self.index, self.versions, self.looked_at, self.changes = index, snap.versions, snap.looked_at, 0
            for source in self.sources:
                source.watermark = snap.watermarks.get(source.name)

    def mark_ready(self) -> None:
        """Let screening begin. Millions of long-lived index objects would make every full garbage collection
        walk them all (seconds at a million records, stalling every request): move them out of its sight."""
        gc.collect()
        gc.freeze()
        self.ready.set()

    async def load(self, pool: asyncpg.Pool) -> None:
        """Fill the index from the database in batches of ``BATCH`` (keyset pages), then mark it ready."""
        async with self._lock:
            async with pool.acquire() as conn:
                self.looked_at = await conn.fetchval("SELECT now()")
                for source in self.sources:
                    source.watermark = await source.newest(conn) or self.looked_at
            # The cyclic collector is paused while the index fills (as CandidateIndex.add_many does): each full
            # collection would walk every object indexed so far, about a fifth of the build time; reference
            # counting still frees garbage, and the gc.collect() below catches any cycle made meanwhile.
            with gc_paused():
                for source in self.sources:
                    after = None
                    while True:
                        async with pool.acquire() as conn:
                            rows = await source.page(conn, after)
                        if not rows:
                            break
                        await self._put(source, rows)
                        after = source.after(rows[-1])
            self.mark_ready()
        log.info("screening index loaded", extra={"fields": {"records": len(self.index)}})

    async def refresh(self, conn: asyncpg.Connection) -> int:
        """Apply the changes since the last refresh; returns how many records were (re-)indexed.

        A change committed since the last look has ``updated_at`` after the newest one seen then, unless its
        transaction started before that look and was still running: such a change is at most ``overlap`` older
        than the last look, so the window re-read is ``min(watermark, last look - overlap)``. Rows re-read
        whose version the index holds cost one dict lookup.
        """
        changed = 0
        async with self._lock:
            since = {source.name: self._since(source) for source in self.sources}
            self.looked_at = await conn.fetchval("SELECT now()")
            for source in self.sources:
                stale = []
                for row in await source.changes(conn, since[source.name]):
                    key = source.key(row)
                    if row["status"] != "active":
                        if key in self.versions:
                            self._drop(key)
                    elif self.versions.get(key) != row["current_version"]:
                        stale.append(key)
                    if source.watermark is None or row["updated_at"] > source.watermark:
                        source.watermark = row["updated_at"]
                if stale:
                    await self._put(source, await source.fetch(conn, stale))
                changed += len(stale)
        return changed

    async def until_ready(self, wait: float, message: str) -> None:
        """Wait for the load; past ``wait`` seconds, ``Unavailable`` (503, Retry-After) saying ``message``."""
        try:
            await asyncio.wait_for(self.ready.wait(), wait)
        except TimeoutError:
            raise Unavailable(message, headers={"Retry-After": "10"}) from None

    async def refreshed(self, pool: asyncpg.Pool) -> None:
        """Return once a refresh that began after this call has finished (requests arriving together share it).

        A refresh already reading may have missed a change committed a moment before this call, so a caller
        never joins it: it joins (or queues) the next one, which starts when the running one ends. An error of
        the shared refresh (the database is away) reaches every caller waiting for it.
        """
        if self._queued is None:
            self._queued = asyncio.create_task(self._refresh_after(self._running, pool))
        await asyncio.shield(self._queued)

    async def _refresh_after(self, before: asyncio.Task[int] | None, pool: asyncpg.Pool) -> int:
        if before is not None:
            await asyncio.wait([before])  # its outcome belongs to its own callers
        self._running, self._queued = self._queued, None
        try:
            async with pool.acquire() as conn:
                return await self.refresh(conn)
        finally:
            self._running = None

    async def reconcile(self, pool: asyncpg.Pool) -> int:
        """Compare every id and version with the database and repair the differences (periodic, cheap)."""
        repaired = 0
        for source in self.sources:
            async with pool.acquire() as conn:
                current = {source.key(r): r["current_version"] for r in await source.active(conn)}
            async with self._lock:
                mine = [k for k in self.versions if (split_partner_key(k) is None) == (source.name == "local")]
                gone = [k for k in mine if k not in current]
                for key in gone:
                    self._drop(key)
                stale = [k for k, version in current.items() if self.versions.get(k) != version]
                for start in range(0, len(stale), BATCH):
                    async with pool.acquire() as conn:
                        await self._put(source, await source.fetch(conn, stale[start:start + BATCH]))
            repaired += len(gone) + len(stale)
        return repaired

    def query(self, record: dict[str, Any], limit: int, threshold: float) -> list[Candidate]:
        return self.index.query(record, limit=limit, threshold=threshold)


SCREENING = web.AppKey("screening_index", ScreeningIndex)

