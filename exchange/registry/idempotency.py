"""``Idempotency-Key`` for ``POST /records`` (SECURITY.md F3: a lost reply and a retry give one row).

A key belongs to one user. The first request with a key stores, in its own transaction, the SHA-256 of what
it asked (method, path and the RFC 8785 canonical form of the parsed body) and the answer it gave. The answer
is known before anything is written because the record id is chosen by the service, so the key row is
claimed first: a concurrent retry with the same key waits on that row, then finds it and replays the answer.
A retry with the same body gets the stored answer and writes nothing; a different body is a 409.
"""

from __future__ import annotations

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
                response: dict[str, Any]) -> Stored | None:
    """Claim ``key`` for this request (None: go ahead) or return the answer stored by the first request.

    Raises ``Conflict`` (409 ``idempotency_mismatch``) when the key was used for a different request.
    """
    claimed = await conn.fetchval(
        """INSERT INTO idempotency_keys (user_id, key, request_hash, status, response)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING RETURNING true""",
        user_id, key, digest, status, response)
    if claimed:
        return None
    row = await conn.fetchrow(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user_id, key)
    if row is None:  # pragma: no cover - the conflicting row cannot vanish: keys are never deleted here
        raise Conflict("the idempotency key is in use; retry", code=ErrorCode.IDEMPOTENCY_MISMATCH, field=HEADER)
    if bytes(row["request_hash"]) != digest:
        raise Conflict("this Idempotency-Key was already used for a different request",
                       code=ErrorCode.IDEMPOTENCY_MISMATCH, field=HEADER)
    return Stored(row["status"], row["response"])
