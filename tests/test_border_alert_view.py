"""``GET /api/v1/alerts/{id}``: one alert for the liaison desk, and the desk's alert page reading it.

Over HTTP against the session's PostgreSQL: the liaison officer reads one alert (the very object the list
answers for it, open or decided), with its ``border.alert.view`` audit row written in the read's transaction;
other roles are refused (403, audited ``access.denied``); unknown and malformed ids are 404 and audited as not
found; the desk's alert page opens an alert that is not among the first 200 open ones (the list the page used
to scan).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.conftest import login, new_officer, web_login_http, web_session
from tests.test_border_support import alerts_for
from tests.test_web_desk import raise_alert

VIEW = "/api/v1/alerts/{}"
_AUDIT = "SELECT count(*) FROM audit_log WHERE action = $1 AND username = $2"


async def _count(owner_conn, action: str, username: str) -> int:
    return await owner_conn.fetchval(_AUDIT, action, username)


async def test_one_alert_is_the_list_item_and_its_read_is_audited(client, officers, owner_conn):
    hit = await raise_alert(client, officers)
    liaison = officers["liaison"]
    listed = await alerts_for(client, liaison, hit["check"])
    before = await _count(owner_conn, "border.alert.view", liaison.username)
    resp = await client.get(VIEW.format(hit["alert"]), headers=liaison.headers("border_check", **{
        "X-Case-Ref": "KH-2026-11"}))
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "no-store"
    alert = await resp.json()
    assert alert == listed[0]
    assert alert["status"] == "open" and alert["candidate"]["id"] == hit["record"]
    assert await _count(owner_conn, "border.alert.view", liaison.username) == before + 1
    row = await owner_conn.fetchrow(
        "SELECT outcome, record_ids, detail, purpose, case_ref, xact FROM audit_log WHERE action = 'border.alert.view' "
        "AND username = $1 ORDER BY id DESC LIMIT 1", liaison.username)
    assert row["outcome"] == "ok" and row["record_ids"] == [hit["alert"], hit["record"]]
    assert (row["purpose"], row["case_ref"]) == ("border_check", "KH-2026-11")
    assert row["detail"] == {"count": 1}  # ids and a count: no name, date or document number
    for secret in (hit["family"], hit["given"], hit["birth"]):
        assert secret not in str(dict(row))


async def test_a_decided_alert_is_still_read_with_its_decision(client, officers):
    hit = await raise_alert(client, officers)
    liaison = officers["liaison"]
    resp = await client.post(f"/api/v1/alerts/{hit['alert']}/decision", headers=liaison.headers("border_check"),
                             json={"decision": "reject", "reason_code": "different_person"})
    assert resp.status == 200, await resp.text()
    resp = await client.get(VIEW.format(hit["alert"]), headers=liaison.headers("border_check"))
    alert = await resp.json()
    assert resp.status == 200 and alert["status"] == "rejected"
    assert alert["decision"]["reason_code"] == "different_person" and alert["decision"]["by"] == liaison.username
    assert alert == (await alerts_for(client, liaison, hit["check"]))[0]


async def test_the_audit_row_is_written_in_the_transaction_of_the_read(client, officers, owner_conn):
    """While the audit table is locked, the request waits to write its row still holding the lock its SELECT
    of the alert took: the read and its audit row are one transaction (no answer without the row)."""
    hit = await raise_alert(client, officers)
    headers = officers["liaison"].headers("border_check")
    waiting = None
    async with owner_conn.transaction():
        await owner_conn.execute("LOCK TABLE audit_log IN SHARE MODE")  # blocks INSERT, not SELECT
        request = asyncio.create_task(client.get(VIEW.format(hit["alert"]), headers=headers))
        for _ in range(200):  # at most 10 s
            waiting = await owner_conn.fetchval(
                "SELECT pid FROM pg_locks WHERE relation = 'audit_log'::regclass AND NOT granted LIMIT 1")
            if waiting is not None:
                break
            await asyncio.sleep(0.05)
        assert waiting is not None, "the read never tried to write its audit row"
        assert await owner_conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE pid = $1 AND relation = 'border_alerts'::regclass AND granted",
            waiting) == 1
        assert not request.done()  # no answer before the audit row
    resp = await request
    assert resp.status == 200 and (await resp.json())["id"] == hit["alert"]


@pytest.mark.parametrize("role", ["immigration", "registrar", "auditor", "admin"])
async def test_other_roles_are_refused_and_the_refusal_is_audited(client, officers, owner_conn, role):
    hit = await raise_alert(client, officers)
    officer = officers[role]
    views, denied = (await _count(owner_conn, "border.alert.view", officer.username),
                     await _count(owner_conn, "access.denied", officer.username))
    resp = await client.get(VIEW.format(hit["alert"]), headers=officer.headers("border_check"))
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    assert hit["family"] not in await resp.text()
    assert await _count(owner_conn, "access.denied", officer.username) == denied + 1
    assert await _count(owner_conn, "border.alert.view", officer.username) == views
    row = await owner_conn.fetchrow("SELECT outcome, detail FROM audit_log WHERE action = 'access.denied' "
                                    "AND username = $1 ORDER BY id DESC LIMIT 1", officer.username)
    assert row["outcome"] == "denied" and row["detail"]["route"] == "/api/v1/alerts/{id}"


async def test_without_a_purpose_it_is_400(client, officers):
    hit = await raise_alert(client, officers)
    resp = await client.get(VIEW.format(hit["alert"]), headers=officers["liaison"].headers(purpose=None))
    assert resp.status == 400 and (await resp.json())["error"]["field"] == "X-Purpose"
    resp = await client.get(VIEW.format(hit["alert"]) + "?status=all", headers=officers["liaison"].headers())
    assert resp.status == 400 and (await resp.json())["error"]["field"] == "status"


@pytest.mark.parametrize(("raw", "logged"), [
    (str(uuid.UUID(int=7)), True),          # well-formed, unknown: the id is in the audit row
    ("not-an-id", False),
    ("%00", False),                         # a NUL never reaches PostgreSQL
    ("%E0%B9%91" * 12, False),              # Thai digits
    ("1" * 2000, False),                    # a huge id
    (str(uuid.UUID(int=7)).upper() + "x", False),
])
async def test_unknown_and_malformed_ids_are_404_and_audited(client, db_target, owner_conn, raw, logged):
    liaison = await login(client, await new_officer(db_target, "liaison"))  # its audit rows are this case's alone
    resp = await client.get(VIEW.format(raw), headers=liaison.headers("review"))
    assert resp.status == 404, await resp.text()
    error = (await resp.json())["error"]
    assert error["code"] == "not_found" and error["message"] == "no such alert"
    rows = await owner_conn.fetch("SELECT outcome, record_ids, detail FROM audit_log WHERE action = "
                                  "'border.alert.view' AND username = $1", liaison.username)
    assert [r["outcome"] for r in rows] == ["not_found"]
    assert rows[0]["record_ids"] == ([str(uuid.UUID(int=7))] if logged else [])


async def test_the_desk_opens_an_alert_behind_the_first_200_open_ones(client, officers, db_target, owner_conn):
    """The page used to scan the first 200 open alerts of the list: an alert behind them was "no such alert",
    and so was a decided one opened without its check in the link."""
    hit = await raise_alert(client, officers)
    fillers = await owner_conn.fetch(  # 210 open alerts older than ours, copies of it on the same check
        """INSERT INTO border_alerts (check_id, subject, subject_index, person_id, partner_country, partner_record_id,
                                      record_version, probability, explanation, created_at)
           SELECT check_id, subject, subject_index, person_id, partner_country, partner_record_id, record_version,
                  probability, explanation, created_at - g * interval '1 second'
           FROM border_alerts, generate_series(1, 210) g WHERE id = $1 RETURNING id""", uuid.UUID(hit["alert"]))
    try:
        resp = await client.get("/api/v1/alerts?status=open&limit=200", headers=officers["liaison"].headers())
        assert resp.status == 200
        assert hit["alert"] not in {item["id"] for item in (await resp.json())["items"]}
        liaison = await new_officer(db_target, "liaison")
        async with web_session(client) as web:
            await web_login_http(web, liaison)
            resp = await web.get(f"/alerts/{hit['alert']}?purpose=border_check")
            html = await resp.text()
            assert resp.status == 200, html
            assert hit["spelled"] in html and f"{hit['family']} {hit['given']}" in html
            assert "Confirm the match" in html
            resp = await client.post(f"/api/v1/alerts/{hit['alert']}/decision",
                                     headers=officers["liaison"].headers("border_check"),
                                     json={"decision": "confirm", "reason_code": "identity_verified"})
            assert resp.status == 200
            resp = await web.get(f"/alerts/{hit['alert']}?purpose=border_check")  # decided, no ?check= in the link
            html = await resp.text()
            assert resp.status == 200 and "Identity verified" in html and "Confirm the match" not in html
            for path in (f"/alerts/{uuid.uuid4()}?purpose=border_check", "/alerts/%00?purpose=border_check"):
                resp = await web.get(path)
                assert resp.status == 404 and "<code>not_found</code>" in await resp.text(), path
        views = await owner_conn.fetch("SELECT outcome, record_ids FROM audit_log WHERE action = 'border.alert.view' "
                                       "AND username = $1 ORDER BY id", liaison.username)
        assert [r["outcome"] for r in views] == ["ok", "ok", "not_found"]
        assert views[0]["record_ids"] == [hit["alert"], hit["record"]]
    finally:
        await owner_conn.execute("DELETE FROM border_alerts WHERE id = ANY($1::uuid[])", [r["id"] for r in fillers])
