"""The border post pages over plain HTTP against the real service and database: the check form renders for the
immigration officer only, "Read MRZ" and "Add companion" re-render the form, a submit stores one check (a double
submit replays it), the API's refusals show next to the right field with the values kept and nothing stored,
CSRF is required, the result shows the instruction and takes the outcome, and the recent checks are the post's own.
"""

from __future__ import annotations

import contextlib
import html as htmllib
import re
import uuid
from collections.abc import AsyncIterator

from exchange.web import i18n, post_form, post_messages
from exchange.web.pages_post import _recommendation, instructions, urgent_first
from tests.conftest import form_token, login, new_officer, web_login_http, web_session
from tests.test_border_support import (
    damage,
    family_body,
    in_days,
    random_birth,
    register,
    submit,
    td3,
    unique_word,
    years_ago,
)


@contextlib.asynccontextmanager
async def officer_browser(client, db_target, post: str = "POIPET", role: str = "immigration") -> AsyncIterator:
    officer = await new_officer(db_target, role, post if role == "immigration" else None)
    async with web_session(client) as web:
        await web_login_http(web, officer)
        yield web


def value_of(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" type="\w+" value="([^"]*)"', page)
    assert found is not None, f"no input {name}"
    return htmllib.unescape(found.group(1))


def selected(page: str, name: str) -> str:
    block = re.search(rf'<select [^>]*name="{re.escape(name)}".*?</select>', page, re.S)
    assert block is not None, f"no select {name}"
    chosen = re.search(r'<option value="([^"]*)" selected>', block.group(0))
    return chosen.group(1) if chosen else ""


def error_of(page: str, name: str) -> str | None:
    found = re.search(rf'id="err-{re.escape(name.replace(".", "-"))}" role="alert">([^<]*)<', page)
    return htmllib.unescape(found.group(1)) if found else None


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found is not None, name
    return found.group(1)


def base_fields(page: str, **more: str) -> dict[str, str]:
    return {"csrf": form_token(page), "idem": hidden(page, "idem"), "blocks": hidden(page, "blocks"), **more}


def family_fields(family: str) -> dict[str, str]:
    """A child leaving with both parents, documents in order: the rules raise no flag."""
    out = {"direction": "exit", "situation": "parents", "stated_age": "9", "child.family": family,
           "child.given": unique_word("Sre"), "child.sex": "female", "child.birth_date": years_ago(9, 40),
           "child.nationality": "kh", "child.doc_kind": "passport", "child.doc_number": "N1234567",
           "child.doc_country": "KH", "child.doc_expires": in_days(700), "blocks": "2",
           "destination": "", "dest_country": "TH", "dest_place": "Bangkok", "travel_purpose": "family_visit"}
    for i, (given, sex) in enumerate((("Dara", "male"), ("Srey", "female"))):
        out.update({f"c{i}.family": family, f"c{i}.given": unique_word(given), f"c{i}.sex": sex,
                    f"c{i}.birth_date": years_ago(38), f"c{i}.doc_kind": "national_id",
                    f"c{i}.doc_number": f"K0000000{i}", f"c{i}.relationship": "parent",
                    f"c{i}.evidence": "birth_certificate"})
    return out


async def checks_count(owner_conn) -> int:
    return await owner_conn.fetchval("SELECT count(*) FROM border_checks WHERE border_point = 'POIPET'")


async def test_the_form_renders_for_immigration_with_labels_and_a_fresh_key(client, db_target):
    async with officer_browser(client, db_target) as web:
        resp = await web.get("/post")
        page = await resp.text()
        assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
        for name in ("direction", "situation", "child.family", "child.mrz", "c0.family", "c0.relationship",
                     "consent", "dest_country", "observations"):
            assert f'for="f-{name.replace(".", "-")}"' in page, name
        first = hidden(page, "idem")
        assert uuid.UUID(first) and hidden(page, "blocks") == "1"
        again = hidden(await (await web.get("/post")).text(), "idem")
        assert again != first  # each new form gets its own Idempotency-Key
        assert "style=" not in page and "<script>" not in page and " onclick" not in page
    async with officer_browser(client, db_target, role="liaison") as web:
        assert (await web.get("/post")).status == 403
        assert (await web.get("/post/checks")).status == 403


async def test_read_mrz_fills_the_document_fields_and_a_bad_one_is_named(client, db_target):
    birth, expires = years_ago(8, 10), in_days(900)
    mrz = td3("CHAN", "SREY NEANG", "N7654321", birth, expires)
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        resp = await web.post("/post", data=base_fields(page, **{"action": "mrz:child", "child.mrz": mrz.lower(),
                                                                 "stated_age": "8"}))
        page = await resp.text()
        assert resp.status == 200
        assert value_of(page, "child.family") == "CHAN" and value_of(page, "child.given") == "SREY NEANG"
        assert value_of(page, "child.doc_number") == "N7654321" and value_of(page, "child.doc_country") == "KH"
        assert value_of(page, "child.doc_expires") == expires and value_of(page, "child.birth_date") == birth
        assert value_of(page, "child.nationality") == "KH" and selected(page, "child.sex") == "female"
        assert value_of(page, "stated_age") == "8"  # the rest of the form is kept
        assert re.search(r'name="child.khmer"[^>]*autofocus', page)  # the next field to type in
        # wrong check digit: filled, with a warning; not an MRZ at all: the error sits next to the MRZ field
        resp = await web.post("/post", data=base_fields(page, **{"action": "mrz:c0", "c0.mrz": damage(mrz)}))
        page = await resp.text()
        assert resp.status == 200 and "check digits are wrong" in page and value_of(page, "c0.family") == "CHAN"
        resp = await web.post("/post", data=base_fields(page, **{"action": "mrz:c0", "c0.mrz": "P<KHMCHAN"}))
        page = await resp.text()
        assert resp.status == 400 and "44" in (error_of(page, "c0.mrz") or "")
        assert "P&lt;KHMCHAN" in page  # kept for correction


async def test_add_and_remove_companion_blocks(client, db_target):
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        page = await (await web.post("/post", data=base_fields(page, **{"action": "add", "c0.family": "Sok"}))).text()
        assert hidden(page, "blocks") == "2" and 'name="c1.family"' in page and value_of(page, "c0.family") == "Sok"
        page = await (await web.post("/post", data=base_fields(page, **{
            "action": "remove:c0", "c0.family": "Sok", "c1.family": "Keo"}))).text()
        assert hidden(page, "blocks") == "1" and value_of(page, "c0.family") == "Keo" and 'name="c1.family"' not in page
        # a button the form does not show (a removed block's MRZ) stores nothing
        resp = await web.post("/post", data=base_fields(page, **{"action": "mrz:c5", **family_fields("Keo")}),
                              allow_redirects=False)
        assert resp.status == 200 and value_of(await resp.text(), "c0.family") == "Keo"


async def test_submit_stores_one_check_and_a_double_submit_replays_it(client, db_target, owner_conn):
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        before = await checks_count(owner_conn)
        fields = base_fields(page, **family_fields(unique_word("Vong")))
        first = await web.post("/post", data=fields, allow_redirects=False)
        assert first.status == 303, await first.text()
        location = first.headers["Location"]
        check_id = location.rsplit("/", 1)[1]
        second = await web.post("/post", data=fields, allow_redirects=False)
        assert second.status == 303 and second.headers["Location"] == f"/post/checks/{check_id}?replayed=1"
        assert await checks_count(owner_conn) == before + 1
        row = await owner_conn.fetchrow("SELECT border_point, personal FROM border_checks WHERE id = $1",
                                        uuid.UUID(check_id))
        assert row["border_point"] == "POIPET"
        purpose = await owner_conn.fetchval("SELECT purpose FROM audit_log WHERE action = 'border.check' "
                                            "AND $1 = ANY(record_ids)", check_id)
        assert purpose == "border_check"
        result = await (await web.get(location)).text()
        assert "CLEAR" in result and "No flags." in result
        # the same form changed after it was stored: refused, and a fresh key lets the officer store it anew
        resp = await web.post("/post", data={**fields, "stated_age": "10"}, allow_redirects=False)
        page = await resp.text()
        assert resp.status == 409 and "idempotency_mismatch" in page and hidden(page, "idem") != fields["idem"]
        assert await checks_count(owner_conn) == before + 1


async def test_api_refusals_show_next_to_the_field_with_values_kept_and_nothing_stored(
        client, db_target, owner_conn):
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        before = await checks_count(owner_conn)
        family = unique_word("Vong")
        cases = [
            ({"child.birth_date": years_ago(30)}, "child.birth_date", "invalid_value"),
            ({"c1.doc_number": "N12345€"}, "c1.doc_number", "invalid_value"),
            ({"c0.relationship": "cousin"}, "c0.relationship", "invalid_value"),
            ({"stated_age": "nine"}, "stated_age", "invalid_type"),
            ({"child.family": "", "child.given": ""}, "child.family", "empty"),
            ({"c0.doc_country": "XX"}, "c0.doc_country", "invalid_country"),
            ({"direction": ""}, "direction", "missing_field"),
            ({"seen.family": "Keo"}, "seen.relationship", "missing_field"),
        ]
        for change, field, code in cases:
            fields = base_fields(page, **{**family_fields(family), **change})
            resp = await web.post("/post", data=fields, allow_redirects=False)
            text = await resp.text()
            assert resp.status == 400, (field, resp.status)
            message = error_of(text, field)
            assert message is not None and f"({code})" in message, (field, message)
            assert value_of(text, "child.given") == fields["child.given"] or field == "child.family"
        # in Khmer the message is the Khmer text of the code
        web.cookie_jar.update_cookies({i18n.LANG_COOKIE: "km"})
        fields = base_fields(page, **{**family_fields(family), "child.birth_date": years_ago(30)})
        text = await (await web.post("/post", data=fields)).text()
        assert error_of(text, "child.birth_date") == post_messages.KM["post.err.invalid_value"] + " (invalid_value)"
        assert await checks_count(owner_conn) == before


async def test_the_person_meeting_the_child_is_screened_too(client, db_target, officers):
    family, given, birth = unique_word("Prak"), unique_word("Sam"), random_birth()
    await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                   "birth_date": birth, "sex": "male"})
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        fields = base_fields(page, **family_fields(unique_word("Vong")), **{
            "met.family": given.upper(), "met.given": family.upper(), "met.birth_date": birth,
            "met.relationship": "unknown"})
        resp = await web.post("/post", data=fields)
        result = await resp.text()
        assert resp.status == 200 and "/post/checks/" in str(resp.url)
        assert "HOLD the child" in result and "companion_watchlist_hit" in result


async def test_csrf_is_required(client, db_target, owner_conn):
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post")).text()
        before = await checks_count(owner_conn)
        fields = {k: v for k, v in base_fields(page, **family_fields(unique_word("Vong"))).items() if k != "csrf"}
        resp = await web.post("/post", data=fields, allow_redirects=False)
        assert resp.status == 403 and "csrf_failed" in await resp.text()
        resp = await web.post(f"/post/checks/{uuid.uuid4()}", data={"outcome": "cleared"}, allow_redirects=False)
        assert resp.status == 403
        assert await checks_count(owner_conn) == before


async def test_result_shows_the_instruction_and_records_the_outcome(client, db_target, officers, owner_conn):
    body = family_body()
    body["situation"] = "other_adults"
    body["companions"][0]["relationship"] = "friend_of_family"
    body["companions"][0]["evidence"] = "none"
    answer = await submit(client, officers["immigration"], body)
    async with officer_browser(client, db_target) as web:
        path = f"/post/checks/{answer['id']}"
        page = await (await web.get(path)).text()
        assert "REFER the child" in page and "not a parent or relative" in page and "No consent letter" in page
        resp = await web.post(path, data={"csrf": form_token(page), "outcome": "maybe"}, allow_redirects=False)
        text = await resp.text()
        assert resp.status == 400 and "(invalid_value)" in (error_of(text, "outcome") or "")
        resp = await web.post(path, data={"csrf": form_token(page), "outcome": "referred_police",
                                          "outcome_notes": "handed to the police"}, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == f"{path}?saved=1"
        page = await (await web.get(resp.headers["Location"])).text()
        assert "The outcome is recorded." in page and "Referred to the police" in page
        outcome = await owner_conn.fetchval("SELECT outcome FROM border_checks WHERE id = $1",
                                            uuid.UUID(answer["id"]))
        assert outcome == "referred_police"
        assert (await web.get(f"/post/checks/{uuid.uuid4()}")).status == 404
        assert (await web.get("/post/checks/not-a-uuid")).status == 404


async def test_recent_checks_are_the_officers_own_post_only(client, db_target, officers):
    ours = await submit(client, officers["immigration"], family_body())
    bavet = await login(client, await new_officer(db_target, "immigration", "BAVET"))
    theirs = await submit(client, bavet, family_body())
    async with officer_browser(client, db_target) as web:
        page = await (await web.get("/post/checks")).text()
        assert f'href="/post/checks/{ours["id"]}"' in page
        assert theirs["id"] not in page
        assert (await web.get(f"/post/checks/{theirs['id']}")).status == 404  # another post's check
    async with officer_browser(client, db_target, post="BAVET") as web:
        page = await (await web.get("/post/checks")).text()
        assert theirs["id"] in page and ours["id"] not in page


def test_every_label_has_its_khmer_text():
    assert set(post_messages.EN) == set(post_messages.KM)
    for key, text in post_messages.KM.items():
        assert any("\u1780" <= ch <= "\u17ff" for ch in text), key


def test_api_paths_map_to_form_fields():
    draft = post_form.read_form({"blocks": "3", "child.family": "Chan", "child.khmer": "ចាន់", "c0.family": "",
                                 "c1.family": "Sok", "c1.doc_number": "N1", "c2.given": "Dara"})
    body, where = post_form.to_body(draft)
    assert len(body["companions"]) == 2  # the empty first block is left out
    assert post_form.form_field("companions[0].person.documents[0].number", where) == "c1.doc_number"
    assert post_form.form_field("companions[1].person.names[0].given", where) == "c2.given"
    assert post_form.form_field("child.names[1].full", where) == "child.khmer"
    assert post_form.form_field("child.names", where) == "child.family"
    assert post_form.form_field("companions", where) == "c0.family"
    assert post_form.form_field("time", where) == ""
    assert body["child"]["names"] == [{"family": "Chan"}, {"full": "ចាន់", "script": "Khmr"}]


def test_instructions_put_the_hold_first():
    assert instructions(["companion_watchlist_hit", "unrelated_adult", "no_consent_letter"], "refer") == [
        "hold", "refer"]
    assert instructions(["companion_watchlist_hit"], "secondary_inspection") == ["hold"]
    assert instructions([], "clear") == ["clear"]
    assert instructions(["document_expired"], "secondary_inspection") == ["secondary_inspection"]
    assert _recommendation(["child_alone", "no_consent_letter"])["action"] == "refer"
    assert _recommendation(["a_flag_added_later"])["action"] == "secondary_inspection"
    assert _recommendation([])["action"] == "clear"
    assert urgent_first(["unrelated_adult", "no_document", "child_watchlist_hit"]) == [
        "child_watchlist_hit", "unrelated_adult", "no_document"]
