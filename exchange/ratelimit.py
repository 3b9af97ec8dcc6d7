"""Abuse limits: token buckets per officer (reads of personal data) and per username + client address (login),
and an alert when an account reads far more than it usually does.

A bucket holds ``rate`` tokens (one minute's worth, the allowed burst) and refills continuously at ``rate`` per
minute; a request takes one token or is refused with 429 ``rate_limited`` and ``Retry-After`` (whole seconds
until the next token). The buckets live in PostgreSQL (``rate_buckets``, migration 0009), so every service
process behind a load balancer draws from the same bucket: the limit is the setting, not the setting times the
processes. A take is one statement (an upsert that refills, takes and reports), on its own, outside the
request's transaction; concurrent takes of one bucket queue on its row. The row's key is a hash of what is
limited, never the user name or address. A bucket idle for a minute is full again, so
``purge_idle_buckets`` (run by the housekeeping job) may delete idle rows without changing any answer: the
table holds only the buckets used in the last minutes, whatever an attacker cycles through.

The usage alert keeps, per account, an exponentially weighted average of its reads per completed minute (the
"usual"); when the current minute's count passes ``max(ALERT_FLOOR, ALERT_FACTOR x usual)`` the caller gets
``True`` once (then not again for ``ALERT_QUIET`` seconds) and writes a ``security.alert`` audit row. It is
counted in each process's memory (bounded: least recently used accounts are dropped), so with several
processes each sees its share of an account's reads, and an account that is new to a process starts with a
usual of zero, so only the floor applies to it.

Settings: ``EXCHANGE_SEARCH_RATE`` (reads per minute per officer) and ``EXCHANGE_LOGIN_RATE`` (attempts per
minute per username and address), read by ``exchange.config``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import asyncpg
from aiohttp import web

MAX_KEYS = 50_000  # accounts whose usage one process keeps; the least recently used is dropped past this
ALERT_FACTOR = 10.0  # a minute with this many times the usual reads is "far more than usual"
ALERT_FLOOR = 60  # ...and never fewer reads in a minute than this
ALERT_QUIET = 600.0  # seconds between two alerts for one account
EWMA_ALPHA = 0.2  # weight of the newest completed minute in the usual
IDLE_BUCKET = 120  # seconds after which a bucket row is deleted (it is full after 60)

Clock = Callable[[], float]

# Refill by the time since the last take (never negative: a take that waited on the row lock may have started
# before the one it waited for), cap at the burst, take one token if there is one.
_TAKE = """
INSERT INTO rate_buckets AS b (kind, key, tokens, at, ok) VALUES ($1, $2, $3 - 1, now(), true)
ON CONFLICT (kind, key) DO UPDATE SET
    tokens = LEAST($3, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - b.at)) * $4)
             - CASE WHEN LEAST($3, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - b.at)) * $4) >= 1
                    THEN 1 ELSE 0 END,
    ok = LEAST($3, b.tokens + GREATEST(0, EXTRACT(EPOCH FROM now() - b.at)) * $4) >= 1,
    at = GREATEST(b.at, now())
RETURNING ok, tokens
"""


class SharedBuckets:
    """One token bucket per key, shared through PostgreSQL; ``await take(db, key)`` returns 0 when allowed, else
    the seconds to wait. ``db`` is a pool or a connection."""

    def __init__(self, kind: str, per_minute: int) -> None:
        if per_minute < 1:
            raise ValueError("a rate must be at least one per minute")
        self.kind = kind
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60.0

    def row_key(self, key: Hashable) -> bytes:
        return hashlib.sha256(f"{self.kind}\x00{key!r}".encode()).digest()[:16]

    async def take(self, db: asyncpg.Pool | asyncpg.Connection, key: Hashable) -> int:
        row = await db.fetchrow(_TAKE, self.kind, self.row_key(key), self.capacity, self.per_second)
        if row["ok"]:
            return 0
        return max(1, math.ceil((1.0 - row["tokens"]) / self.per_second))


async def purge_idle_buckets(db: asyncpg.Pool | asyncpg.Connection, idle_seconds: int = IDLE_BUCKET) -> int:
    """Delete the buckets not used for ``idle_seconds`` (at least 60: they are full, as a missing row is)."""
    gone = await db.fetchval("WITH gone AS (DELETE FROM rate_buckets WHERE at < now() - make_interval(secs => $1) "
                             "RETURNING 1) SELECT count(*) FROM gone", max(60, idle_seconds))
    return int(gone)


@dataclass
class _Usage:
    minute: int
    count: int = 0
    usual: float = 0.0
    alerted_at: float = -math.inf


class UsageWatch:
    """Counts reads per account and minute; ``note(key)`` is True when this read makes the minute unusual."""

    def __init__(self, *, clock: Clock = time.monotonic, factor: float = ALERT_FACTOR, floor: int = ALERT_FLOOR,
                 max_keys: int = MAX_KEYS) -> None:
        self.clock = clock
        self.factor = factor
        self.floor = floor
        self.max_keys = max_keys
        self._usage: OrderedDict[Hashable, _Usage] = OrderedDict()

    def note(self, key: Hashable) -> bool:
        now = self.clock()
        minute = int(now // 60)
        usage = self._usage.pop(key, None) or _Usage(minute)
        if minute != usage.minute:  # fold the finished minute (and any idle ones) into the usual
            idle = min(minute - usage.minute - 1, 60)
            usage.usual = (1 - EWMA_ALPHA) * usage.usual + EWMA_ALPHA * usage.count
            usage.usual *= (1 - EWMA_ALPHA) ** idle
            usage.minute, usage.count = minute, 0
        usage.count += 1
        self._usage[key] = usage
        while len(self._usage) > self.max_keys:
            self._usage.popitem(last=False)
        limit = max(self.floor, self.factor * usage.usual)
        if usage.count > limit and now - usage.alerted_at >= ALERT_QUIET:
            usage.alerted_at = now
            return True
        return False


@dataclass
class Limits:
    """The service's limiters, one per kind of request (the buckets shared, the usage watch per process)."""

    reads: SharedBuckets
    logins: SharedBuckets
    usage: UsageWatch

    @classmethod
    def create(cls, read_rate: int, login_rate: int, clock: Clock = time.monotonic) -> Limits:
        return cls(SharedBuckets("read", read_rate), SharedBuckets("login", login_rate), UsageWatch(clock=clock))


LIMITS = web.AppKey("limits", Limits)
