"""Abuse limits: token buckets per officer (reads of personal data) and per username + client address (login),
and an alert when an account reads far more than it usually does.

A bucket holds ``rate`` tokens (one minute's worth, the allowed burst) and refills continuously at ``rate`` per
minute; a request takes one token or is refused with 429 ``rate_limited`` and ``Retry-After`` (whole seconds
until the next token). The usage watch keeps, per account, an exponentially weighted average of its reads per
completed minute (the "usual"); when the current minute's count passes ``max(ALERT_FLOOR, ALERT_FACTOR x
usual)`` the take says so once (then not again for ``ALERT_QUIET`` seconds) and the caller writes a
``security.alert`` audit row. Every read counts, refused ones included.

Both live in PostgreSQL (``rate_buckets`` and the function ``rate_take``, migration 0009), so every service
process behind a load balancer draws from the same bucket and watches the same count: the limit is the
setting, not the setting times the processes. A take is one call of ``rate_take`` (it locks the row, so
concurrent takes of one bucket queue), on its own, outside the request's transaction. The row's key is a hash
of what is limited, never the user name or address. ``purge_idle_buckets`` (run by the housekeeping job)
deletes a row once deleting it changes nothing: its bucket is full again and its usual has decayed to nothing.

Settings: ``EXCHANGE_SEARCH_RATE`` (reads per minute per officer) and ``EXCHANGE_LOGIN_RATE`` (attempts per
minute per username and address), read by ``exchange.config``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable
from dataclasses import dataclass

import asyncpg
from aiohttp import web

ALERT_FACTOR = 10.0  # a minute with this many times the usual reads is "far more than usual"
ALERT_FLOOR = 60  # ...and never fewer reads in a minute than this
ALERT_QUIET = 600.0  # seconds between two alerts for one account
EWMA_ALPHA = 0.2  # weight of the newest completed minute in the usual
IDLE_BUCKET = 120  # seconds after which a row may go (its bucket is full after 60)
NEGLIGIBLE_USUAL = 0.01  # reads a minute below which a decayed usual is forgotten


@dataclass(frozen=True)
class Taken:
    wait: int  # 0: allowed; else the seconds until the next token
    alert: bool  # this read made the account's minute unusual (only a watched bucket says so)


class SharedBuckets:
    """One token bucket per key, shared through PostgreSQL; ``await take(db, key)`` says whether the request may
    go on and, for a ``watch``ed kind, whether it made the key's minute unusual. ``db`` is a pool or a
    connection."""

    def __init__(self, kind: str, per_minute: int, *, watch: bool = False, factor: float = ALERT_FACTOR,
                 floor: int = ALERT_FLOOR) -> None:
        if per_minute < 1:
            raise ValueError("a rate must be at least one per minute")
        self.kind = kind
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60.0
        self.watch = watch
        self.factor = factor
        self.floor = floor

    def row_key(self, key: Hashable) -> bytes:
        return hashlib.sha256(f"{self.kind}\x00{key!r}".encode()).digest()[:16]

    async def take(self, db: asyncpg.Pool | asyncpg.Connection, key: Hashable) -> Taken:
        row = await db.fetchrow("SELECT ok, tokens, alert FROM rate_take($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                                self.kind, self.row_key(key), self.capacity, self.per_second, self.watch,
                                self.factor, float(self.floor), EWMA_ALPHA, ALERT_QUIET)
        wait = 0 if row["ok"] else max(1, math.ceil((1.0 - row["tokens"]) / self.per_second))
        return Taken(wait, row["alert"])


async def purge_idle_buckets(db: asyncpg.Pool | asyncpg.Connection, idle_seconds: int = IDLE_BUCKET) -> int:
    """Delete the rows not used for ``idle_seconds`` (at least 60: their bucket is full, as a missing row's is)
    whose usual, with the idle minutes' decay, is below ``NEGLIGIBLE_USUAL`` (as a missing row's, 0)."""
    gone = await db.fetchval(
        """WITH gone AS (
               DELETE FROM rate_buckets
               WHERE at < now() - make_interval(secs => $1)
                 AND ((1 - $2::float8) * usual + $2::float8 * count)
                     * power(1 - $2::float8, least(extract(epoch FROM now() - at) / 60, 1000)) < $3::float8
               RETURNING 1)
           SELECT count(*) FROM gone""", max(60, idle_seconds), EWMA_ALPHA, NEGLIGIBLE_USUAL)
    return int(gone)


@dataclass
class Limits:
    """The service's limiters, one per kind of request, shared by its processes through the database."""

    reads: SharedBuckets
    logins: SharedBuckets

    @classmethod
    def create(cls, read_rate: int, login_rate: int) -> Limits:
        return cls(SharedBuckets("read", read_rate, watch=True), SharedBuckets("login", login_rate))


LIMITS = web.AppKey("limits", Limits)
