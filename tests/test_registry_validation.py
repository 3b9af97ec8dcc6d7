"""Bad input to the register API: each answered with its 4xx and ``{"error": {"code", "message", "field"}}``,
and nothing written to the record tables (the audit log may record a denial, so it is not counted here).
Also: every text the validators accept is NFC as PostgreSQL itself judges it, so no DB CHECK can fail (500).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import unicodedata
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from exchange.registry.common import check_born, latest_today
from exchange.registry.shape import canonical_person
from exchange.registry.storable import check_storable
from protocols.record import validate_record_body
from protocols.validation import ValidationError, clean_text

from .test_registry_api import RECORDS, counts, create, make_body

TOO_LONG = "x" * 201


def person_change(**changes: Any) -> dict[str, Any]:
    body = make_body()
    body["person"] = {**body["person"], **changes}
    return body


def name_change(**changes: Any) -> dict[str, Any]:
    return person_change(names=[{"family": "Sok", "given": "Dara", **changes}])


def conviction_change(**changes: Any) -> dict[str, Any]:
    body = make_body()
    body["convictions"] = [{**body["convictions"][0], **changes}]
    return body


def top_change(**changes: Any) -> dict[str, Any]:
    return {**make_body(), **changes}


# (case id, body, status, error code, field)
BAD_BODIES: list[tuple[str, Any, int, str, str | None]] = [
    ("unknown top field", top_change(role="admin"), 400, "unknown_field", "role"),
    ("unknown person field", person_change(eye_colour="brown"), 400, "unknown_field", "person.eye_colour"),
    ("names not a list", person_change(names="Sok Dara"), 400, "invalid_type", "person.names"),
    ("no names", person_change(names=[]), 400, "empty", "person.names"),
    ("name without text", person_change(names=[{"kind": "alias"}]), 400, "empty", "person.names[0]"),
    ("name wrong type", name_change(family=7), 400, "invalid_type", "person.names[0].family"),
    ("name too long", name_change(family=TOO_LONG), 400, "too_long", "person.names[0].family"),
    ("NUL in name", name_change(given="Da\x00ra"), 400, "forbidden_character", "person.names[0].given"),
    ("RLO in name", name_change(given="Dara\u202e"), 400, "forbidden_character", "person.names[0].given"),
    ("bidi isolate in name", name_change(family="\u2067Sok"), 400, "forbidden_character", "person.names[0].family"),
    ("unknown script", name_change(script="Klingon"), 400, "invalid_value", "person.names[0].script"),
    ("impossible birth date", person_change(birth_date="1979-02-30"), 400, "invalid_date", "person.birth_date"),
    ("month 13", person_change(birth_date="1979-13"), 400, "invalid_date", "person.birth_date"),
    ("birth date in the future", person_change(birth_date="2999-01-01"), 400, "invalid_date", "person.birth_date"),
    ("birth year in the future", person_change(birth_date="2999"), 400, "invalid_date", "person.birth_date"),
    ("Thai digits in birth date", person_change(birth_date="๑๙๗๙-๐๔-๑๒"), 400, "invalid_date", "person.birth_date"),
    ("birth date as number", person_change(birth_date=1979), 400, "invalid_date", "person.birth_date"),
    ("sex not in the list", person_change(sex="M"), 400, "invalid_value", "person.sex"),
    ("nationality not a list", person_change(nationalities="KH"), 400, "invalid_type", "person.nationalities"),
    ("nationality unknown", person_change(nationalities=["XX"]), 400, "invalid_country", "person.nationalities[0]"),
    ("Thai digits in document number", person_change(documents=[{"kind": "passport", "number": "N๑๒๓๔๕๖"}]),
     400, "invalid_value", "person.documents[0].number"),
    ("document number with a newline", person_change(documents=[{"kind": "passport", "number": "N12\n34"}]),
     400, "invalid_value", "person.documents[0].number"),
    ("impossible expiry", person_change(documents=[{"kind": "passport", "number": "N1", "expires": "2031-04-31"}]),
     400, "invalid_date", "person.documents[0].expires"),
    ("person id with spaces", person_change(id="KH 1"), 400, "invalid_value", "person.id"),
    ("unassigned character in birth place", person_change(birth_place="Phnom\u0378Penh"), 400,
     "forbidden_character", "person.birth_place"),
    ("birth place too long", person_change(birth_place="y" * 301), 400, "too_long", "person.birth_place"),
    ("address with NUL", person_change(addresses=[{"line": "12\x00 Street"}]), 400, "forbidden_character",
     "person.addresses[0].line"),
    ("impossible conviction date", conviction_change(date="1979-02-30"), 400, "invalid_date", "convictions[0].date"),
    ("release before conviction", conviction_change(release_date="2010-01-01"), 400, "invalid_date",
     "convictions[0].release_date"),
    ("offence not in the list", conviction_change(offence_category="theft"), 400, "invalid_value",
     "convictions[0].offence_category"),
    ("unassigned character in court", conviction_change(court="Court \U000e0080"), 400, "forbidden_character",
     "convictions[0].court"),
    ("too many convictions", top_change(convictions=make_body()["convictions"] * 51), 400, "too_many",
     "convictions"),
    ("unknown partner", top_change(sharing={"countries": ["ZZ"]}), 400, "invalid_country", "sharing.countries[0]"),
    ("sharing as a list", top_change(sharing=["TH"]), 400, "invalid_type", "sharing"),
    ("Thai digits in review date", top_change(review_date="๒๐๓๐-๐๑-๐๑"), 400, "invalid_date", "review_date"),
    ("review date as number", top_change(review_date=20300101), 400, "invalid_date", "review_date"),
    ("no person", {"convictions": []}, 400, "missing_field", "person"),
    ("body is a list", [make_body()], 400, "invalid_type", "body"),
]

# (case id, raw bytes, content type, status, error code)
BAD_RAW: list[tuple[str, bytes, str, int, str]] = [
    ("NaN", b'{"person": {"names": [{"full": "A"}]}, "review_date": NaN}', "application/json", 400, "invalid_json"),
    ("1e400", b'{"person": {"names": [{"full": "A"}]}, "review_date": 1e400}', "application/json", 400,
     "invalid_json"),
    ("lone surrogate", b'{"person": {"names": [{"full": "A\\ud800"}]}}', "application/json", 400, "invalid_json"),
    ("duplicate key", b'{"person": {"names": [{"full": "A"}]}, "person": {"names": [{"full": "B"}]}}',
     "application/json", 400, "invalid_json"),
    ("deep nesting", b"[" * 100_000, "application/json", 400, "invalid_json"),
    ("not UTF-8", b'{"person": {"names": [{"full": "\xff"}]}}', "application/json", 400, "invalid_json"),
    ("empty body", b"", "application/json", 400, "invalid_json"),
    ("huge integer", b'{"person": {"names": [{"full": "A"}]}, "review_date": 123456789012345678901}',
     "application/json", 400, "invalid_json"),
    ("over the size limit", b'{"person": {"names": [{"full": "' + b"a" * (1024 * 1024 + 10) + b'"}]}}',
     "application/json", 413, "body_too_large"),
    ("form data", b"person=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ("plain text", b'{"person": {"names": [{"full": "A"}]}}', "text/plain", 415, "unsupported_media_type"),
]


@pytest.fixture(scope="module")
async def existing(client, officers) -> str:
    """A record to send bad replacements to (it stays at version 1)."""
    return (await create(client, officers["registrar"], make_body()))["id"]


async def invalid_audits(owner_conn, officer) -> int:
    return await owner_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE username = $1 AND outcome = 'invalid'", officer.username)


def assert_error(body: dict[str, Any], code: str, field: str | None = None) -> None:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(("case", "body", "status", "code", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_bad_body_is_refused_and_nothing_written(client, officers, owner_conn, existing, method, case, body,
                                                       status, code, field):
    before, audited = await counts(owner_conn), await invalid_audits(owner_conn, officers["registrar"])
    url = RECORDS if method == "POST" else f"{RECORDS}/{existing}"
    resp = await client.request(method, url, json=body, headers=officers["registrar"].headers(
        purpose=None, **{"If-Match": "1", "Idempotency-Key": f"k-{uuid.uuid4()}"}))
    assert resp.status == status, await resp.text()
    assert_error(await resp.json(), code, field)
    assert await counts(owner_conn) == before
    # the refusal is a security event: audited with its code and field, never the value
    assert await invalid_audits(owner_conn, officers["registrar"]) == audited + 1
    row = await owner_conn.fetchrow("SELECT action, detail FROM audit_log WHERE username = $1 ORDER BY id DESC LIMIT 1",
                                    officers["registrar"].username)
    assert row["action"] == ("record.create" if method == "POST" else "record.update")
    assert row["detail"] == {"status": status, "code": code, "field": field}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize(("case", "raw", "content_type", "status", "code"), BAD_RAW, ids=[c[0] for c in BAD_RAW])
async def test_bad_raw_body_is_refused_and_nothing_written(client, officers, owner_conn, existing, method, case, raw,
                                                           content_type, status, code):
    before, audited = await counts(owner_conn), await invalid_audits(owner_conn, officers["registrar"])
    url = RECORDS if method == "POST" else f"{RECORDS}/{existing}"
    resp = await client.request(method, url, data=io.BytesIO(raw), headers=officers["registrar"].headers(
        purpose=None, **{"If-Match": "1", "Content-Type": content_type}))
    assert resp.status == status, await resp.text()
    assert_error(await resp.json(), code)
    assert await counts(owner_conn) == before
    assert await invalid_audits(owner_conn, officers["registrar"]) == audited + 1


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_LIST_QUERIES = [
    ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"), ({"limit": "abc"}, "limit"), ({"limit": "-1"}, "limit"),
    ({"limit": "๑๐"}, "limit"), ({"limit": "1e2"}, "limit"),
    ({"status": "deleted"}, "status"), ({"offence_category": "theft"}, "offence_category"),
    ({"nationality": "XX"}, "nationality"), ({"nationality": "KHM"}, "nationality"),
    ({"updated_since": "yesterday"}, "updated_since"), ({"updated_since": "๒๐๒๖-01-01"}, "updated_since"),
    ({"cursor": "!!!"}, "cursor"), ({"cursor": _cursor("garbage")}, "cursor"),
    ({"cursor": _cursor("2026-01-01T00:00:00+00:00|not-a-uuid")}, "cursor"),
    ({"cursor": _cursor(f"not-a-time|{uuid.uuid4()}")}, "cursor"),
    ({"name": "Sok Dara"}, "name"),  # names never go into URLs: there is no name search here
    ({"q": "x"}, "q"),
]


@pytest.mark.parametrize(("query", "field"), BAD_LIST_QUERIES, ids=[next(iter(q)) + "=" + next(iter(q.values()))
                                                                    for q, _ in BAD_LIST_QUERIES])
async def test_bad_list_parameters(client, officers, query, field):
    resp = await client.get(RECORDS, params=query, headers=officers["liaison"].headers())
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), "invalid_parameter", field)


async def test_repeated_parameter_is_refused(client, officers):
    resp = await client.get(f"{RECORDS}?limit=1&limit=2", headers=officers["liaison"].headers())
    assert resp.status == 400
    assert_error(await resp.json(), "invalid_parameter", "limit")


@pytest.mark.parametrize("query", ["version=0", "version=abc", "version=99999999999", "version=-1", "name=Sok"])
async def test_bad_read_parameters(client, officers, existing, query):
    resp = await client.get(f"{RECORDS}/{existing}?{query}", headers=officers["liaison"].headers())
    assert resp.status == 400
    assert_error(await resp.json(), "invalid_parameter")


@pytest.mark.parametrize("if_match", ["abc", "*", '"1', "0", 'W/"1"', "1,2", "١"])
async def test_bad_if_match(client, officers, owner_conn, existing, if_match):
    before = await counts(owner_conn)
    resp = await client.put(f"{RECORDS}/{existing}", json=make_body(),
                            headers=officers["registrar"].headers(purpose=None, **{"If-Match": if_match}))
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), "invalid_parameter", "If-Match")
    assert await counts(owner_conn) == before


@pytest.mark.parametrize("key", ["has spaces", "x" * 129, "-leading-dash", "ключ"])
async def test_bad_idempotency_key(client, officers, owner_conn, key):
    before = await counts(owner_conn)
    resp = await client.post(RECORDS, json=make_body(),
                             headers=officers["registrar"].headers(purpose=None, **{"Idempotency-Key": key}))
    assert resp.status == 400
    assert_error(await resp.json(), "invalid_parameter", "Idempotency-Key")
    assert await counts(owner_conn) == before


@pytest.mark.parametrize(("body", "code", "field"), [
    ({"reason": "bored"}, "invalid_value", "reason"),
    ({}, "missing_field", "reason"),
    ({"reason": "death", "role": "admin"}, "unknown_field", "role"),
    ({"reason": "death", "note": "x\x00y"}, "forbidden_character", "note"),
    ({"reason": "death", "note": "n" * 501}, "too_long", "note"),
    ({"reason": "death", "note": "unassigned \u0378"}, "forbidden_character", "note"),
    ({"reason": ["death"]}, "invalid_value", "reason"),
])
async def test_bad_withdrawal(client, officers, owner_conn, existing, body, code, field):
    before = await counts(owner_conn)
    resp = await client.post(f"{RECORDS}/{existing}/withdraw", json=body,
                             headers=officers["registrar"].headers(purpose=None))
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), code, field)
    assert await counts(owner_conn) == before


# Nag Mundari (Unicode 15) + combining acute: Python 3.11 (Unicode 14) sees an unassigned character of
# combining class 0, PostgreSQL 18 (Unicode 16) a combining mark that sorts after U+0301, so they disagree on
# NFC. clean_text lets it through outside names; check_storable is what keeps it from a DB CHECK (500).
NEWER_UNICODE = "\U0001e4ed\u0301"


def _candidates() -> list[str]:
    """Strings around every assigned-or-not code point: alone, after a base letter, before combining marks,
    after a Hangul leading jamo (NFC composes those), with surrounding spaces the validator strips."""
    out = ["\u212b", "\u0344", "\u0958", "\uf900", " \u0301x", "e\u0301 ", "\u1100\u1161\u11a8", "A\u030a",
           NEWER_UNICODE]
    for cp in [*range(0xA0, 0x32000, 5), *range(0xE0000, 0xE0200, 3)]:
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        out += [ch, "a" + ch, ch + "\u0301", "\u1100" + ch, " " + ch + " "]
    return out


async def test_every_accepted_text_is_nfc_for_postgresql(owner_conn):
    """The validators and check_storable accept a text only if PostgreSQL's own ``IS NFC NORMALIZED`` agrees,
    so the NFC CHECKs on names, birth place, court and sentence can never turn a 4xx into a 500."""
    accepted: list[str] = []
    for text in _candidates():
        for name in (True, False):
            try:
                cleaned = clean_text(text, "f", 300, name=name)
                check_storable(cleaned, "f")
            except ValidationError:
                continue
            accepted.append(cleaned)
    assert len(accepted) > 60_000
    bad = await owner_conn.fetch(
        "SELECT s FROM unnest($1::text[]) AS s WHERE NOT (s IS NFC NORMALIZED)", accepted)
    assert [r["s"].encode("unicode_escape") for r in bad] == []


async def test_the_unicode_version_gap_is_real(owner_conn):
    assert clean_text(NEWER_UNICODE, "f", 10) == NEWER_UNICODE
    assert await owner_conn.fetchval("SELECT $1::text IS NFC NORMALIZED", NEWER_UNICODE) is False
    with pytest.raises(ValidationError):
        check_storable(NEWER_UNICODE)


def test_check_storable_refuses_unassigned_and_non_nfc():
    check_storable({"a": ["Nguyễn", "សុខ ដារ៉ា", "\ue000"]})
    with pytest.raises(ValidationError) as info:
        check_storable({"person": {"names": [{"full": "x\u0378"}]}})
    assert info.value.field == "person.names[0].full" and info.value.code == "forbidden_character"
    with pytest.raises(ValidationError) as info:
        check_storable({"court": unicodedata.normalize("NFD", "Huế")})
    assert info.value.field == "court" and info.value.code == "invalid_value"


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_a_database_check_is_a_400_not_a_500(client, officers, owner_conn, existing, monkeypatch, method):
    """Defence in depth: with check_storable switched off, the text PostgreSQL refuses still gets a 400."""
    monkeypatch.setattr("exchange.registry.common.check_storable", lambda *args, **kwargs: None)
    before = await counts(owner_conn)
    url = RECORDS if method == "POST" else f"{RECORDS}/{existing}"
    resp = await client.request(method, url, json=person_change(birth_place=NEWER_UNICODE),
                                headers=officers["registrar"].headers(purpose=None, **{"If-Match": "1"}))
    assert resp.status == 400, await resp.text()
    assert_error(await resp.json(), "invalid_field")
    assert NEWER_UNICODE not in (await resp.text())
    assert await counts(owner_conn) == before


async def test_withdraw_with_a_stale_if_match(client, officers, owner_conn, existing):
    before = await counts(owner_conn)
    resp = await client.post(f"{RECORDS}/{existing}/withdraw", json={"reason": "error"},
                             headers=officers["registrar"].headers(purpose=None, **{"If-Match": '"7"'}))
    assert resp.status == 412
    assert_error(await resp.json(), "stale_version", "If-Match")
    assert await counts(owner_conn) == before


@pytest.mark.parametrize(("since", "status"), [
    ("0001-01-01T00:00:00+01:00", 400), ("9999-12-31T23:59:59-10:00", 400),  # outside year 1-9999 in UTC
    ("0001-01-01T01:00:00+01:00", 200), ("9999-12-31T23:59:59Z", 200), ("2026-01-01", 200),
    ("2026-01-01T00:00:00Z", 200)])
async def test_times_at_the_edges(client, officers, since, status):
    liaison = officers["liaison"]
    resp = await client.get(RECORDS, params={"updated_since": since, "limit": "1"}, headers=liaison.headers())
    assert resp.status == status, await resp.text()
    # the same edges inside a cursor
    resp = await client.get(RECORDS, params={"cursor": _cursor(f"{since}|{uuid.uuid4()}")}, headers=liaison.headers())
    assert resp.status == status, await resp.text()


async def test_extreme_but_valid_dates_are_stored(client, officers):
    body = make_body(documents=[{"kind": "passport", "number": "N1", "expires": "9999-12-31"}], birth_date="1850")
    body["convictions"][0].update(date="0001-01-01", release_date="9999-12-31")
    body["review_date"] = "0001-01-01"
    made = await create(client, officers["registrar"], body)
    got = await (await client.get(f"{RECORDS}/{made['id']}", headers=officers["registrar"].headers())).json()
    assert got["person"]["documents"][0]["expires"] == "9999-12-31" and got["review_date"] == "0001-01-01"
    assert got["convictions"][0]["date"] == "0001-01-01"


# Half the bodies are drawn from plausible values only (letters and marks of any script, real dates, real
# codes), half mix in nasty ones (any Unicode text, impossible or non-ASCII dates, unknown codes).
_NICE = st.text(st.characters(categories=("L", "M", "Nd", "Zs", "Pd")), min_size=1, max_size=12)
_ANY = st.text(st.characters(codec="utf-8"), max_size=12)
_DATE = st.dates(dt.date(1850, 1, 1), dt.date(9999, 12, 31)).map(str)
_BAD_DATE = st.text(max_size=10) | st.integers(-(2**53) + 1, 2**53 - 1) | st.just("1979-02-30")
_COUNTRY = st.sampled_from(["KH", "th", "VN", "LA", "MM", "CN", "US"])


def _pick(nasty: bool, good: st.SearchStrategy, bad: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(good, good, good, bad) if nasty else good


@st.composite
def record_bodies(draw: st.DrawFn, nasty: bool) -> dict[str, Any]:
    text = _pick(nasty, _NICE, _ANY)
    date = _pick(nasty, _DATE, _BAD_DATE)
    country = _pick(nasty, _COUNTRY, st.sampled_from(["XX", "k", "KHM"]))
    name = st.fixed_dictionaries({"full": text}, optional={
        "family": text, "given": text, "script": _pick(nasty, st.sampled_from(["Latn", "Khmr", "Thai", "Hani"]),
                                                       st.just("Xxxx")),
        "kind": _pick(nasty, st.sampled_from(["primary", "alias", "birth"]), st.just("nickname"))})
    person = draw(st.fixed_dictionaries({"names": st.lists(name, min_size=1, max_size=3)}, optional={
        "id": st.from_regex(r"[A-Z]{2}-[0-9]{1,8}", fullmatch=True),
        "sex": _pick(nasty, st.sampled_from(["male", "female", "unknown"]), st.just("M")),
        "birth_date": st.one_of(date, _DATE.map(lambda d: d[:7]), _DATE.map(lambda d: d[:4])),
        "birth_place": text,
        "nationalities": st.lists(country, max_size=3),
        "documents": st.lists(st.fixed_dictionaries(
            {"kind": st.sampled_from(["passport", "national_id", "family_book"]),
             "number": _pick(nasty, st.from_regex(r"[A-Z0-9][A-Z0-9 ./-]{0,11}", fullmatch=True), _ANY)},
            optional={"expires": date, "country": country,
                      "mrz": st.from_regex(r"[A-Z0-9<]{1,44}", fullmatch=True)}), max_size=2),
        "addresses": st.lists(st.fixed_dictionaries({"line": text}, optional={
            "locality": text, "postcode": st.from_regex(r"[0-9]{5}", fullmatch=True), "region": text,
            "country": country}), max_size=2)}))
    body: dict[str, Any] = {"person": person}
    if draw(st.booleans()):
        conviction = st.fixed_dictionaries(
            {"court": text, "case_number": text, "date": date,
             "offence_category": _pick(nasty, st.sampled_from(["child_trafficking", "other"]), st.just("theft"))},
            optional={"sentence": text, "release_date": st.just("9999-12-31")})
        body["convictions"] = draw(st.lists(conviction, max_size=2))
    if draw(st.booleans()):
        body["sharing"] = {"countries": draw(st.lists(country, max_size=3))}
    if draw(st.booleans()):
        body["review_date"] = draw(date)
    return body


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=record_bodies(nasty=False) | record_bodies(nasty=True))
async def test_any_body_is_a_4xx_or_round_trips_exactly(client, officers, body):
    """Never a 500: a body the validators refuse is a 400 naming the same field; one they accept is stored
    and read back in exactly its canonical form."""
    registrar = officers["registrar"]
    try:
        clean = validate_record_body(body)
        check_born(clean["person"].get("birth_date"), "person.birth_date", latest_today())
        check_storable(clean)
        refusal = None
    except ValidationError as err:
        refusal = err
    event("refused" if refusal is not None else "accepted")
    resp = await client.post(RECORDS, json=body, headers=registrar.headers(purpose=None))
    if refusal is not None:
        assert resp.status == 400, await resp.text()
        assert (await resp.json())["error"]["field"] == refusal.field
        return
    assert resp.status == 201, await resp.text()
    rid = (await resp.json())["id"]
    got = await (await client.get(f"{RECORDS}/{rid}", headers=registrar.headers())).json()
    assert got["person"] == canonical_person(clean["person"])
    assert got["convictions"] == clean["convictions"] and got["review_date"] == clean["review_date"]
    assert got["sharing"] == clean["sharing"]
