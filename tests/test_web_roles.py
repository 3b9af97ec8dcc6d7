"""The role table of the web pages, written out independently of the code, walked with every role: each page
that a role may not open answers 403 (and the refusal is audited); one it may open does not. Every GET page of
``exchange.web.routes.PAGES`` must be listed here. Without a session every private page sends to the login."""

from __future__ import annotations

import re
import uuid

import pytest

from exchange.auth import ROLES
from exchange.policy import policy_of
from exchange.web.routes import PAGES
from tests.conftest import new_officer, web_login_http, web_session

ALL = frozenset(ROLES)
PUBLIC = frozenset({"public"})
# path -> roles that may open it ("public": no login needed)
EXPECTED: dict[str, frozenset[str]] = {
    "/": ALL,
    "/login": PUBLIC,
    "/lang/{lang}": PUBLIC,
    "/static/{name}": PUBLIC,
    "/desk": frozenset({"liaison"}),
    "/alerts/{id}": frozenset({"liaison"}),
    "/review/{id}": frozenset({"liaison"}),
    "/requests/{id}": frozenset({"liaison"}),
    "/search": frozenset({"liaison", "registrar"}),
    "/partners": frozenset({"admin", "liaison"}),
    "/partner-records": frozenset({"liaison"}),
    "/post": frozenset({"immigration"}),
    "/post/checks": frozenset({"immigration"}),
    "/post/checks/{id}": frozenset({"immigration"}),
    "/records": frozenset({"registrar", "liaison"}),
    "/records/new": frozenset({"registrar"}),
    "/records/{id}": frozenset({"registrar", "liaison", "auditor"}),
    "/records/{id}/edit": frozenset({"registrar"}),
    "/records/{id}/withdraw": frozenset({"registrar"}),
    "/audit": frozenset({"auditor"}),
    "/audit/verify": frozenset({"auditor"}),
    "/stats": frozenset({"admin", "liaison", "auditor"}),
    "/stats.csv": frozenset({"admin", "liaison", "auditor"}),
    "/admin/users": frozenset({"admin"}),
    "/admin/users/new": frozenset({"admin"}),
    "/admin/users/{id}": frozenset({"admin"}),
    "/admin/points": frozenset({"admin"}),
    "/admin/points/{id}": frozenset({"admin"}),
    "/admin/partners": frozenset({"admin"}),
    "/admin/partners/{country}": frozenset({"admin"}),
}


def _pages() -> dict[str, object]:
    return {re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path): handler for method, path, handler in PAGES if method == "GET"}


def test_every_page_is_in_the_table():
    assert set(_pages()) == set(EXPECTED)


def test_the_table_matches_the_policies():
    for path, handler in _pages().items():
        rule = policy_of(handler)
        assert rule is not None, path
        declared = PUBLIC if rule.public else rule.roles
        assert declared == EXPECTED[path], path


def _concrete(path: str) -> str:
    return (path.replace("{lang}", "en").replace("{name}", "app.css")
            .replace("{id}", str(uuid.uuid4())).replace("{country}", "TH"))


@pytest.fixture(scope="module")
async def web_officers(db_target):
    return {role: await new_officer(db_target, role, "POIPET" if role == "immigration" else None)
            for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_on_each_page(client, web_officers, owner_conn, role):
    async with web_session(client) as web:
        await web_login_http(web, web_officers[role])
        for path, allowed in EXPECTED.items():
            if allowed == PUBLIC:
                continue
            before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'access.denied'")
            resp = await web.get(_concrete(path), allow_redirects=False)
            if role in allowed:
                assert resp.status in (200, 303, 404), (role, path, resp.status)
                if resp.status == 303:
                    assert not resp.headers["Location"].startswith("/login"), (role, path)
            else:
                assert resp.status == 403, (role, path, resp.status)
                after = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'access.denied'")
                assert after == before + 1, (role, path)


async def test_without_a_session_every_private_page_sends_to_login(client):
    async with web_session(client) as web:
        for path, allowed in EXPECTED.items():
            if allowed == PUBLIC:
                continue
            resp = await web.get(_concrete(path), allow_redirects=False)
            assert resp.status == 303 and resp.headers["Location"].startswith("/login"), path
