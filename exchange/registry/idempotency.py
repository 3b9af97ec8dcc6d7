"""``Idempotency-Key`` for ``POST /records`` (SECURITY.md F3: a lost reply and a retry give one row).

A key belongs to one user. The first request with a key stores, in its own transaction, the SHA-256 of what
it asked (method, path and the RFC 8785 canonical form of the parsed body) and the answer it gave. The answer
is known before anything is written because the record id is chosen by the service, so the key row is
claimed first: a concurrent retry with the same key waits on that row, then finds it and replays the answer.
A retry with the same body gets the stored answer and writes nothing; a different body is a 409.

A key lives ``EXCHANGE_IDEMPOTENCY_TTL_HOURS`` (24 h, as Stripe's do): a retry is minutes away, not days. After
that the key is free again (a request with it is a new request) and ``purge_expired`` deletes the row; the
service runs it every ``EXCHANGE_HOUSEKEEPING_INTERVAL`` seconds (``exchange.housekeeping``). The rows hold no
personal data in clear (a record id and version, and a hash of the body), but they would otherwise grow without
end and keep a fingerprint of every body ever sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
import rfc8785
from aiohttp import web

from ..errors import BadRequest, Conflict, ErrorCode

HEADER = "Idempotency-Key"
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", re.ASCII)


@dataclass(frozen=True)
class Stored:
    status: int
    response: dict[str, Any]


def key_of(request: web.Request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    if not _KEY.fullmatch(raw):
        raise BadRequest("Idempotency-Key must be 1-128 ASCII letters, digits, '.', '_', ':' or '-'",
                         code=ErrorCode.INVALID_PARAMETER, field=HEADER)
    return raw


def request_hash(method: str, path: str, body: Any) -> bytes:
    return hashlib.sha256(f"{method} {path}\n".encode() + rfc8785.dumps(body)).digest()


async def claim(conn: asyncpg.Connection, user_id: int, key: str, digest: bytes, status: int,
                response: dict[str, Any], ttl: dt.timedelta) -> Stored | None:
    """Claim ``key`` for this request (None: go ahead) or return the answer stored by the first request.

    A key claimed more than ``ttl`` ago has expired: it is claimed again, as if new. Raises ``Conflict``
    (409 ``idempotency_mismatch``) when the key was used for a different request within ``ttl``.
    """
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (user_id, key, request_hash, status, response)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (user_id, key) DO UPDATE
               SET request_hash = EXCLUDED.request_hash, status = EXCLUDED.status, response = EXCLUDED.response,
                   created_at = now()
               WHERE idempotency_keys.created_at <= now() - $6::interval
           RETURNING true""",
        user_id, key, digest, status, response, ttl)
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user_id, key)
    if row is None:  # pragma: no cover - the conflicting row is locked by the upsert until this transaction ends
        raise Conflict("the idempotency key is in use; retry", code=ErrorCode.IDEMPOTENCY_MISMATCH, field=HEADER)
    if bytes(row["request_hash"]) != digest:
        raise Conflict("this Idempotency-Key was already used for a different request",
                       code=ErrorCode.IDEMPOTENCY_MISMATCH, field=HEADER)
    return Stored(row["status"], row["response"])


_PURGE = """
WITH gone AS (
    DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM idempotency_keys WHERE created_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED))
    RETURNING 1)
SELECT count(*) FROM gone
"""


async def purge_expired(conn: asyncpg.Connection, ttl: dt.timedelta, now: dt.datetime | None = None,
                        batch: int = 1000, max_batches: int = 1000) -> int:
    """Delete the keys claimed more than ``ttl`` before ``now``, in batches of ``batch`` rows, each its own
    short transaction (rows a request holds are skipped, not waited for); stops by itself after
    ``max_batches``. Returns how many rows went."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - ttl
    total = 0
    for _ in range(max_batches):
        async with conn.transaction():
            gone = await conn.fetchval(_PURGE, cutoff, batch)
        total += gone
        if gone < batch:
            break
    return total
