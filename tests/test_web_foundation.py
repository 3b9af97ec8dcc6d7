"""The web pages' foundation over plain HTTP: login with password and TOTP, the session cookie, CSRF, the
page headers, idle expiry, logout, redirects that stay on this site, the language switch, static files."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import form_token, fresh_code, new_officer, web_login_http, web_session


async def _audit_count(conn, action: str, since: dt.datetime) -> int:
    return await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = $1 AND at >= $2", action, since)


async def test_login_page_headers_and_form(client):
    async with web_session(client) as web:
        resp = await web.get("/login")
        assert resp.status == 200
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["Cache-Control"] == "no-store"
        html = await resp.text()
        for label in ('for="f-username"', 'for="f-password"', 'for="f-totp"'):
            assert label in html
        assert "exchange_login" in resp.headers["Set-Cookie"] and "HttpOnly" in resp.headers["Set-Cookie"]


async def test_login_logout_round_trip(client, db_target, owner_conn):
    officer = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        resp = await web.get("/", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login?next=/")
        await web_login_http(web, officer)
        cookie = next(c for c in web.cookie_jar if c.key == "exchange_session")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        resp = await web.get("/")
        html = await resp.text()
        assert resp.status == 200 and officer.username in html
        since = dt.datetime.now(dt.UTC)
        # logout without the form's token is refused and audited; the session stays
        resp = await web.post("/logout", data={}, allow_redirects=False)
        assert resp.status == 403 and "csrf_failed" in await resp.text()
        assert await _audit_count(owner_conn, "access.denied", since) >= 1
        resp = await web.post("/logout", data={"csrf": form_token(html)}, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/login?notice=out"
        revoked = await owner_conn.fetchval(
            "SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.username = $1 AND s.revoked_at IS NOT NULL", officer.username)
        assert revoked == 1
        assert await _audit_count(owner_conn, "auth.logout", since) >= 1
        resp = await web.get("/", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")


async def test_a_stolen_cookie_of_a_logged_out_session_is_refused(client, db_target, owner_conn):
    officer = await new_officer(db_target, "auditor")
    async with web_session(client) as web:
        await web_login_http(web, officer)
        token = next(c.value for c in web.cookie_jar if c.key == "exchange_session")
        html = await (await web.get("/")).text()
        await web.post("/logout", data={"csrf": form_token(html)}, allow_redirects=False)
    since = dt.datetime.now(dt.UTC)
    async with web_session(client) as thief:
        resp = await thief.get("/", headers={"Cookie": f"exchange_session={token}"}, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")
    assert await _audit_count(owner_conn, "auth.denied", since) >= 1


async def test_wrong_code_is_refused_without_a_session(client, db_target):
    officer = await new_officer(db_target, "registrar")
    async with web_session(client) as web:
        token = form_token(await (await web.get("/login")).text())
        resp = await web.post("/login", data={"csrf": token, "username": officer.username,
                                              "password": officer.password, "totp": "000000"},
                              allow_redirects=False)
        assert resp.status == 401
        assert "wrong" in await resp.text()
        assert not any(c.key == "exchange_session" for c in web.cookie_jar)


async def test_login_without_the_form_token_is_refused(client, db_target):
    officer = await new_officer(db_target, "registrar")
    async with web_session(client) as web:
        resp = await web.post("/login", data={"username": officer.username, "password": officer.password,
                                              "totp": await fresh_code(officer)}, allow_redirects=False)
        assert resp.status == 403 and "csrf_failed" in await resp.text()


async def test_idle_session_ends_after_30_minutes(client, db_target, owner_conn):
    officer = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, officer)
        resp = await web.get("/", allow_redirects=False)  # the start page, or a redirect to the role's own
        assert resp.status == 200 or not resp.headers["Location"].startswith("/login")
        await owner_conn.execute(
            "UPDATE sessions s SET last_seen_at = now() - interval '31 minutes' FROM users u "
            "WHERE u.id = s.user_id AND u.username = $1", officer.username)
        resp = await web.get("/", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"].startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", "javascript:alert(1)"])
async def test_login_never_redirects_off_site(client, db_target, target):
    officer = await new_officer(db_target, "auditor")
    async with web_session(client) as web:
        token = form_token(await (await web.get("/login")).text())
        resp = await web.post("/login", data={"csrf": token, "username": officer.username,
                                              "password": officer.password, "totp": await fresh_code(officer),
                                              "next": target}, allow_redirects=False)
        assert resp.status == 303
        location = resp.headers["Location"]
        assert location.startswith("/") and not location.startswith("//") and "evil" not in location


async def test_language_switch_gives_khmer_labels(client):
    async with web_session(client) as web:
        resp = await web.get("/lang/km?next=/login", allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/login"
        html = await (await web.get("/login")).text()
        assert 'lang="km"' in html and "ពាក្យសម្ងាត់" in html
        assert (await web.get("/lang/xx", allow_redirects=False)).status == 404


@pytest.mark.parametrize(("path", "status"), [
    ("/static/app.css", 200), ("/static/fonts/noto-sans-khmer-khmer-400-normal.woff2", 200),
    ("/static/missing.css", 404), ("/static/../app.py", 404), ("/static/%2e%2e/app.py", 404),
])
async def test_static_files_are_an_allow_list(client, path, status):
    resp = await client.get(path)
    assert resp.status == status
    if path.endswith(".woff2") and status == 200:
        assert resp.content_type == "font/woff2" and len(await resp.read()) > 10_000


async def test_pages_keep_their_csp_and_the_api_keeps_its_own(client, officers):
    api = await client.get("/api/v1/auth/me", headers=officers["auditor"].headers(None))
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    page = await client.get("/login")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
