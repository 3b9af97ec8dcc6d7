"""The register journeys of issue 6 in a real browser (Playwright driving Debian's headless Chromium): a registrar
creates a record with a Khmer and a Latin name, an alias, a document and a conviction (blocks added without
JavaScript-only controls); corrects it (a new version in the history) and meets a stale edit (the API's 412 shown,
nothing typed lost); sees a validation error next to the birth date with the other values kept; withdraws with a
reason and a confirmation. An immigration officer opening /records gets the 403 page. Every page is checked for
console errors (a CSP violation is one) and for fitting a 10-inch tablet (800 px) without sideways scrolling."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlencode, urlparse

from tests.conftest import new_officer, screenshot, web_login
from tests.test_border_support import unique_word
from tests.test_web_register import PARTNER, _partner_received

RECORDS = "/api/v1/records"


def _console_errors(page) -> list[str]:
    """Console errors of the page; the browser's note about a page answered 4xx on purpose (a refused form,
    the 403 page) and its own /favicon.ico request are not page errors, anything else is (CSP, scripts, styles)."""
    problems: list[str] = []

    def seen(msg) -> None:
        url = msg.location.get("url", "")
        path = urlparse(url).path
        expected_status = msg.text.startswith("Failed to load resource: the server responded with a status of 4")
        if msg.type != "error" or path == "/favicon.ico" or (expected_status and not path.startswith("/static/")):
            return
        problems.append(msg.text)

    page.on("console", seen)
    page.on("pageerror", lambda err: problems.append(str(err)))
    return problems


async def _fits_tablet(page) -> None:
    await page.set_viewport_size({"width": 800, "height": 1000})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    await page.set_viewport_size({"width": 1366, "height": 768})


async def _api_record(client, officer, family: str) -> str:
    body = {"person": {"names": [{"family": family, "given": "Vanna", "script": "Latn"}], "sex": "female",
                       "birth_date": "1981-03-14", "birth_place": "Kampot", "nationalities": ["KH"]},
            "convictions": [{"court": "Kampot Provincial Court", "case_number": "KP-2017-12", "date": "2017-09-01",
                             "offence_category": "child_trafficking"}],
            "sharing": {"countries": []}}
    resp = await client.post(RECORDS, json=body, headers=officer.headers(purpose=None))
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def test_registrar_creates_a_record_in_two_scripts(web_page, db_target):
    page, family = web_page, unique_word("Sok")
    began = dt.datetime.now(dt.UTC).isoformat()
    problems = _console_errors(page)
    await web_login(page, await new_officer(db_target, "registrar"))
    assert urlparse(page.url).path == "/records"  # the registrar's start page (asks the purpose first)
    await page.get_by_role("link", name="New record").first.click()
    await page.wait_for_load_state()
    await page.fill("#f-name-0-family", family)
    await page.fill("#f-name-0-given", "Dara")
    await page.select_option("#f-name-0-script", "Latn")
    await page.get_by_role("button", name="Add another name").click()
    await page.wait_for_load_state()
    # the new block's first field has focus (register.js); what was typed is still there
    assert await page.evaluate("document.activeElement.id") == "f-name-1-family"
    assert await page.input_value("#f-name-0-family") == family
    await page.fill("#f-name-1-full", "សុខ ដារា")
    await page.select_option("#f-name-1-script", "Khmr")
    await page.get_by_role("button", name="Add another name").click()
    await page.wait_for_load_state()
    await page.keyboard.type(f"{family}h")  # typed straight into the focused new block
    await page.fill("#f-name-2-given", "Dara")
    await page.select_option("#f-name-2-kind", "alias")
    await page.select_option("#f-sex", "male")
    await page.fill("#f-birth_date", "1979-04")
    await page.fill("#f-nationalities", "KH")
    await page.select_option("#f-doc-0-kind", "passport")
    await page.fill("#f-doc-0-number", "N1234567")
    await page.fill("#f-doc-0-country", "KH")
    await page.fill("#f-doc-0-expires", "2031-05-01")
    await page.select_option("#f-conv-0-offence_category", "child_sexual_abuse")
    await page.fill("#f-conv-0-court", "Phnom Penh Municipal Court")
    await page.fill("#f-conv-0-case_number", "PP-2019-4411")
    await page.fill("#f-conv-0-date", "2019-06-12")
    await page.fill("#f-conv-0-sentence", "8 years")
    await page.select_option("#f-sharing_mode", "none")
    await screenshot(page, "register-new")
    await _fits_tablet(page)
    await page.get_by_role("button", name="Save", exact=True).last.click()
    await page.wait_for_load_state()
    assert re.fullmatch(r"/records/[0-9a-f-]{36}", urlparse(page.url).path)
    assert "Saved." in await page.get_by_role("status").inner_text()
    names = await page.locator("table.names tbody").inner_text()
    assert f"{family} Dara" in names and "សុខ ដារា" in names and f"{family}h Dara" in names and "alias" in names
    assert "1979-04" in await page.locator("#birth-date").inner_text()
    assert "N1234567" in await page.locator("#h-docs + *").inner_text()
    assert "PP-2019-4411" in await page.locator("main").inner_text()
    assert await page.locator("table.history tbody tr").count() == 1
    await screenshot(page, "register-record")
    await _fits_tablet(page)
    await page.get_by_role("link", name="All records").click()
    await page.wait_for_load_state()
    assert "purpose=data_quality" in page.url and family not in page.url  # ids and purpose in links, no names
    await page.select_option("#f-status", "active")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_load_state()
    assert "status=active" in page.url and await page.locator("table.records tbody tr").count() > 0
    # the list runs oldest change first; "changed since" (here: since this test began) brings ours to the top
    await page.goto("/records?" + urlencode({"purpose": "data_quality", "updated_since": began}))
    assert f"{family} Dara" in await page.locator("table.records tbody tr").first.inner_text()
    await screenshot(page, "register-list")
    await _fits_tablet(page)
    assert problems == []


async def test_registrar_corrects_a_record_and_a_stale_edit_is_refused(web_page, client, officers, db_target,
                                                                       owner_conn):
    page, family = web_page, unique_word("Chan")
    problems = _console_errors(page)
    rid = await _api_record(client, officers["registrar"], family)
    await _partner_received(owner_conn, rid, 1)  # a partner got version 1 and acknowledged it
    await web_login(page, await new_officer(db_target, "registrar"))
    await page.goto(f"/records/{rid}")
    await page.select_option("#f-purpose", "data_quality")  # the guard asks why before showing the record
    await page.get_by_role("button", name="Continue").click()
    await page.wait_for_load_state()
    await page.get_by_role("link", name="Correct").click()
    await page.wait_for_load_state()
    assert await page.input_value("#f-name-0-family") == family
    await page.fill("#f-birth_place", "Kep")
    await page.keyboard.press("Enter")  # Enter in a field saves (it must not add a block)
    await page.wait_for_load_state()
    assert "Saved." in await page.get_by_role("status").inner_text()
    assert "Kep" in await page.locator("dl.facts").inner_text()
    history = page.locator("table.history tbody tr")
    assert await history.count() == 2 and "version 2" in await history.first.inner_text()
    # a double click on Save stores one version and reads "Saved", not a stale refusal of its own second submit
    await page.get_by_role("link", name="Correct").click()
    await page.wait_for_load_state()
    await page.fill("#f-conv-0-sentence", "9 years")
    await page.get_by_role("button", name="Save", exact=True).last.dblclick()
    await page.wait_for_load_state()
    assert "Saved." in await page.get_by_role("status").inner_text()
    assert await history.count() == 3

    # stale: the officer opens the form on version 3, someone else saves version 4 meanwhile
    await page.get_by_role("link", name="Correct").click()
    await page.wait_for_load_state()
    await page.fill("#f-birth_place", "Takeo")
    await page.fill("#f-conv-0-sentence", "10 years")
    resp = await client.get(f"{RECORDS}/{rid}", headers=officers["registrar"].headers("data_quality"))
    theirs = await resp.json()
    body = {"person": {**theirs["person"], "birth_place": "Kampong Som"}, "convictions": theirs["convictions"],
            "sharing": theirs["sharing"]}
    resp = await client.put(f"{RECORDS}/{rid}", json=body, headers={**officers["registrar"].headers(None),
                                                                       "If-Match": '"3"'})
    assert resp.status == 200, await resp.text()
    await page.get_by_role("button", name="Save", exact=True).last.click()
    await page.wait_for_load_state()
    stale = await page.locator("#stale").inner_text()
    assert "the record has changed since that version" in stale and "Someone saved version 4" in stale
    assert await page.input_value("#f-birth_place") == "Takeo"  # nothing typed is lost
    assert await page.input_value("#f-conv-0-sentence") == "10 years"
    await screenshot(page, "register-stale")
    resp = await client.get(f"{RECORDS}/{rid}", headers=officers["registrar"].headers("data_quality"))
    assert (await resp.json())["version"] == 4 and (await resp.json())["person"]["birth_place"] == "Kampong Som"

    # withdraw: a reason and a confirmation
    await page.goto(f"/records/{rid}/withdraw?purpose=data_quality")
    await page.select_option("#f-reason", "acquittal_on_appeal")
    await page.get_by_role("button", name="Withdraw the record").click()
    await page.wait_for_load_state()
    assert "Tick the confirmation" in await page.locator("#err-confirm").inner_text()
    await page.get_by_label("I confirm this record must be withdrawn").check()
    await screenshot(page, "register-withdraw")
    await page.get_by_role("button", name="Withdraw the record").click()
    await page.wait_for_load_state()
    assert "Withdrawn: acquitted on appeal" in await page.locator("main").inner_text()
    assert await history.count() == 5
    assert await page.get_by_role("link", name="Correct").count() == 0
    # the past recipient (its agreement gives it no full records) is told to erase its copy at the first
    # correction, and is owed nothing after that; the erasure waits for its acknowledgement
    deliveries = page.locator("table.deliveries tbody tr")
    assert await deliveries.count() == 2
    first, last = await deliveries.first.inner_text(), await deliveries.last.inner_text()
    assert first.startswith(f"{PARTNER}\t2\terase its copy") and "not yet" in first
    assert last.startswith(f"{PARTNER}\t1\trecord (new or corrected)") and "not yet" not in last
    await screenshot(page, "register-history")
    assert problems == []


async def test_birth_date_error_is_shown_next_to_the_field(web_page, db_target, owner_conn):
    page, family = web_page, unique_word("Sok")
    problems = _console_errors(page)
    await web_login(page, await new_officer(db_target, "registrar"))
    await page.goto("/records/new")
    await page.fill("#f-name-0-family", family)
    await page.fill("#f-name-0-given", "Dara")
    await page.fill("#f-birth_date", "1985-02-30")  # a day that does not exist
    await page.fill("#f-doc-0-number", "N7654321")
    await page.select_option("#f-doc-0-kind", "passport")
    await page.get_by_role("button", name="Save", exact=True).last.click()
    await page.wait_for_load_state()
    error = page.locator("#err-birth_date")
    assert await error.inner_text() == "is not a date that exists (invalid_date)"  # the API's message and code
    assert await page.evaluate("document.activeElement.id") == "f-birth_date"  # focus on the refused field
    await page.keyboard.press("Tab")  # the tab order follows the form
    assert await page.evaluate("document.activeElement.id") == "f-birth_place"
    assert await page.get_by_label("Birth date").get_attribute("aria-invalid") == "true"
    assert await page.input_value("#f-birth_date") == "1985-02-30"
    assert await page.input_value("#f-name-0-family") == family and await page.input_value("#f-doc-0-number") == \
        "N7654321"
    await screenshot(page, "register-error")
    assert await owner_conn.fetchval("SELECT count(*) FROM person_names WHERE family = $1", family) == 0
    assert problems == []


async def test_immigration_officer_gets_the_403_page(web_page, db_target):
    page = web_page
    problems = _console_errors(page)
    await web_login(page, await new_officer(db_target, "immigration", "POIPET"))
    response = await page.goto("/records")
    assert response is not None and response.status == 403
    assert "403" in await page.locator(".alert.error").inner_text()
    assert await page.get_by_role("link", name="Register").count() == 0  # not in the officer's menu
    assert problems == []
