"""Deny by default: every route of ``exchange.routes.ROUTES`` is walked with every role (and with no token).

``EXPECTED`` is the role table written down independently of the code: a route missing from it, or a policy
that differs from it, fails; then each role must be let through exactly where the table says (any answer but
401/403) and refused everywhere else (403, audited; 401 without a token).
"""

from __future__ import annotations

import uuid

import pytest

from exchange.policy import policy_of
from exchange.routes import ROUTES

from .conftest import login, new_officer

PUBLIC = "public"
ROLES = ("admin", "registrar", "liaison", "immigration", "auditor")
ANY = frozenset(ROLES)

EXPECTED: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): ANY,
    ("POST", "/api/v1/auth/logout"): ANY,
    ("GET", "/api/v1/auth/me"): ANY,
    ("GET", "/api/v1/audit"): frozenset({"auditor"}),
    ("GET", "/api/v1/audit/verify"): frozenset({"auditor"}),
    ("GET", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{id}/disable"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{id}/enable"): frozenset({"admin"}),
    ("POST", "/api/v1/users/{id}/reset-mfa"): frozenset({"admin"}),
    ("POST", "/api/v1/records"): frozenset({"registrar"}),
    ("GET", "/api/v1/records"): frozenset({"registrar", "liaison"}),
    ("GET", "/api/v1/records/{id}"): frozenset({"registrar", "liaison"}),
    ("PUT", "/api/v1/records/{id}"): frozenset({"registrar"}),
    ("POST", "/api/v1/records/{id}/withdraw"): frozenset({"registrar"}),
    ("GET", "/api/v1/records/{id}/history"): frozenset({"registrar", "liaison", "auditor"}),
    ("GET", "/api/v1/records/{id}/deliveries"): frozenset({"registrar", "liaison", "auditor"}),
    ("POST", "/api/v1/border/checks"): frozenset({"immigration"}),
    ("GET", "/api/v1/border/checks"): frozenset({"immigration", "liaison", "auditor"}),
    ("GET", "/api/v1/border/checks/{id}"): frozenset({"immigration", "liaison", "auditor"}),
    ("PATCH", "/api/v1/border/checks/{id}"): frozenset({"immigration"}),
    ("GET", "/api/v1/border/stats"): frozenset({"liaison", "auditor", "admin"}),
    ("GET", "/api/v1/border-points"): ANY,
    ("POST", "/api/v1/border-points"): frozenset({"admin"}),
    ("PATCH", "/api/v1/border-points/{id}"): frozenset({"admin"}),
    ("GET", "/api/v1/alerts"): frozenset({"liaison"}),
    ("GET", "/api/v1/alerts/{id}"): frozenset({"liaison"}),
    ("POST", "/api/v1/alerts/{id}/decision"): frozenset({"liaison"}),
    ("POST", "/api/v1/search"): frozenset({"liaison", "registrar"}),
    ("GET", "/api/v1/partners"): frozenset({"admin", "liaison"}),
    ("POST", "/api/v1/partners"): frozenset({"admin"}),
    ("GET", "/api/v1/partners/{id}"): frozenset({"admin"}),
    ("PATCH", "/api/v1/partners/{id}"): frozenset({"admin"}),
    ("POST", "/api/v1/partners/{id}/keys"): frozenset({"admin"}),
    ("POST", "/api/v1/partners/{id}/keys/revoke"): frozenset({"admin"}),
    ("GET", "/api/v1/partner-records"): frozenset({"liaison"}),
    ("POST", "/api/v1/partner-queries"): frozenset({"liaison"}),
    ("POST", "/api/v1/partner-record-requests"): frozenset({"liaison"}),
    ("GET", "/api/v1/review-queue"): frozenset({"liaison"}),
    ("GET", "/api/v1/review-queue/{id}"): frozenset({"liaison"}),
    ("POST", "/api/v1/review-queue/{id}/decision"): frozenset({"liaison"}),
    ("GET", "/api/v1/record-requests"): frozenset({"liaison"}),
    ("POST", "/api/v1/record-requests/{id}/decision"): frozenset({"liaison"}),
    ("GET", "/federation/v1/keys"): PUBLIC,  # partners: envelope signatures, officer tokens refused
    ("POST", "/federation/v1/inbox"): PUBLIC,
    ("POST", "/federation/v1/feed"): PUBLIC,
}


def _route_key(method: str, path: str) -> tuple[str, str]:
    return method, path


def test_every_route_is_in_the_role_table_with_the_same_policy():
    routed = {_route_key(method, path) for method, path, _ in ROUTES}
    assert set(EXPECTED) - routed == set(), "the role table names routes that do not exist"
    for method, path, handler in ROUTES:
        key = _route_key(method, path)
        assert key in EXPECTED, f"{method} {path} is not in the role table of this test"
        rule = policy_of(handler)
        assert rule is not None, f"{method} {path} has no policy"
        expected = EXPECTED[key]
        if expected == PUBLIC:
            assert rule.public, f"{method} {path} should be public"
        else:
            assert not rule.public and rule.roles == expected, f"{method} {path}: {sorted(rule.roles)}"


def _concrete(path: str) -> str:
    return path.replace("{id}", str(uuid.uuid4()))


async def test_walk_every_route_with_every_role(client, db_target, owner_conn):
    officers = {}
    for role in ROLES:
        officers[role] = await login(client, await new_officer(db_target, role,
                                                               "POIPET" if role == "immigration" else None))
    # logout and refresh change session state: walk them last
    ordered = sorted(ROUTES, key=lambda r: r[1] in ("/api/v1/auth/logout",))
    for method, path, _handler in ordered:
        expected = EXPECTED[_route_key(method, path)]
        url = _concrete(path)
        anon = await client.request(method, url, json={})
        if expected == PUBLIC:
            assert anon.status not in (401, 403), f"anonymous {method} {path}: {anon.status}"
            continue
        assert anon.status == 401, f"anonymous {method} {path}: {anon.status}"
        for role, officer in officers.items():
            resp = await client.request(method, url, json={}, headers=officer.headers(purpose="investigation"))
            if role in expected:
                assert resp.status not in (401, 403), f"{role} {method} {path}: {resp.status} {await resp.text()}"
            else:
                assert resp.status == 403, f"{role} {method} {path}: {resp.status}"
                body = await resp.json()
                assert body["error"]["code"] == "forbidden"
    denied = await owner_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'access.denied' AND username = ANY($1::text[])",
        [o.username for o in officers.values()])
    assert denied > 0


@pytest.mark.parametrize("role", ROLES)
async def test_unknown_route_is_404_json(client, officers, role):
    resp = await client.get("/api/v1/no-such-thing", headers=officers[role].headers())
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"
