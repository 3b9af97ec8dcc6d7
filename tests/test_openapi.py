"""The OpenAPI document matches the routes: every route is in it and every operation in it is a route."""

from __future__ import annotations

from exchange.routes import ROUTES


async def test_every_route_is_documented_and_nothing_else(client):
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    documented = {(method.upper(), path) for path, ops in doc["paths"].items() for method in ops}
    routed = {(method, path) for method, path, _ in ROUTES}
    assert routed - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routed == set(), "documented operations with no route"
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("responses"), f"{method} {path} documents no responses"
