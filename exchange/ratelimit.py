"""Abuse limits: token buckets per officer (reads of personal data) and per username + client address (login),
and an alert when an account reads far more than it usually does.

A bucket holds ``rate`` tokens (one minute's worth, the allowed burst) and refills continuously at ``rate`` per
minute; a request takes one token or is refused with 429 ``rate_limited`` and ``Retry-After`` (whole seconds
until the next token). Buckets live in this process's memory: several service processes each keep their own,
so the effective limit behind a load balancer is ``rate x processes`` (documented in docs/security.md). The
number of buckets is bounded (least recently used ones are dropped), so an attacker cycling through usernames
cannot make memory grow.

The usage alert keeps, per account, an exponentially weighted average of its reads per completed minute (the
"usual"); when the current minute's count passes ``max(ALERT_FLOOR, ALERT_FACTOR x usual)`` the caller gets
``True`` once (then not again for ``ALERT_QUIET`` seconds) and writes a ``security.alert`` audit row. An account
that is new to this process starts with a usual of zero, so only the floor applies to it.

Settings: ``EXCHANGE_SEARCH_RATE`` (reads per minute per officer) and ``EXCHANGE_LOGIN_RATE`` (attempts per
minute per username and address), read by ``exchange.config``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from aiohttp import web

MAX_KEYS = 50_000  # buckets kept per limiter; the least recently used is dropped past this
ALERT_FACTOR = 10.0  # a minute with this many times the usual reads is "far more than usual"
ALERT_FLOOR = 60  # ...and never fewer reads in a minute than this
ALERT_QUIET = 600.0  # seconds between two alerts for one account
EWMA_ALPHA = 0.2  # weight of the newest completed minute in the usual

Clock = Callable[[], float]


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """One token bucket per key; ``take(key)`` returns 0 when allowed, else the seconds to wait."""

    def __init__(self, per_minute: int, *, clock: Clock = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        if per_minute < 1:
            raise ValueError("a rate must be at least one per minute")
        self.capacity = float(per_minute)
        self.per_second = per_minute / 60.0
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[Hashable, _Bucket] = OrderedDict()

    def take(self, key: Hashable) -> int:
        now = self.clock()
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = _Bucket(self.capacity, now)
        else:
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
        self._buckets[key] = bucket  # most recently used last
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))

    def __len__(self) -> int:
        return len(self._buckets)


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
    """The process's limiters, one per kind of request."""

    reads: TokenBuckets
    logins: TokenBuckets
    usage: UsageWatch

    @classmethod
    def create(cls, read_rate: int, login_rate: int, clock: Clock = time.monotonic) -> Limits:
        return cls(TokenBuckets(read_rate, clock=clock), TokenBuckets(login_rate, clock=clock),
                   UsageWatch(clock=clock))


LIMITS = web.AppKey("limits", Limits)
