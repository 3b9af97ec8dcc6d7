"""Settings, read once from the environment into a typed object (the only source of configuration).

| variable                       | default        | meaning                                                      |
|--------------------------------|----------------|--------------------------------------------------------------|
| EXCHANGE_HOME                  | ./var          | home folder: embedded PostgreSQL data, keys, index snapshot  |
| EXCHANGE_DATABASE_URL          | (embedded)     | PostgreSQL URL the service uses; unset = embedded server     |
| EXCHANGE_DATABASE_OWNER_URL    | = DATABASE_URL | URL used for migrations (schema owner)                       |
| EXCHANGE_COUNTRY               | KH             | this node's ISO 3166 alpha-2 country                         |
| EXCHANGE_ISSUER                | exchange-<cc>  | JWT issuer                                                   |
| EXCHANGE_TOKEN_TTL             | 300            | officer token lifetime, seconds (short: disabling is quick)  |
| EXCHANGE_IDLE_TIMEOUT          | 1800           | server-side idle timeout of a login session, seconds         |
| EXCHANGE_MAX_BODY              | 1048576        | largest request body, bytes                                  |
| EXCHANGE_LOG_LEVEL             | INFO           | log level of the JSON logs                                   |
| EXCHANGE_FEDERATION_LOOPS      | 1              | 0: do not start the partner send/pull loops                  |
| EXCHANGE_SEND_INTERVAL_MS      | 2000           | how often an idle send loop looks for new outbox rows        |
| EXCHANGE_PULL_INTERVAL_S       | 60             | how often each partner's feed is pulled                      |
| EXCHANGE_BACKOFF_MAX_S         | 600            | cap of the per-partner retry backoff (starts at 1 s, x2)     |
| EXCHANGE_ACK_OVERDUE_S         | 86400          | a correction/withdrawal unacknowledged this long is overdue  |
| EXCHANGE_SEARCH_RATE           | 600            | reads of personal data per minute per officer (429 past it)  |
| EXCHANGE_LOGIN_RATE            | 10             | login attempts per minute per username and client address    |
| EXCHANGE_COOKIE_SECURE         | 1              | 0: web session cookie without Secure (plain-HTTP test setups) |
| EXCHANGE_IDEMPOTENCY_TTL_HOURS | 24             | how long a register write's Idempotency-Key replays its answer |
| EXCHANGE_HOUSEKEEPING_INTERVAL | 600            | seconds between two deletions of expired Idempotency-Keys    |
|                                |                | and idle rate-limit buckets (0: never)                       |

Secrets (database URLs may hold passwords) are wrapped in :class:`Secret` so they never print.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from protocols.validation import ValidationError, clean_country


class Secret:
    """A value that never shows in repr/str/logs; call ``reveal()`` where it is really needed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable, never its value."""


@dataclass(frozen=True)
class Settings:
    home: Path = Path("var")
    database_url: Secret | None = None
    owner_database_url: Secret | None = None
    country: str = "KH"
    issuer: str = "exchange-kh"
    token_ttl: int = 300
    idle_timeout: int = 1800
    max_body: int = 1024 * 1024
    log_level: str = "INFO"
    lockout_failures: int = 5
    lockout_seconds: int = 900
    federation_loops: bool = True
    send_interval_ms: int = 2000
    pull_interval_s: int = 60
    backoff_max_s: int = 600
    ack_overdue_s: int = 86400
    search_rate: int = 600
    login_rate: int = 10
    cookie_secure: bool = True
    idempotency_ttl_hours: int = 24
    housekeeping_interval: int = 600

    @property
    def idempotency_ttl(self) -> dt.timedelta:
        return dt.timedelta(hours=self.idempotency_ttl_hours)

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        country = _country(env.get("EXCHANGE_COUNTRY", "KH"))
        url = env.get("EXCHANGE_DATABASE_URL") or None
        owner = env.get("EXCHANGE_DATABASE_OWNER_URL") or url
        return cls(
            home=Path(env.get("EXCHANGE_HOME", "var")).expanduser().resolve(),
            database_url=Secret(url) if url else None,
            owner_database_url=Secret(owner) if owner else None,
            country=country,
            issuer=env.get("EXCHANGE_ISSUER", f"exchange-{country.lower()}"),
            token_ttl=_int(env, "EXCHANGE_TOKEN_TTL", 300, 30, 3600),
            idle_timeout=_int(env, "EXCHANGE_IDLE_TIMEOUT", 1800, 60, 86400),
            max_body=_int(env, "EXCHANGE_MAX_BODY", 1024 * 1024, 1024, 64 * 1024 * 1024),
            log_level=env.get("EXCHANGE_LOG_LEVEL", "INFO").upper(),
            federation_loops=env.get("EXCHANGE_FEDERATION_LOOPS", "1") != "0",
            send_interval_ms=_int(env, "EXCHANGE_SEND_INTERVAL_MS", 2000, 10, 600_000),
            pull_interval_s=_int(env, "EXCHANGE_PULL_INTERVAL_S", 60, 1, 86400),
            backoff_max_s=_int(env, "EXCHANGE_BACKOFF_MAX_S", 600, 1, 86400),
            ack_overdue_s=_int(env, "EXCHANGE_ACK_OVERDUE_S", 86400, 60, 30 * 86400),
            search_rate=_int(env, "EXCHANGE_SEARCH_RATE", 600, 1, 1_000_000),
            login_rate=_int(env, "EXCHANGE_LOGIN_RATE", 10, 1, 1_000_000),
            cookie_secure=env.get("EXCHANGE_COOKIE_SECURE", "1") != "0",
            idempotency_ttl_hours=_int(env, "EXCHANGE_IDEMPOTENCY_TTL_HOURS", 24, 1, 24 * 30),
            housekeeping_interval=_int(env, "EXCHANGE_HOUSEKEEPING_INTERVAL", 600, 0, 86400),
        )


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}")
    return value


def _country(raw: str) -> str:
    try:
        return clean_country(raw, "EXCHANGE_COUNTRY")
    except ValidationError:
        raise ConfigError("EXCHANGE_COUNTRY must be an ISO 3166-1 alpha-2 code") from None
