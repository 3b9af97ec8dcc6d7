"""The audit log: one row per read, write, search, disclosure or denial, written in the caller's transaction.

Rows are chained for tamper evidence: ``hash = SHA-256(prev_hash || JCS(row))`` where JCS is the RFC 8785
canonical JSON of the row's fields. The chain is built by ``seal`` after the writing transactions have ended
(``audit_chain``, in the order rows are sealed), not inside them: a write only inserts its row and a marker in
``audit_pending``, so audited requests never queue behind one another's commits. The service seals every
second; ``verify`` seals first, then recomputes the whole chain and reports the first link that does not fit
(a changed field, a removed or reordered row) and any row that is neither sealed nor pending.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import rfc8785

log = logging.getLogger(__name__)

GENESIS = b"\x00" * 32
SEAL_INTERVAL = 1.0
_CHAIN_LOCK = 7_310_428_002


@dataclass
class Actor:
    """Who is acting, as the audit log records it."""

    user_id: int | None = None
    username: str | None = None
    role: str | None = None
    border_point: str | None = None
    request_id: str | None = None
    purpose: str | None = None
    case_ref: str | None = None


@dataclass
class Entry:
    action: str
    outcome: str = "ok"
    record_ids: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)


def _payload(at: dt.datetime, actor: Actor, entry: Entry) -> dict[str, Any]:
    return {
        "at": at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "request_id": actor.request_id, "user_id": actor.user_id, "username": actor.username,
        "role": actor.role, "border_point": actor.border_point, "purpose": actor.purpose,
        "case_ref": actor.case_ref, "action": entry.action, "outcome": entry.outcome,
        "record_ids": list(entry.record_ids), "detail": entry.detail,
    }


def chain_hash(prev: bytes, payload: dict[str, Any]) -> bytes:
    return hashlib.sha256(prev + rfc8785.dumps(payload)).digest()


async def write(conn: asyncpg.Connection, actor: Actor, entry: Entry) -> int:
    """Append one audit row inside the caller's transaction; returns its id."""
    if not conn.is_in_transaction():
        raise RuntimeError("audit.write must run inside the transaction of the change it records")
    at = dt.datetime.now(dt.UTC)
    return await conn.fetchval(
        """WITH row AS (
               INSERT INTO audit_log (at, request_id, user_id, username, role, border_point, purpose, case_ref,
                                      action, outcome, record_ids, detail)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id)
           INSERT INTO audit_pending (audit_id) SELECT id FROM row RETURNING audit_id""",
        at, actor.request_id, actor.user_id, actor.username, actor.role, actor.border_point, actor.purpose,
        actor.case_ref, entry.action, entry.outcome, list(entry.record_ids), entry.detail)


async def write_alone(pool: asyncpg.Pool, actor: Actor, entry: Entry) -> None:
    """Audit an event that changes nothing else (a denial, a failed login) in its own transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await write(conn, actor, entry)


def _row_payload(row: asyncpg.Record) -> dict[str, Any]:
    actor = Actor(row["user_id"], row["username"], row["role"], row["border_point"], row["request_id"],
                  row["purpose"], row["case_ref"])
    return _payload(row["at"], actor, Entry(row["action"], row["outcome"], list(row["record_ids"]), row["detail"]))


async def seal(conn: asyncpg.Connection, batch: int = 2000) -> int:
    """Chain the pending rows whose transactions have ended; returns how many were sealed.

    One sealer at a time (a transaction-scoped advisory lock; a second caller returns 0 at once). A row is taken
    only when its writing transaction is older than every transaction still running, so it has committed (or
    rolled back, and then it is not visible): no row can later appear behind the chain's end unsealed.
    """
    sealed = 0
    while True:
        async with conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _CHAIN_LOCK):
                return sealed
            rows = await conn.fetch(
                """SELECT a.* FROM audit_pending p JOIN audit_log a ON a.id = p.audit_id
                   WHERE a.xact < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY a.id LIMIT $1""", batch)
            if not rows:
                return sealed
            last = await conn.fetchrow("SELECT seq, hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
            seq, prev = (last["seq"], bytes(last["hash"])) if last else (0, GENESIS)
            links = []
            for row in rows:
                seq += 1
                digest = chain_hash(prev, _row_payload(row))
                links.append((seq, row["id"], prev, digest))
                prev = digest
            await conn.executemany(
                "INSERT INTO audit_chain (seq, audit_id, prev_hash, hash) VALUES ($1, $2, $3, $4)", links)
            await conn.execute("DELETE FROM audit_pending WHERE audit_id = ANY($1::bigint[])",
                               [row["id"] for row in rows])
            sealed += len(rows)


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None
    pending: int = 0


async def walk(conn: asyncpg.Connection, after_seq: int, prev: bytes, end: int = 2**63 - 1,
               batch: int = 5000) -> tuple[int, int | None, str | None]:
    """Recompute links ``after_seq + 1 ..`` (up to link ``end``) from ``prev``, the stored hash of link ``after_seq``.

    Returns the last link that fits, and the first bad row's id and the reason when one does not.
    """
    last_seq = after_seq
    while last_seq < end:
        rows = await conn.fetch(
            """SELECT c.seq, c.prev_hash, c.hash, a.* FROM audit_chain c LEFT JOIN audit_log a ON a.id = c.audit_id
               WHERE c.seq > $1 AND c.seq <= $2 ORDER BY c.seq LIMIT $3""", last_seq, end, batch)
        if not rows:
            break
        for row in rows:
            if row["seq"] != last_seq + 1 or bytes(row["prev_hash"]) != prev:
                return last_seq, row["id"], "previous-hash link broken (row removed or reordered)"
            if row["id"] is None:
                return last_seq, None, f"chain entry {row['seq']} has lost its audit row"
            if chain_hash(prev, _row_payload(row)) != bytes(row["hash"]):
                return last_seq, row["id"], "row content does not match its hash"
            prev, last_seq = bytes(row["hash"]), row["seq"]
    return last_seq, None, None


async def unchained(conn: asyncpg.Connection) -> int | None:
    """The first row that is neither sealed nor pending (its marker was removed), if any."""
    return await conn.fetchval(
        """SELECT min(a.id) FROM audit_log a
           WHERE NOT EXISTS (SELECT 1 FROM audit_chain c WHERE c.audit_id = a.id)
             AND NOT EXISTS (SELECT 1 FROM audit_pending p WHERE p.audit_id = a.id)""")


UNCHAINED = "row is neither sealed nor pending (its marker was removed)"


async def verify(conn: asyncpg.Connection, batch: int = 5000) -> VerifyResult:
    """Seal what can be sealed, then recompute the chain from its start and look for unchained rows."""
    await seal(conn)
    count, bad_id, reason = await walk(conn, 0, GENESIS, batch=batch)
    if reason:
        return VerifyResult(False, count, bad_id, reason)
    orphan = await unchained(conn)
    if orphan is not None:
        return VerifyResult(False, count, orphan, UNCHAINED)
    pending = await conn.fetchval("SELECT count(*) FROM audit_pending")
    return VerifyResult(True, count, pending=pending)


async def seal_loop(pool: asyncpg.Pool, every: float = SEAL_INTERVAL) -> None:
    """The service's sealer: seals pending rows every ``every`` seconds until cancelled."""
    while True:
        try:
            async with pool.acquire() as conn:
                await seal(conn)
        except Exception:  # the database may be away for a while: keep trying (cancellation is not an Exception)
            log.exception("audit sealing failed; retrying")
        await asyncio.sleep(every)
