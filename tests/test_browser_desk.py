"""The liaison desk in a real browser (Playwright driving Debian's headless Chromium):

- an immigration officer's check at Poipet raises an alert (over the API); the liaison officer opens the desk,
  gives the purpose, opens the alert, reads the side-by-side comparison and confirms it with a reason code;
- the liaison officer searches a person spelled differently, reads the explanation of the candidate and opens
  the record, at tablet width and by keyboard;
- an immigration officer opening /desk gets the 403 page.
Every page is checked for console errors (a CSP violation is one).
"""

from __future__ import annotations

import re
import uuid

from tests.conftest import new_officer, screenshot, web_login
from tests.test_border_support import random_birth, register, unique_word
from tests.test_web_desk import raise_alert


def _console_errors(page) -> list[str]:
    problems: list[str] = []
    def seen(msg) -> None:
        # the browser's own /favicon.ico request from the login and purpose pages (base.html names no icon) is
        # not a page error; anything else (a CSP violation, a failed script or style) is
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            problems.append(msg.text)

    page.on("console", seen)
    page.on("pageerror", lambda err: problems.append(str(err)))
    return problems


async def test_desk_sees_the_poipet_alert_compares_and_confirms(web_page, client, officers, db_target, owner_conn):
    page = web_page
    problems = _console_errors(page)
    hit = await raise_alert(client, officers)
    liaison = await new_officer(db_target, "liaison")
    await web_login(page, liaison)
    assert page.url.endswith("/desk")  # the liaison officer's start page asks why first
    await page.get_by_label("Purpose").select_option("border_check")
    await page.get_by_label("Case reference (optional)").fill("POI-2026-11")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Continue").click()
    row = page.locator("table.desk-alerts tr", has_text=hit["spelled"])
    assert "POIPET" in await row.inner_text()
    await screenshot(page, "desk-start")
    async with page.expect_navigation():
        await row.get_by_role("link", name="Compare and decide").click()
    assert f"/alerts/{hit['alert']}" in page.url and hit["given"] not in page.url  # ids only in the link
    compare = page.locator("table.compare")
    birth = compare.locator("tr", has=page.get_by_role("rowheader", name="Birth date"))
    assert hit["birth"] in await birth.inner_text() and "agrees" in await birth.inner_text()
    names = compare.locator("tr", has=page.get_by_role("rowheader", name="Names"))
    text = await names.inner_text()
    assert hit["spelled"] in text and f"{hit['family']} {hit['given']}" in text and "names spelled closely" in text
    assert "weight +" in text
    await screenshot(page, "desk-alert")
    await page.get_by_label("Reason for confirming").select_option(label="Identity verified")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Confirm the match").click()
    assert await page.get_by_role("status").filter(has_text="The decision is recorded.").count() == 1
    assert "confirmed: Identity verified" in await page.locator("#main").inner_text()
    assert await owner_conn.fetchval("SELECT status FROM border_alerts WHERE id = $1",
                                     uuid.UUID(hit["alert"])) == "confirmed"
    case = await owner_conn.fetchval("SELECT case_ref FROM audit_log WHERE action = 'border.alert.decision' "
                                     "AND $1 = ANY(record_ids)", hit["alert"])
    assert case == "POI-2026-11"
    async with page.expect_navigation():
        await page.get_by_role("link", name="Back to the desk").click()
    assert await page.locator("table.desk-alerts tr", has_text=hit["spelled"]).count() == 0
    assert problems == []


async def test_search_a_different_spelling_read_the_explanation_by_keyboard(web_page, client, officers, db_target):
    page = web_page
    problems = _console_errors(page)
    await page.set_viewport_size({"width": 800, "height": 1100})  # a 10-inch tablet
    family, given, birth = unique_word("Chh"), unique_word("Sok"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "female",
                                                         "nationalities": ["KH"]})
    liaison = await new_officer(db_target, "liaison")
    await web_login(page, liaison)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Person search").click()
    # keyboard only: the full name has focus; Tab walks the form in order
    assert await page.evaluate("document.activeElement.id") == "f-full"
    spelled = f"{given[:-1]} {family}h"  # a letter less in the given name, one more in the family name
    await page.keyboard.type(spelled)
    for _ in range(3):
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-birth_date"
    await page.keyboard.type(birth)
    await page.get_by_label("Purpose").select_option("investigation")
    await page.get_by_label("Case reference (optional)").fill("INV-77")
    async with page.expect_navigation():
        await page.keyboard.press("Alt+S")
    assert page.url.endswith("/search") and given not in page.url  # the person never in a URL
    card = page.locator("article.candidate").filter(has=page.locator(f'a[href^="/records/{pid}"]'))
    assert await card.count() == 1
    text = await card.inner_text()
    assert spelled in text and f"{family} {given}" in text
    assert re.search(r"birth dates agree", text) and "names spelled" in text
    assert await card.locator("tr.row-agree").count() >= 2
    await screenshot(page, "desk-search")
    link = card.get_by_role("link", name="Open the record and its history")
    assert await link.get_attribute("href") == f"/records/{pid}?purpose=investigation&case_ref=INV-77"
    assert problems == []


async def test_wrong_role_gets_the_403_page(web_page, db_target):
    page = web_page
    problems = _console_errors(page)
    officer = await new_officer(db_target, "immigration", "POIPET")
    await web_login(page, officer)
    response = await page.goto("/desk")
    assert response is not None and response.status == 403
    assert "Your role may not open this page." in await page.get_by_role("alert").inner_text()
    assert problems == [] or all("403" in p for p in problems)
