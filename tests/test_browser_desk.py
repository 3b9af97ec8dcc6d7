"""The liaison desk in a real browser (Playwright driving Debian's headless Chromium):

- an immigration officer's check at Poipet raises an alert (over the API); the liaison officer opens the desk,
  gives the purpose, opens the alert, reads the side-by-side comparison and confirms it with a reason code;
- the liaison officer searches a person spelled differently (at tablet width, by keyboard), reads the
  explanation of our record and of Thailand's record of the same person, and confirms the match in the review
  queue with a reason code;
- an immigration officer opening /desk gets the 403 page.
Every page is checked for console errors (a CSP violation is one).
"""

from __future__ import annotations

import re
import uuid

from tests.conftest import new_officer, screenshot, web_login
from tests.test_federation_review import queued_match
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


async def test_search_a_different_spelling_read_the_explanation_and_confirm(web_page, client, officers, db_target,
                                                                            owner_conn):
    """At tablet width, by keyboard: the register entry and Thailand's record of the same person (spelled
    differently) are found with their explanations; the match waits in the review queue and is confirmed."""
    page = web_page
    problems = _console_errors(page)
    await page.set_viewport_size({"width": 800, "height": 1100})  # a 10-inch tablet
    item = await queued_match(client, officers, owner_conn)
    family, given = item["family"], item["given"]
    liaison = await new_officer(db_target, "liaison")
    await web_login(page, liaison)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Person search").click()
    # keyboard only: the full name has focus; Tab walks the form in order; Alt+S submits
    assert await page.evaluate("document.activeElement.id") == "f-full"
    spelled = f"{given[:-1]} {family}"  # a letter less in the given name
    await page.keyboard.type(spelled)
    for _ in range(3):
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "f-birth_date"
    await page.keyboard.type(item["birth"])
    await page.get_by_label("Purpose").select_option("investigation")
    await page.get_by_label("Case reference (optional)").fill("INV-77")
    async with page.expect_navigation():
        await page.keyboard.press("Alt+S")
    assert page.url.endswith("/search") and given not in page.url  # the person never in a URL
    ours = page.locator("article.candidate").filter(has=page.locator(f'a[href^="/records/{item["pid"]}"]'))
    text = await ours.inner_text()
    assert spelled in text and f"{family} {given}" in text
    assert "birth dates agree" in text and re.search(r"names (spelled closely|sound the same)", text)
    assert await ours.locator("tr.row-agree").count() >= 2
    assert await ours.get_by_role("link", name="Open the record and its history").get_attribute("href") == \
        f"/records/{item['pid']}?purpose=investigation&case_ref=INV-77"
    theirs = page.locator("article.candidate").filter(has_text=f"Partner record {item['record_id']}")
    assert "Partner record (TH)" in await theirs.inner_text()
    await screenshot(page, "desk-search")
    async with page.expect_navigation():
        await theirs.get_by_role("link", name="Matches with our register wait in the review queue").click()
    row = page.locator("table.desk-review tr", has_text=item["record_id"])
    async with page.expect_navigation():
        await row.get_by_role("link", name="Compare and decide").click()
    names = page.locator("table.compare tr", has=page.get_by_role("rowheader", name="Names"))
    text = await names.inner_text()
    assert "agrees" in text and "weight +" in text and re.search(r"names (spelled closely|sound the same)", text)
    await screenshot(page, "desk-review")
    await page.get_by_label("Reason for confirming").select_option("identity_verified")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Confirm the match").click()
    assert await page.get_by_role("status").filter(has_text="The decision is recorded.").count() == 1
    assert await owner_conn.fetchval("SELECT status FROM partner_match_candidates WHERE id = $1",
                                     item["id"]) == "confirmed"
    assert await owner_conn.fetchval("SELECT case_ref FROM audit_log WHERE action = 'partner_match.decision' "
                                     "AND $1 = ANY(record_ids)", f"review:{item['id']}") == "INV-77"
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
