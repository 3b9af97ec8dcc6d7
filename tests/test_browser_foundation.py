"""The login journey in a real browser (Playwright driving Debian's headless Chromium): the form is usable by
keyboard alone, a wrong code is refused with a readable message, the Khmer labels render with the vendored
font, and logging out ends the session."""

from __future__ import annotations

from tests.conftest import fresh_code, new_officer, screenshot, web_login


async def test_keyboard_login_khmer_and_logout(web_page, db_target):
    page = web_page
    officer = await new_officer(db_target, "auditor")
    await page.goto("/login")
    await screenshot(page, "login")
    # keyboard only: the user name field has focus; Tab moves through the fields; Enter submits
    await page.keyboard.type(officer.username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(officer.password)
    await page.keyboard.press("Tab")
    await page.keyboard.type("000000")
    await page.keyboard.press("Enter")
    await page.wait_for_load_state()
    assert await page.get_by_role("alert").inner_text() != ""
    assert "/login" in page.url
    await web_login(page, officer)
    assert officer.username in await page.locator(".who").inner_text()
    # Khmer: the labels switch and the Khmer font is loaded from this service
    await page.get_by_role("link", name="ភាសាខ្មែរ").click()
    await page.wait_for_load_state()
    assert await page.locator("html").get_attribute("lang") == "km"
    assert "ចាកចេញ" in await page.locator("header").inner_text()
    await page.evaluate("document.fonts.ready")
    assert await page.evaluate("document.fonts.check('16px \"Noto Sans Khmer\"', 'ក')")
    await page.get_by_role("button", name="ចាកចេញ").click()
    await page.wait_for_load_state()
    assert "/login" in page.url
    await page.goto("/")
    assert "/login" in page.url  # the session is over


async def test_no_console_errors_or_csp_violations_on_login(web_page, db_target):
    page = web_page
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    officer = await new_officer(db_target, "registrar")
    await page.goto("/login")
    await page.get_by_label("User name").fill(officer.username)
    await page.get_by_label("Password").fill(officer.password)
    await page.get_by_label("Code from your authenticator app").fill(await fresh_code(officer))
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_load_state()
    assert problems == []
