"""The administrator's journey in Chromium: create an immigration officer's account (the one-time password, the
otpauth URI and its QR code shown once, never again), the officer logs in with them; disable and enable the
account; reset its MFA (the old secret stops working, the new enrolment is shown once); add a border point and
edit it; register a partner node and edit its sharing policy; the pages fit 800 px; a liaison officer opening
/admin/users gets the 403 page; no console errors (a CSP violation is one)."""

from __future__ import annotations

import re
import secrets

import pyotp

from tests.conftest import Officer, fresh_code, new_officer, screenshot, web_login
from tests.test_admin_api import free_country, keys
from tests.test_browser_register import _console_errors, _fits_tablet


async def _enrolment(page) -> tuple[str | None, str]:
    uri = (await page.locator("#totp-uri").inner_text()).strip()
    assert uri.startswith("otpauth://totp/")
    qr_width = await page.locator("#totp-qr").evaluate("img => img.complete ? img.naturalWidth : 0")
    assert qr_width > 100  # the server-drawn SVG QR code loaded (a data: image, allowed by the CSP)
    password = None
    if await page.locator("#one-time-password").count():
        password = (await page.locator("#one-time-password").inner_text()).strip()
    return password, uri


async def test_admin_journey(web_page, client, db_target, owner_conn, settings):
    page = web_page
    problems = _console_errors(page)
    admin = await new_officer(db_target, "admin")
    await web_login(page, admin)
    assert page.url.endswith("/admin/users")

    # a new account: the one-time password and the enrolment, once
    username = f"poipet-{secrets.token_hex(3)}"
    await page.get_by_role("link", name="New account").click()
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Role").select_option("immigration")
    await page.get_by_label("Border point").select_option("POIPET")
    await page.get_by_role("button", name="Create the account").click()
    password, uri = await _enrolment(page)
    assert password and len(password) >= 12
    await screenshot(page, "admin-enrolment")
    await _fits_tablet(page)
    await page.get_by_role("link", name="Done: back to the account").click()
    body = await page.locator("main").inner_text()
    assert username in body and password not in body and uri not in body
    officer = Officer(username, password, pyotp.parse_uri(uri).secret, "immigration", "POIPET")
    login = await client.post("/api/v1/auth/token", json={"username": username, "password": password,
                                                          "totp": await fresh_code(officer)})
    assert login.status == 200

    # disable and enable
    await page.get_by_role("button", name="Disable the account").click()
    await page.get_by_text("The account is disabled.").wait_for()
    assert await owner_conn.fetchval("SELECT disabled FROM users WHERE username = $1", username)
    await screenshot(page, "admin-user")
    await page.get_by_role("button", name="Enable the account").click()
    await page.get_by_text("The account is enabled.").wait_for()
    assert not await owner_conn.fetchval("SELECT disabled FROM users WHERE username = $1", username)

    # reset MFA: a new enrolment, shown once; the old secret no longer works
    await page.get_by_role("button", name="Reset the authenticator (MFA)").click()
    new_password, new_uri = await _enrolment(page)
    assert new_password is None and new_uri != uri
    old = await client.post("/api/v1/auth/token", json={"username": username, "password": password,
                                                        "totp": await fresh_code(officer)})
    assert old.status == 401
    officer.totp_secret, officer.last_step = pyotp.parse_uri(new_uri).secret, None
    await owner_conn.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE username = $1", username)
    again = await client.post("/api/v1/auth/token", json={"username": username, "password": password,
                                                          "totp": await fresh_code(officer)})
    assert again.status == 200
    await page.get_by_role("link", name="Done: back to the account").click()
    await page.goto("/admin/users")
    assert username in await page.locator("main").inner_text()
    await screenshot(page, "admin-users")

    # a border point: add, then edit
    code = "T" + secrets.token_hex(3).upper()
    await page.get_by_role("link", name="Border points").click()
    await page.get_by_label("Code").fill(code)
    await page.get_by_label("Name", exact=False).first.fill("Cham Yeam test")
    await page.get_by_label("Province").fill("Koh Kong")
    await page.get_by_label("Neighbouring country").fill("TH")
    await page.get_by_label("Crossing").select_option("land")
    await page.get_by_role("button", name="Add a border point").click()
    await page.get_by_text("The border point is saved.").wait_for()
    await page.get_by_label("Crossing").select_option("sea")
    await page.get_by_label("Active").uncheck()
    await page.get_by_role("button", name="Save the border point").click()
    await page.get_by_text("The border point is saved.").wait_for()
    row = await owner_conn.fetchrow("SELECT crossing_type, active FROM border_points WHERE code = $1", code)
    assert (row["crossing_type"], row["active"]) == ("sea", False)
    await page.get_by_role("link", name="Back to the border points").click()
    assert code in await page.locator("table").inner_text()
    await screenshot(page, "admin-points")

    # a partner node: a refused URL by its field, then registered; its sharing policy edited
    country = await free_country(owner_conn, settings)
    signing, box = keys()
    await page.get_by_role("link", name="Partner nodes").click()
    await page.get_by_label("Country code").fill(country)
    await page.get_by_label("Base URL").fill("ftp://node.example")
    await page.get_by_label("Public signing key").fill(signing)
    await page.get_by_label("Public box key").fill(box)
    await page.get_by_label("Key id").fill("ed25519:k1")
    await page.get_by_role("button", name="Register a partner node").click()
    assert "invalid_value" in await page.locator("#err-url").inner_text()
    assert await page.get_by_label("Public signing key").input_value() == signing  # kept
    await page.get_by_label("Base URL").fill("https://node.example.org")
    await page.get_by_role("button", name="Register a partner node").click()
    await page.get_by_role("heading", name=re.compile(f"Partner node {country}")).wait_for()
    await page.get_by_label("Receives").select_option("full")
    await page.get_by_label("child trafficking").check()
    await page.get_by_label("Legal basis").fill("MoU 2026 art. 4")
    await page.get_by_role("button", name="Save the sharing policy").click()
    await page.get_by_text("Saved.").wait_for()
    row = await owner_conn.fetchrow("SELECT receives, categories, legal_basis FROM partners WHERE country = $1",
                                    country)
    assert (row["receives"], list(row["categories"]), row["legal_basis"]) == \
        ("full", ["child_trafficking"], "MoU 2026 art. 4")
    await screenshot(page, "admin-partner")
    await _fits_tablet(page)
    await page.goto("/admin/partners")
    assert country in await page.locator("table").inner_text()
    await screenshot(page, "admin-partners")

    # keyboard: Tab goes from the user name to the role, in the order of the form
    await page.goto("/admin/users/new")
    await page.get_by_label("User name").focus()
    await page.keyboard.type("x")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.name") == "role"

    # a wrong role: a liaison officer gets the 403 page
    await page.get_by_role("button", name="Log out").click()
    liaison = await new_officer(db_target, "liaison")
    await web_login(page, liaison)
    resp = await page.goto("/admin/users")
    assert resp is not None and resp.status == 403
    assert "403" in await page.locator("main").inner_text()
    assert problems == []
