"""The liaison desk pages over plain HTTP: each page renders for its roles and refuses the others, the alert's
side-by-side comparison shows which fields agree, a decision with a wrong reason or without the form's token
changes nothing and shows the API's message by the field, a good one is recorded once; the person search keeps
the person out of the URL and shows the explained candidates; the partners' pages render."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest

from tests.conftest import form_token, new_officer, web_login_http, web_session
from tests.test_border_support import alerts_for, family_body, random_birth, register, submit, unique_word
from tests.test_federation_support import fed_nodes  # noqa: F401 (the session fixture of three nodes)


async def raise_alert(client, officers) -> dict[str, str]:
    """An immigration check at POIPET whose companion is in the register under a slightly different spelling;
    returns the ids and the names as registered and as recorded at the border."""
    family, given, birth = unique_word("S"), unique_word("V"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "male"})
    body = family_body()
    spelled = f"{given} {family}a"  # the border officer typed the family name with one letter more
    body["companions"].append({"person": {"names": [{"full": spelled}], "birth_date": birth, "sex": "male"},
                               "relationship": "other_relative", "evidence": "none"})
    check = await submit(client, officers["immigration"], body)
    alerts = await alerts_for(client, officers["liaison"], check["id"])
    assert len(alerts) == 1, alerts
    return {"check": check["id"], "alert": alerts[0]["id"], "record": pid, "family": family, "given": given,
            "spelled": spelled, "birth": birth}


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{field}" role="alert">([^<]*)</p>', html)
    assert found is not None, f"no error shown next to {field}"
    return unescape(found.group(1))


async def test_desk_asks_the_purpose_then_lists_the_open_alert(client, officers, db_target):
    hit = await raise_alert(client, officers)
    liaison = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        resp = await web.get("/desk")
        assert resp.status == 200 and 'name="purpose"' in await resp.text()  # the purpose is asked first
        resp = await web.get("/desk?purpose=border_check&case_ref=KH-2026-7")
        html = await resp.text()
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        assert f"/alerts/{hit['alert']}?purpose=border_check&amp;case_ref=KH-2026-7" in html
        assert "check=" not in html  # the alert is read by its id alone
        assert hit["spelled"] in html and "POIPET" in html
        assert "Review queue" in html and "Overdue acknowledgements" in html


async def test_alert_side_by_side_and_decision(client, officers, db_target, owner_conn):
    hit = await raise_alert(client, officers)
    liaison = await new_officer(db_target, "liaison")
    page = f"/alerts/{hit['alert']}?purpose=border_check"
    status = "SELECT status FROM border_alerts WHERE id = $1"
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        resp = await web.get(page)
        html = await resp.text()
        assert resp.status == 200
        rows = {label: verdict for verdict, label in
                re.findall(r'<tr class="row-(\w+)">\s*<th scope="row">([^<]+)</th>', html)}
        assert rows["Birth date"] == "agree" and rows["Names"] == "agree" and rows["Documents"] == "unknown"
        assert hit["spelled"] in html and f"{hit['family']} {hit['given']}" in html  # both sides of the names
        assert "names spelled closely" in html  # the matching explanation in words
        assert f'href="/records/{hit["record"]}?purpose=border_check"' in html
        token = form_token(html)
        assert 'name="check"' not in html
        form = {"decision": "confirm", "purpose": "border_check"}
        # without the form's token: refused, nothing decided
        resp = await web.post(f"/alerts/{hit['alert']}", data={**form, "confirm_reason": "identity_verified"},
                              allow_redirects=False)
        assert resp.status == 403 and "csrf_failed" in await resp.text()
        # a reject reason sent with a confirmation: the API's message next to the reason, nothing decided
        resp = await web.post(f"/alerts/{hit['alert']}", data={**form, "csrf": token,
                                                               "confirm_reason": "different_person"})
        html = await resp.text()
        assert resp.status == 400 and "must be one of" in _field_error(html, "confirm_reason")
        assert await owner_conn.fetchval(status, uuid.UUID(hit["alert"])) == "open"
        # the decision: recorded once, with its audit row, and the page says so
        resp = await web.post(f"/alerts/{hit['alert']}", data={**form, "csrf": token,
                                                               "confirm_reason": "identity_verified"},
                              allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == f"/alerts/{hit['alert']}?purpose=border_check&decided=1"
        assert await owner_conn.fetchval(status, uuid.UUID(hit["alert"])) == "confirmed"
        audit = await owner_conn.fetchrow(
            "SELECT username, detail FROM audit_log WHERE action = 'border.alert.decision' AND $1 = ANY(record_ids)",
            hit["alert"])
        assert audit["username"] == liaison.username and audit["detail"]["reason_code"] == "identity_verified"
        html = await (await web.get(resp.headers["Location"])).text()
        assert "The decision is recorded." in html and "Identity verified" in html and "Confirm the match" not in html
        # deciding again: the conflict is shown, the first decision stands
        resp = await web.post(f"/alerts/{hit['alert']}", data={**form, "csrf": token, "decision": "reject",
                                                               "reject_reason": "different_person"})
        assert resp.status == 409 and "already been decided" in await resp.text()
        assert await owner_conn.fetchval(status, uuid.UUID(hit["alert"])) == "confirmed"


async def test_unknown_alert_is_404(client, db_target):
    liaison = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        for path in (f"/alerts/{uuid.uuid4()}?purpose=review", f"/alerts/{uuid.uuid4()}?purpose=border_check",
                     "/alerts/not-an-id?purpose=review"):
            assert (await web.get(path)).status == 404, path


async def test_search_finds_a_different_spelling_without_the_person_in_the_url(client, officers, db_target,
                                                                                 owner_conn):
    family, given, birth = unique_word("Ch"), unique_word("So"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "female"})
    for role in ("liaison", "registrar"):
        officer = await new_officer(db_target, role)
        async with web_session(client) as web:
            await web_login_http(web, officer)
            resp = await web.get("/search?purpose=investigation")
            html = await resp.text()
            assert resp.status == 200 and 'id="f-full"' in html and "<option value=\"investigation\" selected>" in html
            resp = await web.post("/search", data={"csrf": form_token(html), "full": f"{given}a {family}",
                                                   "birth_date": birth, "purpose": "investigation",
                                                   "case_ref": "CASE-1"}, allow_redirects=False)
            html = await resp.text()
            assert resp.status == 200 and str(resp.url).endswith("/search")  # the query never reaches a URL
            assert f"/records/{pid}?purpose=investigation&amp;case_ref=CASE-1" in html
            assert "Candidate 1" in html and "birth dates agree" in html and f"{given}a {family}" in html
    audit = await owner_conn.fetchrow("SELECT detail FROM audit_log WHERE action = 'person.search' "
                                      "AND $1 = ANY(record_ids) ORDER BY at DESC LIMIT 1", pid)
    assert audit is not None and family not in str(audit["detail"])


async def test_search_errors_show_by_the_field_and_record_nothing(client, db_target, owner_conn):
    liaison = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        token = form_token(await (await web.get("/search")).text())
        before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'person.search'")
        resp = await web.post("/search", data={"csrf": token, "full": "Sok Dara", "birth_date": "1990-13-45",
                                               "purpose": "investigation"})
        html = await resp.text()
        assert resp.status == 400 and _field_error(html, "birth_date") != ""
        assert 'value="Sok Dara"' in html  # the form keeps what was typed
        resp = await web.post("/search", data={"csrf": token, "birth_date": "1990", "purpose": "investigation"})
        assert resp.status == 400 and _field_error(await resp.text(), "full") != ""
        resp = await web.post("/search", data={"full": "Sok Dara", "purpose": "investigation"})
        assert resp.status == 403 and "csrf_failed" in await resp.text()
        assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'person.search'") == before


async def test_partner_pages_and_wrong_roles(client, db_target):
    roles = {role: await new_officer(db_target, role, "POIPET" if role == "immigration" else None)
             for role in ("liaison", "admin", "immigration")}  # registrars' search: test_search_finds_...
    pages = {"/partners": ("liaison", "admin"), "/partner-records?purpose=review": ("liaison",),
             "/desk?purpose=review": ("liaison",), "/search": ("liaison", "registrar")}
    for role, officer in roles.items():
        async with web_session(client) as web:
            await web_login_http(web, officer)
            for path, allowed in pages.items():
                resp = await web.get(path, allow_redirects=False)
                html = await resp.text()
                if role in allowed:
                    assert resp.status == 200, (role, path)
                else:
                    assert resp.status == 403 and "Your role may not open this page." in html, (role, path)
    async with web_session(client) as web:
        await web_login_http(web, roles["liaison"])
        html = await (await web.get("/partner-records?purpose=review&status=active")).text()
        assert "Partner records" in html and 'id="f-country"' in html
        resp = await web.get("/partner-records?purpose=review&status=bogus")
        assert resp.status == 400 and "status" in await resp.text()


async def test_review_item_side_by_side_and_decision(client, officers, db_target, owner_conn):
    from tests.test_federation_review import queued_match

    item = await queued_match(client, officers, owner_conn)
    liaison = await new_officer(db_target, "liaison")
    status = "SELECT status FROM partner_match_candidates WHERE id = $1"
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        html = await (await web.get("/desk?purpose=review")).text()
        assert f'href="/review/{item["id"]}?purpose=review"' in html and item["spelled"] in html
        resp = await web.get(f"/review/{item['id']}?purpose=review")
        html = await resp.text()
        assert resp.status == 200 and "Partner record (TH)" in html and f"TH:{item['record_id']}" in html
        rows = {label: verdict for verdict, label in
                re.findall(r'<tr class="row-(\w+)">\s*<th scope="row">([^<]+)</th>', html)}
        assert rows["Birth date"] == "agree" and rows["Names"] == "agree"
        assert "ed25519:test" in html  # the key the partner's message was signed with
        token = form_token(html)
        resp = await web.post(f"/review/{item['id']}", data={"csrf": token, "purpose": "review",
                                                             "decision": "reject", "reject_reason": "document_match"})
        assert resp.status == 400 and "must be one of" in _field_error(await resp.text(), "reject_reason")
        assert await owner_conn.fetchval(status, item["id"]) == "open"
        resp = await web.post(f"/review/{item['id']}", data={"csrf": token, "purpose": "review",
                                                             "decision": "reject", "reject_reason": "different_person"},
                              allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == f"/review/{item['id']}?purpose=review&decided=1"
        assert await owner_conn.fetchval(status, item["id"]) == "rejected"
        html = await (await web.get(resp.headers["Location"])).text()
        assert "rejected: A different person" in html
        assert (await web.get("/review/abc?purpose=review")).status == 404
        assert (await web.get("/review/999999999999?purpose=review")).status == 404


def test_comparison_rows_and_verdicts():
    from exchange.web.desk_compare import compare, search_body, search_field

    query = {"names": [{"full": "សុខ ដារា", "script": "Khmr"}], "birth_date": "1980-02-03", "sex": "male"}
    candidate = {"names": [{"family": "Sok", "given": "Dara", "kind": "alias"}], "birth_date": "1980-03-02",
                 "sex": "male", "documents": [{"kind": "passport", "country": "KH", "number": "N123"}]}
    features = [{"name": "name", "level": "translit", "weight": 6.1, "detail": "same name across scripts"},
                {"name": "birth_date", "level": "swapped", "weight": -1.5, "detail": "day and month swapped"},
                {"name": "sex", "level": "same", "weight": -0.01, "detail": "both male"},
                {"name": "document", "level": "missing", "weight": 0.0, "detail": "no comparable documents"},
                {"name": "name_parts", "level": "missing", "weight": 0.0, "detail": "no refinement"}]
    rows = {r["field"]: r for r in compare(query, candidate, features)}
    assert rows["names"]["query"] == ["សុខ ដារា (Khmr)"] and rows["names"]["candidate"] == ["Sok Dara (alias)"]
    assert [rows[f]["verdict"] for f in ("names", "birth_date", "sex", "documents")] == \
        ["agree", "disagree", "weak", "unknown"]
    assert rows["documents"]["candidate"] == ["passport · KH · N123"] and rows["documents"]["query"] == []
    assert rows["name_parts"]["feature"]["detail"] == "no refinement"  # a feature of no person field comes last
    assert "addresses" not in rows  # neither side has it and the model said nothing
    body = search_body({"full": "Sok Dara", "family": "", "given": "", "birth_date": "1980", "sex": "",
                        "nationality": "kh", "document_kind": "", "document_number": "", "document_country": ""})
    assert body == {"person": {"names": [{"full": "Sok Dara"}], "birth_date": "1980", "nationalities": ["kh"]}}
    assert search_body({})["person"]["names"] == []
    assert (search_field("person.names[0].family"), search_field("person.documents[0].number"),
            search_field("person.x"), search_field(None)) == ("family", "document_number", "", "")


async def test_desk_pages_in_khmer_have_every_label(client, officers, db_target, owner_conn):
    from tests.test_federation_review import queued_match

    hit = await raise_alert(client, officers)
    item = await queued_match(client, officers, owner_conn)
    liaison = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        await web.get("/lang/km", allow_redirects=False)
        for path in ("/desk?purpose=review", f"/alerts/{hit['alert']}?purpose=review",
                     f"/review/{item['id']}?purpose=review", "/search", "/partners", "/partner-records?purpose=review"):
            resp = await web.get(path)
            html = await resp.text()
            assert resp.status == 200 and '<html lang="km">' in html, path
            assert re.search(r">\s*desk\.[a-z_.]+", html) is None, (path, re.findall(r"desk\.[a-z_.]+", html)[:3])
        html = await (await web.get(f"/alerts/{hit['alert']}?purpose=review")).text()
        assert "ប្រៀបធៀបម្ខាងៗ" in html and "បញ្ជាក់ការត្រូវគ្នា" in html


async def test_partners_page_shows_an_overdue_acknowledgement(client, officers, db_target, owner_conn):
    from tests.test_border_partners import _ensure_partner

    await _ensure_partner(owner_conn, "MM")  # a partner of this test alone (its queue is nobody else's)
    pid = await register(client, officers["registrar"], {"names": [{"full": unique_word("Ko")}],
                                                         "birth_date": random_birth()})
    await owner_conn.execute(
        "INSERT INTO outbox (partner, message_id, type, person_id, version, body, created_at) "
        "VALUES ('MM', $1, 'record_withdrawal', $2, 2, '{}'::jsonb, now() - interval '3 days')",
        uuid.uuid4(), uuid.UUID(pid))
    liaison = await new_officer(db_target, "liaison")
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        html = await (await web.get("/partners")).text()
        section = html[html.index('id="p-MM"'):]
        section = section[:section.index("</section>")]
        assert "1 overdue" in section and "record_withdrawal" in section
        assert f'href="/records/{pid}?purpose=review"' in section
        html = await (await web.get("/desk?purpose=review")).text()
        assert re.search(r'<span class="badge bad">MM</span>\s*1 overdue', html)
        resp = await web.get(f"/records/{pid}?purpose=review")  # the record and its history (register pages)
        assert resp.status == 200


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # the three nodes shared with the federation test files


async def _record_request(owner_conn, pid: str) -> int:
    """Partner MM asks for the record behind our hit answer (as the inbox stores a verified record_request)."""
    from tests.test_border_partners import _ensure_partner

    await _ensure_partner(owner_conn, "MM")
    answer_msg, request_msg, reference = uuid.uuid4(), uuid.uuid4(), f"ref-{uuid.uuid4().hex[:12]}"
    async with owner_conn.transaction():
        for message_id, kind in ((answer_msg, "match_query"), (request_msg, "record_request")):
            await owner_conn.execute("INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) "
                                     "VALUES ($1, 'MM', $2, 'ed25519:test', 'sig', '\\x00'::bytea)", message_id, kind)
        await owner_conn.execute("INSERT INTO match_answers (reference, partner, message_id, query_id, person_id, "
                                 "band) VALUES ($1, 'MM', $2, 'q-1', $3, 'high')", reference, answer_msg,
                                 uuid.UUID(pid))
        return await owner_conn.fetchval(
            "INSERT INTO record_requests (partner, message_id, reference, purpose, legal_basis) "
            "VALUES ('MM', $1, $2, 'investigation', 'MLA treaty art. 4') RETURNING id", request_msg, reference)


async def test_a_partners_record_request_is_approved_from_the_desk(client, officers, db_target, owner_conn):
    pid = await register(client, officers["registrar"], {"names": [{"full": unique_word("Ko")}],
                                                         "birth_date": random_birth()})
    req_id = await _record_request(owner_conn, pid)
    liaison = await new_officer(db_target, "liaison")
    status = "SELECT status FROM record_requests WHERE id = $1"
    async with web_session(client) as web:
        await web_login_http(web, liaison)
        html = await (await web.get("/desk?purpose=partner_request")).text()
        assert f'href="/requests/{req_id}?purpose=partner_request"' in html
        resp = await web.get(f"/requests/{req_id}?purpose=partner_request")
        html = await resp.text()
        assert resp.status == 200 and "MLA treaty art. 4" in html and f"/records/{pid}?" in html
        form = {"purpose": "partner_request", "decision": "approve"}
        resp = await web.post(f"/requests/{req_id}", data=form)
        assert resp.status == 403 and "csrf_failed" in await resp.text()
        resp = await web.post(f"/requests/{req_id}", data={**form, "csrf": form_token(html), "note": "x" * 600})
        assert resp.status == 400 and _field_error(await resp.text(), "note") != ""
        assert await owner_conn.fetchval(status, req_id) == "pending"
        resp = await web.post(f"/requests/{req_id}", data={**form, "csrf": form_token(html), "note": "checked"},
                              allow_redirects=False)
        assert resp.status == 303
        assert resp.headers["Location"] == f"/requests/{req_id}?purpose=partner_request&decided=1"
        assert await owner_conn.fetchval(status, req_id) == "approved"
        assert await owner_conn.fetchval("SELECT count(*) FROM outbox WHERE partner = 'MM' AND type = 'record_upsert' "
                                         "AND person_id = $1", uuid.UUID(pid)) == 1
        assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'federation.disclosure' "
                                         "AND $1 = ANY(record_ids)", pid) == 1
        html = await (await web.get(resp.headers["Location"])).text()
        assert "The decision is recorded." in html and "Approve and send the record" not in html
        resp = await web.post(f"/requests/{req_id}", data={**form, "csrf": form_token(html)})
        assert resp.status == 409 and await owner_conn.fetchval(status, req_id) == "approved"
        assert (await web.get(f"/requests/{req_id}9999?purpose=partner_request")).status == 404


async def test_ask_a_partner_then_request_the_record(nodes):
    """On Thailand's node (the federation tests' three nodes): the liaison officer searches, asks Cambodia, gets
    a hit with a reference, is told the legal basis is missing, then requests the record; Cambodia holds the
    request for its liaison officer."""
    import aiohttp

    from tests.test_federation_support import record_body
    from tests.test_federation_support import register as node_register

    kh, th = nodes["KH"], nodes["TH"]
    family, given, birth = unique_word("Heng"), unique_word("Srey"), random_birth()
    await node_register(kh, record_body(family, given, birth=birth, passport=f"N{uuid.uuid4().int % 10**7:07d}",
                                        sharing=[]))
    officer = await new_officer(th.target, "liaison", settings=th.settings)
    base = str(th.client.make_url("")).rstrip("/")
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])  # the node's cookies are Secure
    async with aiohttp.ClientSession(base_url=base + "/", cookie_jar=jar) as web:
        await web_login_http(web, officer)
        html = await (await web.get("/search?purpose=investigation")).text()
        assert "Ask a partner" not in html  # offered once there is a search to send
        person = {"csrf": form_token(html), "full": f"{given} {family}", "birth_date": birth,
                  "purpose": "investigation"}
        html = await (await web.post("/search", data=person)).text()
        assert "Ask a partner" in html and '<option value="KH">KH</option>' in html
        resp = await web.post("/search/partner", data={**person, "partner": "KH",
                                                       "partner_purpose": "criminal_investigation"})
        html = await resp.text()
        found = re.search(r"KH has a record of this person: reference (ref-[A-Za-z0-9._:-]+), band (\w+)\.", html)
        assert resp.status == 200 and found is not None, html[-3000:]
        ask = {**person, "partner": "KH", "partner_purpose": "criminal_investigation", "reference": found.group(1),
               "band": found.group(2)}
        resp = await web.post("/search/partner-record", data={**ask, "legal_basis": ""})
        assert resp.status == 400 and _field_error(await resp.text(), "legal_basis") != ""
        resp = await web.post("/search/partner-record", data={**ask, "legal_basis": "Bilateral agreement art. 5"})
        html = await resp.text()
        assert resp.status == 200 and "The partner received the request" in html
        assert f"reference {found.group(1)}, band {found.group(2)}." in html
        resp = await web.post("/search/partner", data={**person, "partner": "LA",
                                                       "partner_purpose": "criminal_investigation"})
        assert resp.status == 404 and _field_error(await resp.text(), "partner") != ""
    held = await kh.owner.fetchrow("SELECT partner, status, legal_basis FROM record_requests WHERE reference = $1",
                                   found.group(1))
    assert (held["partner"], held["status"], held["legal_basis"]) == ("TH", "pending", "Bilateral agreement art. 5")
