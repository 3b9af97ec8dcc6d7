"""How bytes reach a partner: a swappable transport. The default is an aiohttp client that follows no
redirects, times out, and refuses answers over a size limit. Tests inject another object with the same two
methods (a real transport that drops or delays, not a mock of our own code).

A transport never interprets what it carries: the caller verifies every answer with ``protocols``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import aiohttp

DEFAULT_TIMEOUT = 15.0
MAX_ANSWER = 8 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class TransportError(Exception):
    """The partner could not be reached or its answer could not be read (a partner failure, retried later)."""


class Transport(Protocol):
    async def post(self, url: str, data: bytes) -> Answer: ...

    async def get(self, url: str) -> Answer: ...

    async def close(self) -> None: ...


class HttpTransport:
    """aiohttp client: no redirects, total timeout, answers larger than ``max_answer`` refused."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, max_answer: int = MAX_ANSWER) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_answer = max_answer
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout, auto_decompress=False)
        return self._session

    async def post(self, url: str, data: bytes) -> Answer:
        return await self._call("POST", url, data)

    async def get(self, url: str) -> Answer:
        return await self._call("GET", url, None)

    async def _call(self, method: str, url: str, data: bytes | None) -> Answer:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        try:
            async with self._client().request(method, url, data=data, headers=headers,
                                              allow_redirects=False) as resp:
                if resp.content_length is not None and resp.content_length > self._max_answer:
                    raise TransportError("answer too large")
                body = bytearray()
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    body += chunk
                    if len(body) > self._max_answer:
                        raise TransportError("answer too large")
                return Answer(resp.status, bytes(body))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise TransportError(type(exc).__name__) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
