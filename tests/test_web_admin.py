"""The administrator's pages over plain HTTP: each renders for the admin and refuses other roles; a new account's
one-time password and TOTP enrolment (URI and server-drawn QR code) are shown once, never again; disable, enable
and an MFA reset (the old secret stops working); border points added and edited; partner nodes registered, their
sharing policy and keys edited; a refusal shows the API's message and code next to the field, with the values
kept, and changes nothing; a POST without the form's token is refused."""

from __future__ import annotations

import re
import secrets
from html import unescape
from urllib.parse import unquote

import pyotp

from exchange.web import i18n
from tests.conftest import fresh_code, new_officer, web_login_http, web_session
from tests.test_admin_api import free_country, keys

ADMIN_PAGES = ("/admin/users", "/admin/users/new", "/admin/points", "/admin/partners")


def field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{field}" role="alert">([^<]*)</p>', html)
    assert found is not None, f"no error shown next to {field}"
    return unescape(found.group(1))


def token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None
    return found.group(1)


async def post(web, page: str, action: str, data: dict, **kw):
    html = await (await web.get(page)).text()
    return await web.post(action, data={"csrf": token(html), **data}, allow_redirects=kw.get("follow", True))


def new_name() -> str:
    return f"web-{secrets.token_hex(4)}"


async def test_admin_pages_render_and_other_roles_are_refused(client, db_target, owner_conn):
    admin, liaison = await new_officer(db_target, "admin"), await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, admin)
        resp = await web.get("/", allow_redirects=False)
        assert resp.headers["Location"] == "/admin/users"
        for page in ADMIN_PAGES:
            resp = await web.get(page)
            assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store", page
            assert 'href="/static/admin.css"' in await resp.text()
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'access.denied'")
        for page in ADMIN_PAGES:
            assert (await web.get(page)).status == 403, page
        assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'access.denied'") \
            == before + len(ADMIN_PAGES)


async def test_create_user_shows_the_enrolment_once(client, db_target, owner_conn):
    admin = await new_officer(db_target, "admin")
    username = new_name()
    async with web_session(client) as web:
        await web_login_http(web, admin)
        resp = await post(web, "/admin/users/new", "/admin/users/new",
                          {"username": username, "role": "immigration", "border_point": "POIPET"})
        html = await resp.text()
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        password = unescape(re.search(r'id="one-time-password" class="secret">([^<]*)<', html).group(1))
        uri = unescape(re.search(r'id="totp-uri" class="secret">([^<]*)<', html).group(1))
        qr = unescape(re.search(r'id="totp-qr" src="([^"]*)"', html).group(1))
        assert uri.startswith("otpauth://totp/") and qr.startswith("data:image/svg+xml")
        assert "<svg" in unquote(qr) and len(password) >= 12
        user_id = await owner_conn.fetchval("SELECT id FROM users WHERE username = $1", username)
        for page in ("/admin/users", f"/admin/users/{user_id}"):  # never shown again
            later = await (await web.get(page)).text()
            assert username in later and password not in later and pyotp.parse_uri(uri).secret not in later
    # the handed-over password and enrolment log the officer in
    resp = await client.post("/api/v1/auth/token", json={"username": username, "password": password,
                                                         "totp": pyotp.parse_uri(uri).now()})
    assert resp.status == 200, await resp.text()


async def test_create_user_refusals_by_the_field_change_nothing(client, db_target, owner_conn):
    admin = await new_officer(db_target, "admin")
    taken = (await new_officer(db_target, "registrar")).username
    async with web_session(client) as web:
        await web_login_http(web, admin)
        count = await owner_conn.fetchval("SELECT count(*) FROM users")
        resp = await post(web, "/admin/users/new", "/admin/users/new", {"username": "X!", "role": "registrar"})
        html = await resp.text()
        assert resp.status == 400 and "invalid_value" in field_error(html, "username")
        assert 'value="X!"' in html
        resp = await post(web, "/admin/users/new", "/admin/users/new", {"username": new_name(), "role": "immigration"})
        assert resp.status == 400 and field_error(await resp.text(), "border_point")
        resp = await post(web, "/admin/users/new", "/admin/users/new", {"username": taken, "role": "registrar"})
        assert resp.status == 409 and "already_exists" in field_error(await resp.text(), "username")
        resp = await web.post("/admin/users/new", data={"username": new_name(), "role": "registrar"})
        assert resp.status == 403  # no CSRF token
        assert await owner_conn.fetchval("SELECT count(*) FROM users") == count


async def test_disable_enable_and_reset_mfa(client, db_target, owner_conn):
    admin, officer = await new_officer(db_target, "admin"), await new_officer(db_target, "auditor")
    user_id = await owner_conn.fetchval("SELECT id FROM users WHERE username = $1", officer.username)
    page = f"/admin/users/{user_id}"
    async with web_session(client) as web:
        await web_login_http(web, admin)
        assert "your own account" not in await (await web.get(page)).text()
        own = await owner_conn.fetchval("SELECT id FROM users WHERE username = $1", admin.username)
        assert "This is your own account" in await (await web.get(f"/admin/users/{own}")).text()
        resp = await post(web, page, f"{page}/disable", {})
        assert resp.status == 200 and "The account is disabled." in await resp.text()
        assert await owner_conn.fetchval("SELECT disabled FROM users WHERE id = $1", user_id)
        resp = await post(web, page, f"{page}/enable", {})
        assert "The account is enabled." in await resp.text()
        assert not await owner_conn.fetchval("SELECT disabled FROM users WHERE id = $1", user_id)
        assert (await web.post(f"{page}/disable", data={})).status == 403  # without the token
        assert not await owner_conn.fetchval("SELECT disabled FROM users WHERE id = $1", user_id)
        resp = await post(web, page, f"{page}/reset-mfa", {})
        html = await resp.text()
        uri = unescape(re.search(r'id="totp-uri" class="secret">([^<]*)<', html).group(1))
        assert 'id="one-time-password"' not in html and 'id="totp-qr"' in html
    new_secret = pyotp.parse_uri(uri).secret
    assert new_secret != officer.totp_secret
    assert await owner_conn.fetchval("SELECT totp_secret FROM users WHERE id = $1", user_id) == new_secret
    old = await client.post("/api/v1/auth/token", json={"username": officer.username, "password": officer.password,
                                                        "totp": await fresh_code(officer)})
    assert old.status == 401
    officer.totp_secret, officer.last_step = new_secret, None
    await owner_conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", user_id)
    async with web_session(client) as web:
        await web_login_http(web, officer)


async def test_border_points_add_and_edit(client, db_target, owner_conn):
    admin = await new_officer(db_target, "admin")
    code = "T" + secrets.token_hex(3).upper()
    async with web_session(client) as web:
        await web_login_http(web, admin)
        good = {"code": code, "name": "Test crossing", "province": "Koh Kong", "neighbour": "th",
                "crossing_type": "land", "active": "on"}
        resp = await post(web, "/admin/points", "/admin/points", {**good, "neighbour": "XX"})
        html = await resp.text()
        assert resp.status == 400 and field_error(html, "neighbour") and 'value="Test crossing"' in html
        assert not await owner_conn.fetchval("SELECT 1 FROM border_points WHERE code = $1", code)
        resp = await post(web, "/admin/points", "/admin/points", good)
        assert resp.status == 200 and resp.url.path == f"/admin/points/{code}"
        assert "The border point is saved." in await resp.text()
        resp = await post(web, f"/admin/points/{code}", f"/admin/points/{code}",
                          {**good, "name": "Renamed crossing", "crossing_type": "river", "active": ""})
        assert resp.status == 200
        row = await owner_conn.fetchrow("SELECT * FROM border_points WHERE code = $1", code)
        assert (row["name"], row["neighbour"], row["crossing_type"], row["active"]) == \
            ("Renamed crossing", "TH", "river", False)
        resp = await post(web, "/admin/points", "/admin/points", good)
        assert resp.status == 409 and field_error(await resp.text(), "code")
        assert (await web.get("/admin/points/NOPE_NONE")).status == 404


async def test_partners_add_policy_and_keys(client, db_target, owner_conn, settings):
    admin = await new_officer(db_target, "admin")
    country = await free_country(owner_conn, settings)
    signing, box = keys()
    async with web_session(client) as web:
        await web_login_http(web, admin)
        good = {"country": country.lower(), "url": "https://node.example.org", "signing_key": signing,
                "box_key": box, "key_id": "ed25519:one", "receives": "hits", "legal_basis": "MoU"}
        resp = await post(web, "/admin/partners", "/admin/partners", {**good, "url": "ftp://node"})
        html = await resp.text()
        assert resp.status == 400 and "invalid_value" in field_error(html, "url") and signing in html
        assert not await owner_conn.fetchval("SELECT 1 FROM partners WHERE country = $1", country)
        resp = await post(web, "/admin/partners", "/admin/partners", good)
        assert resp.status == 200 and resp.url.path == f"/admin/partners/{country}"
        assert "ed25519:one" in await resp.text()
        page = f"/admin/partners/{country}"
        resp = await post(web, page, f"{page}/policy", {"receives": "full", "legal_basis": "MoU 2026",
                                                        "categories": "child_trafficking", "active": "on"})
        assert resp.status == 200
        row = await owner_conn.fetchrow("SELECT receives, categories, legal_basis, active FROM partners "
                                        "WHERE country = $1", country)
        assert (row["receives"], list(row["categories"]), row["legal_basis"], row["active"]) == \
            ("full", ["child_trafficking"], "MoU 2026", True)
        resp = await post(web, page, f"{page}/policy", {"receives": "full", "legal_basis": " "})
        assert resp.status == 400 and field_error(await resp.text(), "legal_basis")
        new_signing, new_box = keys()
        resp = await post(web, page, f"{page}/keys", {"signing_key": new_signing, "box_key": new_box,
                                                      "key_id": "bad id"})
        assert resp.status == 400 and field_error(await resp.text(), "key_id")
        resp = await post(web, page, f"{page}/keys", {"signing_key": new_signing, "box_key": new_box,
                                                      "key_id": "ed25519:two"})
        assert "ed25519:two" in await resp.text()
        resp = await post(web, page, f"{page}/revoke", {"kid": "ed25519:one"})
        assert resp.status == 200
        key_set = await owner_conn.fetchval("SELECT key_set FROM partners WHERE country = $1", country)
        revoked = {k["kid"]: k.get("revoked_at") for k in key_set["keys"]}
        assert revoked["ed25519:one"] and not revoked["ed25519:two"]


async def test_every_admin_label_is_defined_in_both_languages(client, db_target, owner_conn):
    """A label key without a text would show as the key itself (``admin.user.title``), in English or Khmer."""
    admin = await new_officer(db_target, "admin")
    user_id = await owner_conn.fetchval("SELECT id FROM users WHERE username = $1", admin.username)
    country = await owner_conn.fetchval("SELECT country FROM partners ORDER BY country LIMIT 1")
    pages = [*ADMIN_PAGES, f"/admin/users/{user_id}", "/admin/points/POIPET"]
    if country is not None:
        pages.append(f"/admin/partners/{country}")
    async with web_session(client) as web:
        await web_login_http(web, admin)
        for lang in ("en", "km"):
            web.cookie_jar.update_cookies({i18n.LANG_COOKIE: lang})
            for page in pages:
                resp = await web.get(page)
                html = await resp.text()
                assert resp.status == 200, (lang, page)
                assert not re.findall(r"admin\.(?!css)[a-z_]+", html), (lang, page)
