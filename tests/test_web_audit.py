"""The auditor's pages over plain HTTP, and the chain verification API they use: the log filtered by action,
user, outcome and time (the page's read is itself audited with its filters and purpose), paging by row id, a
refused filter shown next to its field; ``GET /api/v1/audit/verify`` in bounded stretches that add up to the
whole chain, a tampered row named by the API and the page (then put back), and the roles."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from html import unescape

import pytest

from exchange import audit
from exchange.audit_verify_api import verify_stretch
from exchange.web import pages_audit
from tests.conftest import new_officer, web_login_http, web_session

VERIFY = "/api/v1/audit/verify"


@contextlib.asynccontextmanager
async def tampered(owner_conn):
    """Change one chained row as an insider with owner rights would (triggers off), and put it back after."""
    row = await owner_conn.fetchrow(
        "SELECT a.id, a.outcome FROM audit_chain c JOIN audit_log a ON a.id = c.audit_id ORDER BY c.seq DESC LIMIT 1")
    await owner_conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    try:
        await owner_conn.execute("UPDATE audit_log SET outcome = 'tampered' WHERE id = $1", row["id"])
        yield row["id"]
    finally:
        await owner_conn.execute("UPDATE audit_log SET outcome = $2 WHERE id = $1", row["id"], row["outcome"])
        await owner_conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")


@pytest.fixture(scope="module")
async def auditor_web(client, db_target):
    """One logged-in auditor (an HTTP session with its cookie) for the module."""
    auditor = await new_officer(db_target, "auditor")
    async with web_session(client) as web:
        await web_login_http(web, auditor)
        yield auditor, web


async def test_verify_api_in_stretches_adds_up_to_the_whole_chain(client, officers, owner_conn):
    headers = officers["auditor"].headers(purpose=None)
    whole = await (await client.get(VERIFY, headers=headers)).json()
    assert whole["ok"] and whole["complete"] and whole["rows"] == whole["chain_length"] > 3
    assert whole["next_after_seq"] is None
    resp = await client.get(VERIFY, params={"limit": "2"}, headers=headers)
    first = await resp.json()
    assert resp.status == 200 and first["ok"] and not first["complete"] and first["rows"] == 2
    assert first["next_after_seq"] == 2
    second = await (await client.get(VERIFY, params={"after_seq": "2", "limit": "3"}, headers=headers)).json()
    assert second["after_seq"] == 2 and second["last_seq"] == 5 and second["ok"]
    row = await owner_conn.fetchrow("SELECT * FROM audit_log WHERE action = 'audit.verify' ORDER BY id DESC LIMIT 1")
    assert row["username"] == officers["auditor"].username and row["detail"]["last_seq"] == 5
    for bad in ({"after_seq": str(2**62 + 1)}, {"after_seq": "9" * 40}, {"limit": "0"}, {"limit": "1000001"},
                {"from": "1"}):
        resp = await client.get(VERIFY, params=bad, headers=headers)
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_parameter", bad
    for beyond in (str(10**12), str(2**62)):  # well-formed, but no such link: 404 (schemathesis found a 400)
        resp = await client.get(VERIFY, params={"after_seq": beyond, "limit": "1"}, headers=headers)
        assert resp.status == 404 and (await resp.json())["error"]["field"] == "after_seq", beyond
    for role in ("registrar", "liaison", "admin", "immigration"):
        assert (await client.get(VERIFY, headers=officers[role].headers(purpose=None))).status == 403, role


async def test_verify_api_names_a_tampered_row(client, officers, owner_conn):
    headers = officers["auditor"].headers(purpose=None)
    async with tampered(owner_conn) as bad_id:
        body = await (await client.get(VERIFY, headers=headers)).json()
        assert not body["ok"] and body["complete"] and body["first_bad_id"] == bad_id
        assert "content" in body["reason"]
        # a stretch that ends before the changed row does not see it; one that starts just before it does
        seq = await owner_conn.fetchval("SELECT seq FROM audit_chain WHERE audit_id = $1", bad_id)
        before = await (await client.get(VERIFY, params={"limit": str(seq - 1)}, headers=headers)).json()
        assert before["ok"] and not before["complete"]
        stretch = await verify_stretch(owner_conn, seq - 1, 1)
        assert stretch is not None and not stretch.ok and stretch.first_bad_id == bad_id
    assert (await (await client.get(VERIFY, headers=headers)).json())["ok"]
    row = await owner_conn.fetchrow(
        "SELECT outcome, detail FROM audit_log WHERE action = 'audit.verify' AND detail->>'ok' = 'false' "
        "ORDER BY id DESC LIMIT 1")
    assert row["outcome"] == "failed" and row["detail"]["first_bad_id"] == bad_id
    assert (await audit.verify(owner_conn)).ok


async def test_the_verify_page_shows_the_result_and_a_failure(auditor_web, owner_conn):
    _, web = auditor_web
    resp = await web.get("/audit/verify")
    html = await resp.text()
    assert resp.status == 200 and 'class="alert ok verify-result"' in html and "is intact" in html
    async with tampered(owner_conn) as bad_id:
        html = await (await web.get("/audit/verify")).text()
    assert "Verification FAILED" in html and f"First row that does not fit: {bad_id}" in html
    assert f'href="/audit?order=oldest&amp;after={bad_id - 1}&amp;limit=50&amp;purpose=audit"' in html


async def test_the_verify_page_continues_where_its_stretch_stopped(auditor_web, monkeypatch):
    _, web = auditor_web
    monkeypatch.setattr(pages_audit, "VERIFY_LIMIT", 3)
    html = await (await web.get("/audit/verify")).text()
    assert "Verified: links 1 to 3 are intact." in html and "Links up to 3 of" in html
    assert 'href="/audit/verify?after_seq=3"' in html
    html = await (await web.get("/audit/verify", params={"after_seq": "3"})).text()
    assert "Verified: links 4 to 6 are intact." in html


def _rows(html: str) -> list[dict[str, str]]:
    body = html.split('<table class="audit" id="audit-rows">', 1)
    if len(body) == 1:
        return []
    out = []
    for tr in re.findall(r"<tr class=\"(\w+)\" data-action=\"([^\"]+)\">(.*?)</tr>", body[1], re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr[2], re.S)]
        out.append({"outcome": tr[0], "action": tr[1], "id": cells[0], "who": cells[2], "role": cells[3],
                    "purpose": cells[5], "case_ref": cells[6], "records": cells[9]})
    return out


async def test_the_log_filters_by_action_user_outcome_and_time(client, officers, auditor_web, owner_conn):
    auditor, web = auditor_web
    registrar = officers["registrar"]
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(seconds=1)
    # a denial by the registrar (the audit API is the auditor's) and a read of the record list
    assert (await client.get("/api/v1/audit", headers=registrar.headers("audit"))).status == 403
    assert (await client.get("/api/v1/records", headers=registrar.headers("data_quality"))).status == 200
    since = start.strftime("%Y-%m-%dT%H:%M:%S")
    resp = await web.get("/audit", params={"username": registrar.username, "since": since, "purpose": "audit",
                                           "case_ref": "AUD-7"})
    html = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    rows = _rows(html)
    assert {r["who"] for r in rows} == {registrar.username} and len(rows) >= 2
    assert {"access.denied", "record.list"} <= {r["action"] for r in rows}
    denied = _rows(await (await web.get("/audit", params={"username": registrar.username, "since": since,
                                                          "outcome": "denied", "purpose": "audit"})).text())
    assert denied and {r["outcome"] for r in denied} == {"denied"}
    listed = _rows(await (await web.get("/audit", params={"action": "record.list", "username": registrar.username,
                                                          "since": since, "purpose": "audit"})).text())
    assert [r["action"] for r in listed] == ["record.list"] and listed[0]["purpose"] == "data_quality"
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    html = await (await web.get("/audit", params={"since": future, "purpose": "audit"})).text()
    assert _rows(html) == [] and "No row matches these filters." in html
    read = await owner_conn.fetchrow(
        "SELECT * FROM audit_log WHERE action = 'audit.read' AND username = $1 AND case_ref = 'AUD-7'",
        auditor.username)
    assert read["purpose"] == "audit" and read["detail"]["filters"]["username"] == registrar.username


async def test_paging_follows_the_row_ids(client, officers, auditor_web, owner_conn):
    _, web = auditor_web
    while await owner_conn.fetchval("SELECT count(*) FROM audit_log") < 110:  # reads that write an audit row
        await client.get("/api/v1/records", headers=officers["registrar"].headers("data_quality"))
    html = await (await web.get("/audit", params={"limit": "50", "purpose": "audit"})).text()
    first = _rows(html)  # newest first unless asked otherwise
    assert len(first) == 50 and [int(r["id"]) for r in first] == sorted((int(r["id"]) for r in first), reverse=True)
    assert '<option value="newest" selected>Newest first</option>' in html
    found = re.search(r'href="(/audit\?[^"]+)" id="audit-next"', html)
    assert found is not None and "before=" + first[-1]["id"] in unescape(found.group(1))
    second = _rows(await (await web.get(unescape(found.group(1)))).text())
    assert second and int(second[0]["id"]) < int(first[-1]["id"])
    html = await (await web.get("/audit", params={"limit": "50", "order": "oldest", "purpose": "audit"})).text()
    oldest = _rows(html)
    assert len(oldest) == 50 and int(oldest[0]["id"]) < int(oldest[-1]["id"])
    found = re.search(r'href="(/audit\?[^"]+)" id="audit-next"', html)
    assert found is not None and "after=" + oldest[-1]["id"] in unescape(found.group(1))
    assert "order=oldest" in unescape(found.group(1))
    after = _rows(await (await web.get(unescape(found.group(1)))).text())
    assert after and int(after[0]["id"]) > int(oldest[-1]["id"])


async def test_without_a_purpose_the_page_asks_for_it(auditor_web):
    _, web = auditor_web
    html = await (await web.get("/audit")).text()
    assert 'name="purpose"' in html and 'id="audit-rows"' not in html


@pytest.mark.parametrize(("query", "field"), [({"since": "yesterday"}, "since"), ({"until": "2026-99-01"}, "until")])
async def test_a_refused_filter_shows_next_to_its_field_and_reads_nothing(auditor_web, query, field):
    _, web = auditor_web
    resp = await web.get("/audit", params={**query, "purpose": "audit"})
    html = await resp.text()
    assert resp.status == 400 and 'id="audit-rows"' not in html
    found = re.search(rf'<p class="field-error" id="err-{field}" role="alert">([^<]*)</p>', html)
    assert found is not None and "(invalid_parameter)" in unescape(found.group(1))
    assert f'value="{query[field]}"' in html  # the typed value is kept


async def test_other_roles_get_the_403_page(client, db_target):
    registrar = await new_officer(db_target, "registrar")
    async with web_session(client) as web:
        await web_login_http(web, registrar)
        for path in ("/audit?purpose=audit", "/audit/verify"):
            resp = await web.get(path)
            assert resp.status == 403 and "Your role may not open this page." in await resp.text(), path
