"""``POST /api/v1/search`` end to end over HTTP against the real PostgreSQL: a register person asked in another
script and order is found with its explanation; a partner's record with where it came from; withdrawn records
are never answered (also when the index has not seen the withdrawal yet); the purpose, the roles and the body
are checked; one audit row names the ids returned and never the names asked; the log holds no personal data.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets

import pytest

from exchange import audit
from exchange.border.config import BORDER_SETTINGS, BorderSettings
from exchange.errors import Unavailable
from exchange.logs import JsonFormatter
from exchange.screening_index import SCREENING, ScreeningIndex
from exchange.search import search
from protocols.validation import ValidationError

from .test_border_partners import _ensure_partner, _partner_record
from .test_border_support import random_birth, register, unique_word

SEARCH = "/api/v1/search"


async def _search(client, officer, body, purpose: str | None = "investigation", status: int = 200, **headers):
    resp = await client.post(SEARCH, json=body, headers=officer.headers(purpose=purpose, **headers))
    assert resp.status == status, await resp.text()
    return await resp.json()


def _ids(answer) -> list[str]:
    return [c.get("id") or f"{c['country']}:{c['record_id']}" for c in answer["candidates"]]


def _features(candidate) -> dict[str, str]:
    return {f["feature"]: f["level"] for f in candidate["explanation"]}


async def test_register_person_in_another_script_and_order_is_found_with_its_explanation(client, officers):
    birth = random_birth()
    passport = f"N{secrets.randbelow(10**7):07d}"
    pid = await register(client, officers["registrar"], {
        "names": [{"family": "Chanthavong", "given": "Somchai", "script": "Latn"}], "birth_date": birth,
        "sex": "male", "nationalities": ["TH"], "documents": [{"kind": "passport", "number": passport,
                                                               "country": "TH"}]})
    answer = await _search(client, officers["liaison"], {"person": {
        "names": [{"full": "สมชาย จันทวงศ์", "script": "Thai"}], "birth_date": birth}}, **{"X-Case-Ref": "CASE-7"})
    first = answer["candidates"][0]
    assert first["source"] == "register" and first["id"] == pid and first["version"] == 1
    assert _features(first)["name"] in ("exact", "strong") and _features(first)["birth_date"] == "exact"
    assert all(set(f) == {"feature", "level", "weight", "detail"} and f["detail"] for f in first["explanation"])
    assert sum(f["weight"] for f in first["explanation"]) > 0 and 0.3 <= first["probability"] <= 1
    assert first["summary"]["birth_date"] == birth and first["summary"]["nationalities"] == ["TH"]
    assert first["summary"]["documents"] == [{"kind": "passport", "country": "TH", "number": passport}]
    assert first["summary"]["names"][0]["family"] == "Chanthavong"
    assert answer["index"]["ready"] is True and answer["index"]["records"] >= 1 and answer["model_version"]
    probabilities = [c["probability"] for c in answer["candidates"]]
    assert probabilities == sorted(probabilities, reverse=True)

    # the Khmer script, given name first; the registrar may search too
    khmer_birth = random_birth()
    dara = await register(client, officers["registrar"], {"names": [{"family": "Sok", "given": "Dara"}],
                                                          "birth_date": khmer_birth})
    answer = await _search(client, officers["registrar"], {"person": {"names": [{"full": "ដារ៉ា សុខ"}],
                                                                      "birth_date": khmer_birth}}, "data_quality")
    assert answer["candidates"][0]["id"] == dara


async def test_limit_threshold_and_sources_narrow_the_answer(client, officers):
    family, given, birth = unique_word("Keo"), unique_word("Sa"), random_birth()
    twins = [await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                            "birth_date": birth}) for _ in range(3)]
    person = {"names": [{"family": family, "given": given}], "birth_date": birth}
    assert set(_ids(await _search(client, officers["liaison"], {"person": person}))) >= set(twins)
    assert len((await _search(client, officers["liaison"], {"person": person, "limit": 2}))["candidates"]) == 2
    only_partners = await _search(client, officers["liaison"], {"person": person, "sources": ["partners"]})
    assert not set(_ids(only_partners)) & set(twins)
    strict = await _search(client, officers["liaison"], {"person": {"names": person["names"]}, "threshold": 0.99})
    assert all(c["probability"] >= 0.99 for c in strict["candidates"])


async def test_partner_record_is_found_with_its_provenance(client, officers, owner_conn):
    await _ensure_partner(owner_conn, "VN")
    family, given, birth = unique_word("Tr"), unique_word("Ho"), random_birth()
    record_id = await _partner_record(owner_conn, "VN", {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "female"})
    message_id = await owner_conn.fetchval(
        "SELECT message_id FROM partner_record_versions WHERE country = 'VN' AND record_id = $1", record_id)
    person = {"names": [{"full": f"{given} {family}".upper()}], "birth_date": birth}
    answer = await _search(client, officers["liaison"], {"person": person})
    [found] = [c for c in answer["candidates"] if c.get("record_id") == record_id]
    assert found["source"] == "partner" and found["country"] == "VN" and found["version"] == 1 and "id" not in found
    assert found["provenance"]["message_id"] == str(message_id) and found["provenance"]["via"] == "push"
    assert found["summary"]["sex"] == "female" and _features(found)["birth_date"] == "exact"
    only_register = await _search(client, officers["liaison"], {"person": person, "sources": ["register"]})
    assert record_id not in json.dumps(only_register)


async def test_withdrawn_records_are_not_returned(client, officers, owner_conn, monkeypatch):
    family, given, birth = unique_word("Chea"), unique_word("Vi"), random_birth()
    person = {"names": [{"family": family, "given": given}], "birth_date": birth}
    gone = await register(client, officers["registrar"], person)
    stale = await register(client, officers["registrar"], person)
    assert {gone, stale} <= set(_ids(await _search(client, officers["liaison"], {"person": person})))

    resp = await client.post(f"/api/v1/records/{gone}/withdraw", json={"reason": "acquittal_on_appeal"},
                             headers=officers["registrar"].headers(purpose=None))
    assert resp.status == 200, await resp.text()
    assert gone not in _ids(await _search(client, officers["liaison"], {"person": person}))

    # withdrawn after the index's last refresh: the re-check in the audit row's transaction drops it
    holder = client.app[SCREENING]

    async def no_refresh(conn):
        return 0

    monkeypatch.setattr(holder, "refresh", no_refresh)
    await owner_conn.execute("UPDATE persons SET status = 'withdrawn' WHERE id = $1::uuid", stale)
    assert stale in holder.versions  # the index still holds it ...
    answer = await _search(client, officers["liaison"], {"person": person})
    assert stale not in _ids(answer) and gone not in _ids(answer)  # ... the answer does not
    row = await owner_conn.fetchrow("SELECT record_ids, detail FROM audit_log WHERE action = 'person.search' "
                                    "ORDER BY id DESC LIMIT 1")
    assert stale not in row["record_ids"] and row["detail"]["withdrawn_dropped"] == 1


async def test_audit_row_names_the_candidates_and_never_the_names(client, officers, owner_conn):
    family, given, birth = unique_word("Lim"), unique_word("Pov"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth})
    answer = await _search(client, officers["liaison"], {"person": {
        "names": [{"family": family, "given": given}], "birth_date": birth, "sex": "male"}, "limit": 5},
        "investigation", **{"X-Case-Ref": "CASE-2026/42"})
    row = await owner_conn.fetchrow(
        "SELECT * FROM audit_log WHERE action = 'person.search' AND $1 = ANY(record_ids) ORDER BY id DESC LIMIT 1",
        pid)
    assert row["record_ids"] == _ids(answer) and row["detail"]["count"] == len(answer["candidates"])
    assert row["purpose"] == "investigation" and row["case_ref"] == "CASE-2026/42" and row["role"] == "liaison"
    assert row["username"] == officers["liaison"].username and row["outcome"] == "ok"
    assert row["detail"]["fields"] == ["birth_date", "names", "sex"] and row["detail"]["limit"] == 5
    text = json.dumps(dict(row), default=str)
    assert family not in text and given not in text and birth not in text


async def test_no_personal_data_in_the_log(client, officers, caplog):
    family, given = unique_word("Heng"), unique_word("Sre")
    await register(client, officers["registrar"], {"names": [{"family": family, "given": given}]})
    caplog.set_level(logging.DEBUG)
    await _search(client, officers["liaison"], {"person": {"names": [{"family": family, "given": given}]}})
    await _search(client, officers["liaison"], {"person": {"names": [{"family": family, "given": 7}]}},
                  status=400)
    formatter = JsonFormatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records)
    assert "/api/v1/search" in logged  # the access line is there ...
    assert family.lower() not in logged.lower() and given.lower() not in logged.lower()  # ... the names are not


async def test_purpose_is_required(client, officers):
    body = {"person": {"names": [{"full": "Sok Dara"}]}}
    error = (await _search(client, officers["liaison"], body, purpose=None, status=400))["error"]
    assert error["code"] == "missing_purpose" and error["field"] == "X-Purpose"
    error = (await _search(client, officers["liaison"], body, purpose="curiosity", status=400))["error"]
    assert error["code"] == "invalid_purpose"


@pytest.mark.parametrize("role", ["admin", "immigration", "auditor"])
async def test_other_roles_are_refused(client, officers, role):
    error = (await _search(client, officers[role], {"person": {"names": [{"full": "Sok Dara"}]}}, status=403))
    assert error["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("body", "code", "field"), [
    ({}, "missing_field", "person"),
    ([], "invalid_type", ""),
    ({"person": {"names": [{"full": "Sok Dara"}]}, "role": "admin"}, "unknown_field", "role"),
    ({"person": {"birth_date": "1980-01-01"}}, "missing_field", "person.names"),
    ({"person": {"names": []}}, "empty", "person.names"),
    ({"person": {"names": [{"full": "Sok\u202eDara"}]}}, "forbidden_character", "person.names[0].full"),
    ({"person": {"names": [{"full": "Sok"}], "birth_date": "๑๙๘๐-01-01"}}, "invalid_date", "person.birth_date"),
    ({"person": {"names": [{"full": "Sok"}], "shoe_size": 9}}, "unknown_field", "person.shoe_size"),
    ({"person": {"names": [{"full": "Sok"}]}, "limit": 0}, "invalid_value", "limit"),
    ({"person": {"names": [{"full": "Sok"}]}, "limit": 51}, "invalid_value", "limit"),
    ({"person": {"names": [{"full": "Sok"}]}, "limit": 2.5}, "invalid_type", "limit"),
    ({"person": {"names": [{"full": "Sok"}]}, "threshold": 0.01}, "invalid_value", "threshold"),
    ({"person": {"names": [{"full": "Sok"}]}, "threshold": True}, "invalid_type", "threshold"),
    ({"person": {"names": [{"full": "Sok"}]}, "sources": []}, "empty", "sources"),
    ({"person": {"names": [{"full": "Sok"}]}, "sources": ["interpol"]}, "invalid_value", "sources[0]"),
])
async def test_bad_body_is_400_naming_the_field(client, officers, owner_conn, body, code, field):
    before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'person.search'")
    error = (await _search(client, officers["liaison"], body, status=400))["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert "Sok" not in error["message"]
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'person.search'") == before


async def test_query_string_is_refused(client, officers):
    resp = await client.post(SEARCH + "?name=Sok", json={"person": {"names": [{"full": "Sok"}]}},
                             headers=officers["liaison"].headers())
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_parameter"


async def test_the_pages_call_the_same_function(client, officers, owner_conn):
    """``exchange.search.search`` is what a page handler calls: same answer, same audit row, same validation."""
    family, given, birth = unique_word("Ouk"), unique_word("Ra"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth})
    who = audit.Actor(username=officers["liaison"].username, role="liaison", request_id="page-test",
                      purpose="review")
    answer = await search(client.app, who, {"names": [{"given": given, "family": family}], "birth_date": birth},
                          limit=3, threshold=0.5, sources=["register"])
    assert answer["candidates"][0]["id"] == pid and len(answer["candidates"]) <= 3
    row = await owner_conn.fetchrow("SELECT purpose, record_ids FROM audit_log WHERE request_id = 'page-test'")
    assert row["purpose"] == "review" and row["record_ids"] == _ids(answer)
    with pytest.raises(ValidationError) as bad:
        await search(client.app, who, {"names": [{"full": family}]}, threshold=1.5)
    assert bad.value.field == "threshold"


async def test_while_the_index_loads_the_answer_is_503_with_retry_after(client):
    loading = {SCREENING: ScreeningIndex(), BORDER_SETTINGS: dataclasses.replace(BorderSettings(), index_wait=0)}
    with pytest.raises(Unavailable) as refused:
        await search(loading, audit.Actor(request_id="loading"), {"names": [{"full": "Sok Dara"}]})
    assert refused.value.status == 503 and refused.value.headers["Retry-After"] == "10"
