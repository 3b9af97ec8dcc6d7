"""The central service as the post sees it: log in, submit one check, and sort every answer into one of four.

    Stored       201: the check is stored (``replayed`` when the service had it already under this key)
    Refused      a 4xx about the check itself (400, 409, 413, 422): sending it again would fail again
    Blocked      any other 4xx (401, 403, 404, 429): nothing about this check is wrong, but nothing more can
                 be sent now (expired session, inactive post, rate limit)
    Unreachable  no connection, a timeout, a 5xx (a gateway's 502/503/504, a failing service), or a 2xx that is
                 not the service's answer (a captive portal): keep the check and try later (the
                 Idempotency-Key makes a second submission safe)

The token lives in this object only (never on disk). No redirects are followed and answers are read with a
size limit. Errors carry the service's code and field, never a value from the check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp

CHECKS = "/api/v1/border/checks"
LOGIN = "/api/v1/auth/token"
REFUSED_STATUS = frozenset({400, 409, 413, 422})
MAX_ANSWER = 1 << 20


@dataclass(frozen=True)
class Stored:
    answer: dict[str, Any]
    replayed: bool


@dataclass(frozen=True)
class Refused:
    status: int
    code: str
    field: str | None
    message: str


@dataclass(frozen=True)
class Blocked(Refused):
    pass


@dataclass(frozen=True)
class Unreachable:
    reason: str


Outcome = Stored | Refused | Unreachable


class LoginFailed(Exception):
    def __init__(self, outcome: Refused | Unreachable) -> None:
        super().__init__(outcome.reason if isinstance(outcome, Unreachable) else outcome.message)
        self.outcome = outcome


@dataclass
class Service:
    url: str
    timeout: float = 20.0
    _token: str | None = field(default=None, repr=False)
    border_point: str | None = None
    _session: aiohttp.ClientSession | None = field(default=None, repr=False)

    async def __aenter__(self) -> Service:
        timeout = aiohttp.ClientTimeout(total=self.timeout, connect=min(self.timeout, 10.0))
        self._session = aiohttp.ClientSession(self.url.rstrip("/") + "/", timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        self._token = None

    async def login(self, username: str, password: str, totp: str) -> None:
        """Log in as the officer; raises LoginFailed with the sorted answer."""
        outcome = await self._post(LOGIN, {"username": username, "password": password, "totp": totp}, {},
                                   expect=("token",))
        if not isinstance(outcome, Stored):
            raise LoginFailed(outcome)
        self._token = outcome.answer["token"]
        self.border_point = outcome.answer.get("border_point")
        if outcome.answer.get("role") != "immigration":
            raise LoginFailed(Blocked(403, "forbidden", None, "this account is not an immigration officer's"))

    async def submit(self, key: str, body: dict[str, Any]) -> Outcome:
        if self._token is None:
            raise RuntimeError("log in first")
        return await self._post(CHECKS, body, {"Authorization": f"Bearer {self._token}", "X-Purpose": "border_check",
                                               "Idempotency-Key": key}, expect=("id", "flags", "recommendation"))

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str],
                    expect: tuple[str, ...]) -> Outcome:
        assert self._session is not None, "use `async with Service(...)`"
        try:
            async with self._session.post(path.lstrip("/"), json=body, headers=headers,
                                          allow_redirects=False) as resp:
                raw = await resp.content.read(MAX_ANSWER)
                status = resp.status
                replayed = resp.headers.get("Idempotent-Replayed") == "true"
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as err:
            return Unreachable(f"no connection to the service ({type(err).__name__})")
        except TimeoutError:
            return Unreachable(f"the service did not answer within {self.timeout:g} s")
        if status >= 500:
            return Unreachable(f"the service is unavailable (HTTP {status})")
        answer = _json(raw)
        if status in (200, 201):
            if isinstance(answer, dict) and all(k in answer for k in expect):
                return Stored(answer, replayed)
            return Unreachable(f"HTTP {status} with an answer that is not the service's (a proxy or portal?)")
        error = (answer or {}).get("error") if isinstance(answer, dict) else None
        error = error if isinstance(error, dict) else {}
        kind = Refused if status in REFUSED_STATUS else Blocked
        return kind(status, str(error.get("code") or "http_error"), error.get("field"),
                    str(error.get("message") or f"HTTP {status}"))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


__all__ = ["Blocked", "LoginFailed", "Outcome", "Refused", "Service", "Stored", "Unreachable"]
