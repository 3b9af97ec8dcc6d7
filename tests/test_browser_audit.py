"""The auditor's pages and the statistics in a real browser (Playwright driving Debian's headless Chromium):

- over the API, a registrar creates a record, an immigration officer at Poipet submits a check that matches it,
  and a liaison officer confirms the alert; the auditor (start page /audit) gives the purpose, filters the log
  by action, user and time, and sees each of those actions with its user, role, post, purpose and record ids;
- the chain verification shows the chain intact, and FAILED with the changed row when an insider alters a row
  (put back afterwards);
- the statistics page draws its charts, and the CSV it downloads holds the API's numbers; at 800 px nothing
  overflows the page;
- a registrar opening /audit gets the 403 page.
Every page is checked for console errors (a CSP violation is one).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path

from exchange.web.pages_stats import local_today
from tests.conftest import new_officer, screenshot, web_login
from tests.test_border_alerts import _decide, _hit
from tests.test_browser_desk import _console_errors
from tests.test_web_audit import tampered


async def _filter(page, **values: str) -> None:
    """Fill the log's filters (blank the others) and show."""
    for label, name in (("Action", "action"), ("User name", "username")):
        await page.get_by_label(label, exact=True).fill(values.get(name, ""))
    if "since" in values:
        await page.get_by_label("From (UTC)", exact=True).fill(values["since"])
    async with page.expect_navigation():
        await page.get_by_role("button", name="Show").click()


async def _row_text(page, action: str, record_id: str) -> str:
    """The text of the one row of ``action`` naming ``record_id`` (every shown row has that action)."""
    shown = await page.locator("table#audit-rows tr[data-action]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)")
    assert shown and set(shown) == {action}, shown
    rows = page.locator(f'table#audit-rows tr[data-action="{action}"]', has_text=record_id)
    assert await rows.count() == 1, action
    return await rows.inner_text()


async def test_the_auditor_sees_the_actions_and_the_chain(web_page, client, officers, db_target, owner_conn):
    page = web_page
    problems = _console_errors(page)
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    check_id, alert_id, pid = await _hit(client, officers)  # registrar's record, Poipet's check, the alert
    resp = await _decide(client, officers["liaison"], alert_id, "confirm", "identity_verified")
    assert resp.status == 200, await resp.text()

    auditor = await new_officer(db_target, "auditor")
    await web_login(page, auditor)
    assert page.url.endswith("/audit")  # the auditor's start page asks why first
    await page.get_by_label("Purpose").select_option("audit")
    await page.get_by_label("Case reference (optional)").fill("AUD-2026-11")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Continue").click()

    await _filter(page, action="record.create", username=officers["registrar"].username, since=since)
    text = await _row_text(page, "record.create", pid)
    assert officers["registrar"].username in text and "registrar" in text
    await _filter(page, action="border.check", username=officers["immigration"].username, since=since)
    text = await _row_text(page, "border.check", check_id)
    assert officers["immigration"].username in text and "POIPET" in text and "border_check" in text
    await _filter(page, action="border.alert.decision", username=officers["liaison"].username, since=since)
    text = await _row_text(page, "border.alert.decision", alert_id)
    assert officers["liaison"].username in text and "liaison" in text
    assert "purpose=audit" in page.url and "case_ref=AUD-2026-11" in page.url  # codes and ids only in links
    # every action since the start, by any user: all three are listed
    await page.get_by_label("Rows per page").select_option("500")
    await _filter(page, since=since)
    listed = await page.locator("table#audit-rows tr[data-action]").evaluate_all(
        "rows => rows.map(r => r.dataset.action)")
    assert {"record.create", "border.check", "border.alert.decision"} <= set(listed)
    await screenshot(page, "audit-log")

    async with page.expect_navigation():
        await page.get_by_role("link", name="Chain verification").click()
    result = page.locator("#verify-result")
    assert "is intact" in await result.inner_text()
    await screenshot(page, "audit-verify")
    async with tampered(owner_conn) as bad_id:
        await page.reload()
        text = await result.inner_text()
        assert "Verification FAILED" in text and f"First row that does not fit: {bad_id}" in text
        await screenshot(page, "audit-verify-failed")
        async with page.expect_navigation():
            await page.get_by_role("link", name="Open this row in the log").click()
        assert await page.locator(f'table#audit-rows tr.tampered td:text-is("{bad_id}")').count() == 1
    assert problems == []


async def test_the_statistics_charts_and_csv(web_page, client, officers, db_target, tmp_path: Path):
    page = web_page
    problems = _console_errors(page)
    await _hit(client, officers)  # at least one check at Poipet today
    liaison = await new_officer(db_target, "liaison")
    await web_login(page, liaison)
    async with page.expect_navigation():
        await page.get_by_role("link", name="Statistics").click()
    await page.get_by_label("Border post", exact=True).select_option("POIPET")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Show").click()
    assert await page.locator("svg.chart").count() == 5
    for name in ("Checks per day by border post", "Checks by travel situation", "Checks by flag",
                 "Checks by outcome"):  # each chart is an image named by its <title>
        assert await page.get_by_role("img", name=name, exact=True).count() == 1, name
    await screenshot(page, "stats")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download these figures (CSV)").click()
    download = await info.value
    saved = tmp_path / "stats.csv"
    await download.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    resp = await client.get("/api/v1/border/stats", params={"border_point": "POIPET",
                                                            "until": local_today().isoformat()},
                            headers=officers["liaison"].headers(None))
    api = await resp.json()
    assert Counter((r["day"], r["situation"]) for r in rows for _ in range(int(r["count"])) if r["table"] == "checks") \
        == Counter((r["day"], r["situation"]) for r in api["checks"] for _ in range(r["checks"]))
    assert sum(int(r["count"]) for r in rows if r["table"] == "flags") == sum(r["checks"] for r in api["flags"])
    total = sum(r["checks"] for r in api["checks"])
    assert f"{total} checks from" in await page.locator("#stats-total").inner_text()
    await page.set_viewport_size({"width": 800, "height": 1000})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 800
    await screenshot(page, "stats-800")
    assert problems == []


async def test_a_registrar_gets_the_403_page(web_page, db_target):
    page = web_page
    problems = _console_errors(page)
    await web_login(page, await new_officer(db_target, "registrar"))
    response = await page.goto("/audit?purpose=audit")
    assert response is not None and response.status == 403
    assert "Your role may not open this page." in await page.locator("main").inner_text()
    assert await page.get_by_role("link", name="Audit log").count() == 0  # not in the registrar's menu
    assert all("status of 403" in p for p in problems), problems  # the page's own status, nothing else
