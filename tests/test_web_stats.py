"""The statistics page and its CSV over plain HTTP: the SVG charts (pure: escaped, proportional), the page's
figures equal the API's numbers for the same filters, the CSV holds exactly the API's rows, a filter the API
refuses is shown next to its field, and a registrar gets the 403 page (every role: test_web_roles)."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from html import unescape

import pytest

from exchange.web import charts, pages_stats
from tests.conftest import new_officer, web_login_http, web_session
from tests.test_border_support import family_body, submit, variant


def test_hbars_escape_labels_and_scale_to_the_largest_count():
    svg = str(charts.hbars([("<script>x</script>", 10), ("b & c", 5)], 'title "quoted"'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "b &amp; c" in svg
    assert svg.startswith('<svg class="chart"') and "<title id=" in svg and 'role="img"' in svg
    widths = [float(w) for w in re.findall(r'<rect class="s0" x="190" y="[0-9.]+" width="([0-9.]+)"', svg)]
    assert len(widths) == 2 and widths[0] == pytest.approx(2 * widths[1])


def test_stacked_days_stack_posts_per_day_and_name_them_in_the_legend():
    svg = str(charts.stacked_days(["2026-01-01", "2026-01-02"],
                                  {"POIPET": {"2026-01-01": 3}, "BAVET": {"2026-01-01": 1, "2026-01-02": 4}}, "t"))
    bars = re.findall(r'<rect class="(s\d)" x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="([0-9.]+)">'
                      r"<title>([0-9-]+) (\w+): (\d+)</title>", svg)
    assert {(day, post, int(n)) for _, _, day, post, n in bars} == {
        ("2026-01-01", "POIPET", 3), ("2026-01-01", "BAVET", 1), ("2026-01-02", "BAVET", 4)}
    heights = {(day, post): float(h) for _, h, day, post, _ in bars}
    assert heights[("2026-01-01", "POIPET")] == pytest.approx(3 * heights[("2026-01-01", "BAVET")])
    assert ">BAVET</text>" in svg and ">POIPET</text>" in svg  # the legend


def test_the_csv_neutralises_formula_cells_and_keeps_every_row():
    stats = {"checks": [{"border_point": "=HYPERLINK(1)", "day": "2026-01-01", "direction": "exit",
                         "situation": "alone", "action": "refer", "outcome": None, "checks": 2}],
             "flags": [{"border_point": "POIPET", "day": "2026-01-01", "flag": "child_alone", "checks": 2}],
             "alerts": []}
    rows = list(csv.reader(io.StringIO(pages_stats.to_csv(stats))))
    assert rows[0] == list(pages_stats.CSV_COLUMNS)
    assert rows[1][1] == "'=HYPERLINK(1)" and rows[1][-1] == "2" and rows[2][7] == "child_alone"


@pytest.fixture(scope="module")
async def checked(client, officers):
    """Three checks at Poipet today: two children alone (flags), one with both parents."""
    alone = family_body()
    alone = variant(alone, situation="alone", companions=[])
    for body in (alone, variant(family_body(), situation="alone", companions=[]), family_body()):
        await submit(client, officers["immigration"], body)
    return officers


@pytest.fixture(scope="module")
async def liaison_web(client, db_target):
    """One logged-in liaison officer (an HTTP session with its cookie) for the module."""
    async with web_session(client) as web:
        await web_login_http(web, await new_officer(db_target, "liaison"))
        yield web


async def _api_stats(client, officer, **query):
    resp = await client.get("/api/v1/border/stats", params=query, headers=officer.headers(purpose=None))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_the_page_shows_the_apis_numbers_as_charts_and_tables(client, checked, liaison_web):
    api = await _api_stats(client, checked["liaison"], border_point="POIPET",
                           until=pages_stats.local_today().isoformat())
    situations = Counter()
    for row in api["checks"]:
        situations[row["situation"]] += row["checks"]
    assert situations["alone"] >= 2 and situations["parents"] >= 1, api
    resp = await liaison_web.get("/stats", params={"border_point": "POIPET"})
    html = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert html.count('<svg class="chart"') == 5
    total = sum(situations.values())
    assert f"{total} checks from {api['since']} to {api['until']}" in html
    # the situation table: "Alone" with the API's count
    table = html.split('id="h-situation"', 1)[1].split("</section>", 1)[0]
    assert re.search(rf'<th scope="row">Alone</th><td class="num">{situations["alone"]}</td>', table)
    assert 'href="/stats.csv?since=' in html and "border_point=POIPET" in html


async def test_the_csv_matches_the_api(client, checked, db_target):
    auditor = await new_officer(db_target, "auditor")
    api = await _api_stats(client, checked["liaison"], until=pages_stats.local_today().isoformat())
    async with web_session(client) as web:
        await web_login_http(web, auditor)
        resp = await web.get("/stats.csv", params={"since": api["since"], "until": api["until"]})
        text = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="border-stats-')
    rows = list(csv.DictReader(io.StringIO(text)))
    got = Counter()
    for row in rows:
        got[(row["table"], row["border_point"], row["day"], row["situation"], row["flag"], row["alert_status"],
             row["outcome"])] += int(row["count"])
    want = Counter()
    for row in api["checks"]:
        key = ("checks", row["border_point"], row["day"], row["situation"], "", "", row["outcome"] or "")
        want[key] += row["checks"]
    for row in api["flags"]:
        want[("flags", row["border_point"], row["day"], "", row["flag"], "", "")] += row["checks"]
    for row in api["alerts"]:
        want[("alerts", row["border_point"], row["day"], "", "", row["status"], "")] += row["alerts"]
    assert got == want and sum(want.values()) > 0


@pytest.mark.parametrize(("query", "field"), [({"since": "2026-02-01", "until": "2026-01-01"}, "since"),
                                              ({"until": "2026-13-01"}, "until")])
async def test_a_refused_filter_shows_next_to_its_field(liaison_web, query, field):
    resp = await liaison_web.get("/stats", params=query)
    html = await resp.text()
    assert resp.status == 400
    found = re.search(rf'<p class="field-error" id="err-{field}" role="alert">([^<]*)</p>', html)
    assert found is not None and "(invalid_parameter)" in unescape(found.group(1))
    assert '<svg class="chart"' not in html


async def test_a_registrar_gets_the_403_page(client, db_target):
    officer = await new_officer(db_target, "registrar")  # every role: tests/test_web_roles.py
    async with web_session(client) as web:
        await web_login_http(web, officer)
        for path in ("/stats", "/stats.csv"):
            resp = await web.get(path)
            assert resp.status == 403, path
            assert "Your role may not open this page." in await resp.text()
