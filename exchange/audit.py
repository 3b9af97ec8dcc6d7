"""The audit log: one row per read, write, search, disclosure or denial, written in the caller's transaction.

Rows form a hash chain: ``hash = SHA-256(prev_hash || JCS(row))`` where JCS is the RFC 8785 canonical JSON
of the row's fields. Appends take a transaction-scoped advisory lock so the chain is linear; the lock is held
only from the audit insert to the commit, so callers write their audit row last. ``verify`` recomputes the
chain and reports the first row that does not fit (a changed field, a removed or reordered row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import rfc8785

GENESIS = b"\x00" * 32
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
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
    prev = await conn.fetchval("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1") or GENESIS
    at = dt.datetime.now(dt.UTC)
    payload = _payload(at, actor, entry)
    digest = chain_hash(prev, payload)
    return await conn.fetchval(
        """INSERT INTO audit_log (at, request_id, user_id, username, role, border_point, purpose, case_ref,
               action, outcome, record_ids, detail, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id""",
        at, actor.request_id, actor.user_id, actor.username, actor.role, actor.border_point, actor.purpose,
        actor.case_ref, entry.action, entry.outcome, payload["record_ids"], entry.detail, prev, digest)


async def write_alone(pool: asyncpg.Pool, actor: Actor, entry: Entry) -> None:
    """Audit an event that changes nothing else (a denial, a failed login) in its own transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await write(conn, actor, entry)


@dataclass
class VerifyResult:
    ok: bool
    rows: int
    first_bad_id: int | None = None
    reason: str | None = None


async def verify(conn: asyncpg.Connection, batch: int = 5000) -> VerifyResult:
    """Recompute the chain from the first row; stop at the first row that does not fit."""
    prev = GENESIS
    last_id = 0
    count = 0
    while True:
        rows = await conn.fetch("SELECT * FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2", last_id, batch)
        if not rows:
            return VerifyResult(True, count)
        for row in rows:
            actor = Actor(row["user_id"], row["username"], row["role"], row["border_point"], row["request_id"],
                          row["purpose"], row["case_ref"])
            entry = Entry(row["action"], row["outcome"], list(row["record_ids"]), row["detail"])
            if bytes(row["prev_hash"]) != prev:
                return VerifyResult(False, count, row["id"], "previous-hash link broken (row removed or reordered)")
            if chain_hash(prev, _payload(row["at"], actor, entry)) != bytes(row["hash"]):
                return VerifyResult(False, count, row["id"], "row content does not match its hash")
            prev = bytes(row["hash"])
            last_id = row["id"]
            count += 1
