"""The register pages over plain HTTP: the form <-> API body mapping (pure), creating a record with names in two
scripts, an alias, a document and a conviction; "add another" re-renders without saving; the API's validation
error shown next to its field with every value kept and nothing stored; CSRF refused; a correction as a new
version and a stale one refused with 412; withdrawal asks for a confirmation; the record view with its history and
which partner received which version; the deliveries API; roles."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import re
import uuid
from html import unescape
from urllib.parse import urlencode

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from exchange.federation import partners
from exchange.registry.shape import canonical_person
from exchange.web import register_form, register_text
from protocols.record import validate_record_body
from tests.conftest import form_token, new_officer, web_login_http, web_session
from tests.test_border_support import unique_word

PARTNER = "LA"  # a partner of these tests only (agreement: hits), so no other test's outbox changes


def _field_error(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="err-{field}" role="alert">([^<]*)</p>', html)
    assert found is not None, f"no error shown next to {field}"
    return unescape(found.group(1))


def _value(html: str, field: str) -> str:
    found = re.search(rf'name="{field}" type="[a-z]+" value="([^"]*)"', html)
    assert found is not None, f"no input {field}"
    return unescape(found.group(1))


def record_form(family: str) -> dict[str, str]:
    """A record as a registrar types it: a Latin and a Khmer name, an alias, a passport, a conviction."""
    return {
        "name-0-family": family, "name-0-given": "Dara", "name-0-full": "", "name-0-script": "Latn",
        "name-0-kind": "primary",
        "name-1-family": "", "name-1-given": "", "name-1-full": "សុខ ដារា", "name-1-script": "Khmr",
        "name-1-kind": "primary",
        "name-2-family": "", "name-2-given": "", "name-2-full": f"Dara {family}h", "name-2-script": "",
        "name-2-kind": "alias",
        "sex": "male", "birth_date": "1979-04", "birth_place": "Battambang", "nationalities": "KH",
        "external_id": "",
        "doc-0-kind": "passport", "doc-0-number": "N1234567", "doc-0-country": "KH", "doc-0-expires": "2031-05-01",
        "doc-0-mrz": "",
        "conv-0-offence_category": "child_sexual_abuse", "conv-0-court": "Phnom Penh Municipal Court",
        "conv-0-case_number": "PP-2019-4411", "conv-0-date": "2019-06-12", "conv-0-sentence": "8 years",
        "conv-0-release_date": "",
        "addr-0-line": "", "addr-0-locality": "", "addr-0-postcode": "", "addr-0-region": "", "addr-0-country": "",
        "sharing_mode": "none", "sharing": "", "review_date": "",
    }


# --- the form mapping (pure) -----------------------------------------------------------------------------

def test_form_to_body_leaves_out_empty_blocks_and_maps_errors_back():
    form = record_form("Sok")
    form.update({"name-1-full": "", "name-1-script": "", "name-3-full": "Sokh", "name-3-kind": "former"})
    body, origin = register_form.body_of(form)
    assert [n.get("full") or n.get("family") for n in body["person"]["names"]] == ["Sok", "Dara Sokh", "Sokh"]
    assert origin["names"] == [0, 2, 3] and origin["addresses"] == [] and "addresses" not in body["person"]
    assert body["sharing"] == {"countries": []} and body["person"]["nationalities"] == ["KH"]
    # the API's second name is the form's third block; list-level errors go to the first field of the block
    assert register_form.field_of("person.names[1].given", origin) == "name-2-given"
    assert register_form.field_of("person.names[2]", origin) == "name-3-full"
    assert register_form.field_of("convictions[0].release_date", origin) == "conv-0-release_date"
    assert register_form.field_of("person.nationalities[0]", origin) == "nationalities"
    assert register_form.field_of("person.birth_date", origin) == "birth_date"
    assert register_form.field_of("sharing.countries[1]", origin) == "sharing"
    assert register_form.field_of("If-Match", origin) == "" and register_form.field_of(None, origin) == ""


def test_a_record_survives_the_form_round_trip():
    """Every field a record can hold is in the form, so a correction never drops what the page did not show."""
    sent = validate_record_body({
        "person": {"id": "KH-2026-7", "names": [{"family": "Sok", "given": "Dara", "script": "Latn"},
                                                {"full": "សុខ ដារា", "script": "Khmr"},
                                                {"full": "Dara", "kind": "alias"}],
                   "sex": "male", "birth_date": "1979", "birth_place": "Battambang", "nationalities": ["KH", "TH"],
                   "documents": [{"kind": "passport", "number": "N1", "country": "KH", "expires": "2031-05-01",
                                  "mrz": "P<KHMSOK<<DARA\nN1<<<<<<<<"}],
                   "addresses": [{"line": "Street 271", "country": "KH"}]},
        "convictions": [{"court": "C", "case_number": "1", "date": "2019-01-01", "offence_category": "other",
                         "release_date": "2020-01-01"}],
        "sharing": {"countries": ["TH"]}, "review_date": "2030-01-01"})
    record = {**sent, "person": canonical_person(sent["person"])}
    form = register_form.from_record(record)
    body, _ = register_form.body_of(form)
    assert validate_record_body(body) == sent


def test_add_and_remove_blocks_renumber():
    form = register_form.renumbered({"name-0-full": "A", "name-1-full": "B"}, add="name")
    assert [b.get("full") for b in register_form.blocks(form, "name")] == ["A", "B", ""]
    form = register_form.renumbered(form, remove="name-0")
    assert [b.get("full") for b in register_form.blocks(form, "name")] == ["B", ""]
    assert len(register_form.blocks(form, "doc")) == 1  # every group keeps one block to type into


def test_every_label_is_in_english_and_khmer_with_the_same_placeholders():
    assert set(register_text.EN) == set(register_text.KM)
    for key, text in register_text.EN.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", register_text.KM[key])), key


# --- the pages -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
async def webs(client, db_target):
    """One logged-in browser-less session per officer of this module (name -> (session, officer))."""
    async with contextlib.AsyncExitStack() as stack:
        out = {}
        for name, role in (("registrar", "registrar"), ("registrar2", "registrar"), ("liaison", "liaison"),
                           ("auditor", "auditor"), ("immigration", "immigration")):
            officer = await new_officer(db_target, role, "POIPET" if role == "immigration" else None)
            web = await stack.enter_async_context(web_session(client))
            await web_login_http(web, officer)
            out[name] = (web, officer)
        yield out


@pytest.fixture
def registrar_web(webs):
    return webs["registrar"][0]


async def _create(web, form: dict[str, str]) -> str:
    resp = await web.get("/records/new")
    data = {**form, "csrf": form_token(await resp.text()), "idem": str(uuid.uuid4())}
    resp = await web.post("/records/new", data=data, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    found = re.fullmatch(r"/records/([0-9a-f-]{36})\?purpose=data_quality&saved=1", resp.headers["Location"])
    assert found is not None, resp.headers["Location"]
    return found.group(1)


async def test_create_a_record_in_two_scripts_with_alias_document_and_conviction(registrar_web, client, officers):
    web, family = registrar_web, unique_word("Sok")
    resp = await web.get("/records/new")
    html = await resp.text()
    assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
    assert 'for="f-name-0-family">Family name' in html and 'for="f-birth_date">Birth date' in html
    # "Add another name" re-renders with one more block and keeps what was typed; nothing is saved
    token = form_token(html)
    resp = await web.post("/records/new", data={"csrf": token, "name-0-family": family, "add": "name"})
    html = await resp.text()
    assert resp.status == 200 and 'name="name-1-full"' in html and 'name="name-2-full"' not in html
    assert _value(html, "name-0-family") == family and 'data-focus="f-name-1-family"' in html
    web.cookie_jar.update_cookies({"exchange_lang": "km"})
    html = await (await web.get("/records/new")).text()
    assert 'for="f-name-0-family">នាមត្រកូល' in html and "បន្ថែមឈ្មោះមួយទៀត" in html
    web.cookie_jar.update_cookies({"exchange_lang": "en"})

    rid = await _create(web, record_form(family))
    resp = await client.get(f"/api/v1/records/{rid}", headers=officers["registrar"].headers())
    record = await resp.json()
    assert [(n["full"], n.get("script"), n["kind"]) for n in record["person"]["names"]] == [
        (f"{family} Dara", "Latn", "primary"), ("សុខ ដារា", "Khmr", "primary"), (f"Dara {family}h", None, "alias")]
    assert record["person"]["documents"] == [{"kind": "passport", "number": "N1234567", "country": "KH",
                                              "expires": "2031-05-01"}]
    assert record["convictions"][0]["case_number"] == "PP-2019-4411" and record["sharing"] == {"countries": []}
    assert "addresses" not in record["person"]  # the empty address block was left out

    resp = await web.get(f"/records/{rid}?purpose=data_quality&saved=1")
    html = await resp.text()
    assert resp.status == 200 and "Saved." in html and "សុខ ដារា" in html and "(month)" in html
    assert "child sexual abuse" in html and "No partner has been sent this record." in html
    assert re.search(r"<td>version 1</td>|>version 1</a>", html)


async def test_a_double_submit_stores_one_record(registrar_web, owner_conn):
    web, family = registrar_web, unique_word("Sok")
    resp = await web.get("/records/new")
    data = {**record_form(family), "csrf": form_token(await resp.text()), "idem": str(uuid.uuid4())}
    first = await web.post("/records/new", data=data, allow_redirects=False)
    second = await web.post("/records/new", data=data, allow_redirects=False)
    assert first.status == second.status == 303 and first.headers["Location"] == second.headers["Location"]
    count = await owner_conn.fetchval("SELECT count(*) FROM person_names WHERE family = $1", family)
    assert count == 1


async def test_validation_error_is_shown_next_to_its_field_and_nothing_is_stored(registrar_web, owner_conn):
    web, family = registrar_web, unique_word("Sok")
    resp = await web.get("/records/new")
    form = {**record_form(family), "birth_date": "1985-02-30", "csrf": form_token(await resp.text())}
    resp = await web.post("/records/new", data=form)
    html = await resp.text()
    assert resp.status == 400
    assert _field_error(html, "birth_date") == "is not a date that exists (invalid_date)"
    assert 'id="f-birth_date"' in html and 'aria-describedby="err-birth_date"' in html
    assert _value(html, "birth_date") == "1985-02-30" and _value(html, "name-0-family") == family
    assert _value(html, "doc-0-number") == "N1234567" and "សុខ ដារា" in html
    # an error in the API's second name is shown by the form block it came from (block 1 left empty)
    form.update({"birth_date": "1979-04", "name-1-full": "", "name-1-script": "",
                 "name-2-full": "Dara\u202eX"})
    resp = await web.post("/records/new", data=form)
    html = await resp.text()
    assert resp.status == 400 and _field_error(html, "name-2-full")
    assert await owner_conn.fetchval("SELECT count(*) FROM person_names WHERE family = $1", family) == 0


async def test_a_post_without_the_form_token_is_refused(registrar_web, owner_conn):
    family = unique_word("Sok")
    resp = await registrar_web.post("/records/new", data=record_form(family), allow_redirects=False)
    assert resp.status == 403 and "csrf_failed" in await resp.text()
    assert await owner_conn.fetchval("SELECT count(*) FROM person_names WHERE family = $1", family) == 0


async def test_correction_new_version_and_stale_edit_refused(webs, registrar_web, owner_conn):
    family = unique_word("Sok")
    rid = await _create(registrar_web, record_form(family))
    resp = await registrar_web.get(f"/records/{rid}/edit?purpose=data_quality")
    html = await resp.text()
    assert resp.status == 200 and _value(html, "name-0-family") == family and 'name="version" value="1"' in html
    stale_form = {"csrf": form_token(html), "purpose": "data_quality", "version": "1",
                  **register_form.from_record({"person": {"names": [{"family": family, "given": "Dara"}]},
                                               "convictions": []})}
    # another registrar saves version 2 first
    web2, other = webs["registrar2"]
    resp = await web2.get(f"/records/{rid}/edit?purpose=data_quality")
    html2 = await resp.text()
    fields = dict(re.findall(r'name="([a-z0-9_-]+)" type="(?:text|date)" value="([^"]*)"', html2))
    selects = {"name-0-script": "Latn", "name-0-kind": "primary", "name-1-kind": "primary",
               "name-2-kind": "alias", "sex": "male", "doc-0-kind": "passport", "sharing_mode": "none",
               "conv-0-offence_category": "child_sexual_abuse", "name-1-script": "Khmr"}
    data = {**{k: unescape(v) for k, v in fields.items()}, **selects, "birth_place": "Siem Reap",
            "csrf": form_token(html2), "purpose": "data_quality", "version": "1"}
    resp = await web2.post(f"/records/{rid}/edit", data=data, allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/records/{rid}?purpose=data_quality&saved=1"
    # the first registrar's edit of version 1 is now stale: 412, the message shown, the typed values kept
    stale_form["birth_place"] = "Kampot"
    resp = await registrar_web.post(f"/records/{rid}/edit", data=stale_form)
    html = await resp.text()
    assert resp.status == 412 and "the record has changed since that version" in html
    assert "Someone saved version 2" in html and _value(html, "birth_place") == "Kampot"
    versions = await owner_conn.fetch("SELECT version, birth_place FROM record_versions WHERE person_id = $1 "
                                      "ORDER BY version", uuid.UUID(rid))
    assert [(v["version"], v["birth_place"]) for v in versions] == [(1, "Battambang"), (2, "Siem Reap")]
    resp = await registrar_web.get(f"/records/{rid}?purpose=data_quality")
    html = await resp.text()
    assert "version 2, saved" in html and "Siem Reap" in html and other.username in html
    html = await (await registrar_web.get(f"/records/{rid}?purpose=data_quality&version=1")).text()
    assert "You are looking at the older version 1." in html and "Battambang" in html and "Siem Reap" not in html


async def test_withdraw_asks_for_confirmation_then_withdraws(registrar_web, owner_conn):
    rid = await _create(registrar_web, record_form(unique_word("Sok")))
    resp = await registrar_web.get(f"/records/{rid}/withdraw?purpose=data_quality")
    html = await resp.text()
    assert resp.status == 200 and 'name="confirm"' in html
    form = {"csrf": form_token(html), "purpose": "data_quality", "version": "1", "reason": "error", "note": ""}
    resp = await registrar_web.post(f"/records/{rid}/withdraw", data=form)
    html = await resp.text()
    assert resp.status == 400 and "Tick the confirmation" in _field_error(html, "confirm")
    assert await owner_conn.fetchval("SELECT status FROM persons WHERE id = $1", uuid.UUID(rid)) == "active"
    resp = await registrar_web.post(f"/records/{rid}/withdraw", data={**form, "reason": "bogus", "confirm": "yes"})
    html = await resp.text()
    assert resp.status == 400 and "must be one of" in _field_error(html, "reason")
    resp = await registrar_web.post(f"/records/{rid}/withdraw", data={**form, "confirm": "yes"},
                                    allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"].endswith("withdrawn=1")
    assert await owner_conn.fetchval("SELECT status FROM persons WHERE id = $1", uuid.UUID(rid)) == "withdrawn"
    html = await (await registrar_web.get(resp.headers["Location"])).text()
    assert "Withdrawn: entered in error" in html and "Correct</a>" not in html
    resp = await registrar_web.get(f"/records/{rid}/edit?purpose=data_quality", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == f"/records/{rid}?purpose=data_quality"


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _partner_received(owner_conn, rid: str, version: int) -> None:
    """The partner got ``version`` of the record and acknowledged it with a signed receipt (as the sender writes)."""
    async with owner_conn.transaction():
        if not await owner_conn.fetchval("SELECT 1 FROM partners WHERE country = $1", PARTNER):
            await partners.add(owner_conn, country=PARTNER, url="http://127.0.0.1:9/",
                               signing_key=_b64u(bytes(SigningKey.generate().verify_key)),
                               box_key=_b64u(bytes(PrivateKey.generate().public_key)), receives="hits",
                               now=dt.datetime.now(dt.UTC))
        message_id = uuid.uuid4()
        await owner_conn.execute(
            """INSERT INTO outbox (partner, message_id, type, person_id, version, body, status, delivered_at,
                   delivered_via) VALUES ($1, $2, 'record_upsert', $3, $4, '{}'::jsonb, 'delivered', now(), 'push')""",
            PARTNER, message_id, uuid.UUID(rid), version)
        await owner_conn.execute("INSERT INTO deliveries (partner, person_id, version, message_id, via) "
                                 "VALUES ($1, $2, $3, $4, 'push')", PARTNER, uuid.UUID(rid), version, message_id)


async def test_deliveries_show_which_partner_got_which_version(client, webs, officers, registrar_web, owner_conn):
    rid = await _create(registrar_web, record_form(unique_word("Sok")))
    await _partner_received(owner_conn, rid, 1)
    # withdrawing must reach the past recipient: a record_withdrawal of version 2 waits for its acknowledgement
    resp = await registrar_web.get(f"/records/{rid}/withdraw?purpose=data_quality")
    form = {"csrf": form_token(await resp.text()), "purpose": "data_quality", "version": "1", "reason": "death",
            "confirm": "yes"}
    assert (await registrar_web.post(f"/records/{rid}/withdraw", data=form, allow_redirects=False)).status == 303
    resp = await client.get(f"/api/v1/records/{rid}/deliveries", headers=officers["auditor"].headers("audit"))
    assert resp.status == 200
    lines = [(d["partner"], d["version"], d["type"], d["acknowledged_at"] is not None)
             for d in (await resp.json())["deliveries"]]
    assert lines == [(PARTNER, 2, "record_withdrawal", False), (PARTNER, 1, "record_upsert", True)]
    assert await owner_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'record.deliveries' AND $1 = ANY(record_ids)", rid) == 1
    # the auditor's page: the history and the deliveries, not the person
    html = await (await webs["auditor"][0].get(f"/records/{rid}?purpose=audit")).text()
    assert "Auditors see who changed the record" in html and "Battambang" not in html
    assert re.search(rf"<td>{PARTNER}</td><td>2</td><td>erase its copy</td>", html)
    assert re.search(rf"<td>{PARTNER}</td><td>1</td><td>record \(new or corrected\)</td>", html)
    # without a purpose, or for an unknown record
    resp = await client.get(f"/api/v1/records/{rid}/deliveries", headers=officers["auditor"].headers(None))
    assert resp.status == 400
    resp = await client.get(f"/api/v1/records/{uuid.uuid4()}/deliveries", headers=officers["liaison"].headers())
    assert resp.status == 404


async def test_list_filters_and_roles(webs, registrar_web):
    began = dt.datetime.now(dt.UTC).isoformat()
    rid = await _create(registrar_web, record_form(unique_word("Sok")))
    resp = await registrar_web.get("/records")
    assert resp.status == 200 and 'name="purpose"' in await resp.text()  # the purpose is asked first
    query = urlencode({"purpose": "data_quality", "status": "active", "updated_since": began,
                       "offence_category": "child_sexual_abuse", "nationality": "KH"})
    html = await (await registrar_web.get("/records?" + query)).text()
    assert f'href="/records/{rid}?purpose=data_quality"' in html and "New record" in html
    html = await (await registrar_web.get("/records?purpose=data_quality&status=withdrawn")).text()
    assert f'href="/records/{rid}?' not in html
    resp = await registrar_web.get("/records?purpose=data_quality&nationality=XX")
    assert resp.status == 400 and _field_error(await resp.text(), "nationality")
    for role, path in (("immigration", "/records"), ("immigration", f"/records/{rid}"),
                       ("liaison", f"/records/{rid}/edit"), ("liaison", "/records/new"), ("auditor", "/records")):
        resp = await webs[role][0].get(path + "?purpose=investigation", allow_redirects=False)
        assert resp.status == 403, (role, path)
    html = await (await webs["liaison"][0].get(f"/records/{rid}?purpose=investigation")).text()
    assert "Battambang" in html and "/edit" not in html and "/withdraw" not in html
