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


async def test_no_redirect_is_followed(partner_server):
    server, hits = partner_server
    transport = HttpTransport(timeout=5)
    try:
        answer = await transport.post(str(server.make_url("/redirect")), b"{}")
    finally:
        await transport.close()
    assert answer.status == 302 and hits == ["redirect"]


async def test_an_answer_over_the_limit_is_refused(partner_server):
    server, _ = partner_server
    transport = HttpTransport(timeout=5, max_answer=1024 * 1024)
    try:
        with pytest.raises(TransportError, match="too large"):
            await transport.post(str(server.make_url("/big")), b"{}")
    finally:
        await transport.close()


async def test_a_slow_partner_times_out(partner_server):
    server, _ = partner_server
    transport = HttpTransport(timeout=0.3)
    try:
        with pytest.raises(TransportError):
            await transport.get(str(server.make_url("/slow")))
    finally:
        await transport.close()


async def test_an_unreachable_partner_is_a_transport_error():
    transport = HttpTransport(timeout=2)
    try:
        with pytest.raises(TransportError):
            await transport.post("http://127.0.0.1:9/federation/v1/inbox", b"{}")
    finally:
        await transport.close()
