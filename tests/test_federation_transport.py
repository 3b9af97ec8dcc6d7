"""The default partner transport follows no redirect, times out, and refuses an answer over its size limit."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from exchange.federation.transport import HttpTransport, TransportError


@pytest.fixture
async def partner_server():
    hits: list[str] = []

    async def redirect(request: web.Request) -> web.Response:
        hits.append("redirect")
        raise web.HTTPFound("/target")

    async def target(request: web.Request) -> web.Response:
        hits.append("target")
        return web.Response(text="followed")

    async def big(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to refuse early
        await response.prepare(request)
        for _ in range(40):
            await response.write(b"x" * 65536)
        return response

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    app = web.Application()
    app.router.add_post("/redirect", redirect)
    app.router.add_post("/target", target)
    app.router.add_post("/big", big)
    app.router.add_get("/slow", slow)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server, hits
    finally:
        await server.close()


@pytest.fixture
async def transport():
    """Make an HttpTransport with the given options; every one made is closed after the test."""
    made: list[HttpTransport] = []

    def make(**options) -> HttpTransport:
        made.append(HttpTransport(**options))
        return made[-1]

    try:
        yield make
    finally:
        for each in made:
            await each.close()


async def test_no_redirect_is_followed(partner_server, transport):
    server, hits = partner_server
    answer = await transport(timeout=5).post(str(server.make_url("/redirect")), b"{}")
    assert answer.status == 302 and hits == ["redirect"]


async def test_an_answer_over_the_limit_is_refused(partner_server, transport):
    server, _ = partner_server
    with pytest.raises(TransportError, match="too large"):
        await transport(timeout=5, max_answer=1024 * 1024).post(str(server.make_url("/big")), b"{}")


async def test_a_slow_partner_times_out(partner_server, transport):
    server, _ = partner_server
    with pytest.raises(TransportError):
        await transport(timeout=0.3).get(str(server.make_url("/slow")))


async def test_an_unreachable_partner_is_a_transport_error(transport):
    with pytest.raises(TransportError):
        await transport(timeout=2).post("http://127.0.0.1:9/federation/v1/inbox", b"{}")
