"""The register API end to end over HTTP against the real PostgreSQL: create, read with purpose, stale update,
older versions, withdrawal with history kept, idempotency, NFC storage, concurrent updates, roles, listing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
import unicodedata
import uuid
from typing import Any

import pytest

from exchange.registry.shape import canonical_person
from protocols.record import validate_record_body

from .conftest import login, new_officer

RECORDS = "/api/v1/records"
TABLES = ("persons", "record_versions", "person_names", "person_documents", "convictions", "idempotency_keys")


def make_body(**person_changes: Any) -> dict[str, Any]:
    """A valid record body; the document number is unique so records never collide."""
    person = {
        "id": f"KH-REG-{secrets.token_hex(4)}",
        "names": [{"family": "Sok", "given": "Dara", "script": "Latn", "kind": "primary"},
                  {"full": "សុខ ដារ៉ា", "script": "Khmr", "kind": "primary"},
                  {"full": "Dara Sokha", "kind": "alias"}],
        "sex": "male",
        "birth_date": "1979-04",
        "birth_place": "Battambang",
        "nationalities": ["KH", "th"],
        "documents": [{"kind": "passport", "number": f"N{secrets.randbelow(10**8):08d}", "country": "KH",
                       "expires": "2031-01-31"}],
        "addresses": [{"line": "12 Street 271", "locality": "Phnom Penh", "country": "KH"}],
        **person_changes,
    }
    return {
        "person": person,
        "convictions": [{"court": "Phnom Penh Municipal Court", "case_number": f"PP-{secrets.token_hex(3)}",
                         "date": "2015-06-01", "offence_category": "child_sexual_abuse",
                         "sentence": "12 years", "release_date": "2024-06-01"}],
        "sharing": {"countries": ["TH", "VN"]},
        "review_date": "2030-01-01",
    }


def expected_record(body: dict[str, Any]) -> dict[str, Any]:
    """What the register must give back for ``body``: the validator's cleaned form, empty lists left out."""
    clean = validate_record_body(body)
    return {**clean, "person": canonical_person(clean["person"])}


async def counts(owner_conn) -> dict[str, int]:
    return {t: await owner_conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def audit_rows(owner_conn, action: str, record_id: str) -> list[dict[str, Any]]:
    rows = await owner_conn.fetch(
        "SELECT * FROM audit_log WHERE action = $1 AND $2 = ANY(record_ids) ORDER BY id", action, record_id)
    return [dict(r) for r in rows]


async def create(client, officer, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    resp = await client.post(RECORDS, json=body, headers=officer.headers(purpose=None, **headers))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_lifecycle_create_read_update_withdraw_history(client, officers, owner_conn):
    registrar, liaison = officers["registrar"], officers["liaison"]
    body = make_body()
    resp = await client.post(RECORDS, json=body, headers=registrar.headers(purpose=None))
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    rid = made["id"]
    assert made == {"id": rid, "version": 1} and uuid.UUID(rid)
    assert resp.headers["Location"] == f"{RECORDS}/{rid}" and resp.headers["ETag"] == '"1"'
    assert resp.headers["Cache-Control"] == "no-store"
    [created] = await audit_rows(owner_conn, "record.create", rid)
    assert created["username"] == registrar.username and created["outcome"] == "ok"
    assert "Sok" not in json.dumps(created["detail"])  # no personal data in the audit detail

    # read with a purpose (both roles that may): exactly the canonical shape that went in
    resp = await client.get(f"{RECORDS}/{rid}", headers=liaison.headers(purpose="investigation", **{
        "X-Case-Ref": "CASE-2026/17"}))
    assert resp.status == 200, await resp.text()
    assert resp.headers["ETag"] == '"1"'
    got = await resp.json()
    want = expected_record(body)
    assert got["person"] == want["person"]
    assert got["convictions"] == want["convictions"]
    assert got["sharing"] == {"countries": ["TH", "VN"]} and got["review_date"] == "2030-01-01"
    assert got["person"]["nationalities"] == ["KH", "TH"]
    assert (got["id"], got["version"], got["status"]) == (rid, 1, "active")
    assert dt.datetime.fromisoformat(got["created_at"]) == dt.datetime.fromisoformat(got["updated_at"])
    [read] = await audit_rows(owner_conn, "record.read", rid)
    assert (read["username"], read["purpose"], read["case_ref"]) == (liaison.username, "investigation",
                                                                      "CASE-2026/17")

    # without a purpose: 400 and no read audited
    resp = await client.get(f"{RECORDS}/{rid}", headers=liaison.headers(purpose=None))
    assert resp.status == 400
    assert (await resp.json())["error"] == {"code": "missing_purpose", "message": (await resp.json())["error"][
        "message"], "field": "X-Purpose"}
    resp = await client.get(f"{RECORDS}/{rid}", headers=liaison.headers(purpose="curiosity"))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_purpose"
    assert len(await audit_rows(owner_conn, "record.read", rid)) == 1

    # replace: If-Match is required, the right version wins, a stale one is refused
    changed = make_body(sex="unknown", birth_date="1979-04-12")
    changed["convictions"] = []
    resp = await client.put(f"{RECORDS}/{rid}", json=changed, headers=registrar.headers(purpose=None))
    assert resp.status == 428 and (await resp.json())["error"]["code"] == "if_match_required"
    resp = await client.put(f"{RECORDS}/{rid}", json=changed, headers=registrar.headers(purpose=None,
                                                                                       **{"If-Match": '"1"'}))
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"id": rid, "version": 2, "status": "active"}
    assert resp.headers["ETag"] == '"2"'
    before = await counts(owner_conn)
    resp = await client.put(f"{RECORDS}/{rid}", json=make_body(), headers=registrar.headers(purpose=None,
                                                                                           **{"If-Match": "1"}))
    assert resp.status == 412
    assert (await resp.json())["error"]["code"] == "stale_version" and resp.headers["ETag"] == '"2"'
    assert await counts(owner_conn) == before
    # the refused 428, the update, the refused stale one: each audited
    assert [r["outcome"] for r in await audit_rows(owner_conn, "record.update", rid)] == [
        "invalid", "ok", "stale_version"]

    # the current version is the replacement; the first is still there, unchanged
    current = await (await client.get(f"{RECORDS}/{rid}", headers=registrar.headers(purpose="review"))).json()
    assert current["version"] == 2 and current["person"] == expected_record(changed)["person"]
    assert current["convictions"] == [] and current["person"]["birth_date"] == "1979-04-12"
    resp = await client.get(f"{RECORDS}/{rid}?version=1", headers=liaison.headers())
    assert resp.status == 200 and resp.headers["ETag"] == '"1"'
    old = await resp.json()
    assert old["version"] == 1 and old["person"] == want["person"] and old["convictions"] == want["convictions"]
    resp = await client.get(f"{RECORDS}/{rid}?version=3", headers=liaison.headers())
    assert resp.status == 404

    # withdraw: a new version, the facts kept, further changes refused
    resp = await client.post(f"{RECORDS}/{rid}/withdraw", json={"reason": "acquittal_on_appeal",
                                                                 "note": "Appeal court ruling 2026-03"},
                             headers=registrar.headers(purpose=None))
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"id": rid, "version": 3, "status": "withdrawn"}
    assert await owner_conn.fetchval("SELECT status FROM persons WHERE id = $1", uuid.UUID(rid)) == "withdrawn"
    resp = await client.put(f"{RECORDS}/{rid}", json=changed, headers=registrar.headers(purpose=None,
                                                                                       **{"If-Match": "3"}))
    assert resp.status == 409
    resp = await client.post(f"{RECORDS}/{rid}/withdraw", json={"reason": "error"},
                             headers=registrar.headers(purpose=None))
    assert resp.status == 409
    withdrawn = await (await client.get(f"{RECORDS}/{rid}", headers=liaison.headers())).json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["version"] == 3
    assert withdrawn["withdrawal"] == {"reason": "acquittal_on_appeal", "note": "Appeal court ruling 2026-03"}
    assert withdrawn["person"] == current["person"]

    # history: every version, who made it, the reason; itself audited
    resp = await client.get(f"{RECORDS}/{rid}/history", headers=liaison.headers(purpose="audit"))
    assert resp.status == 200
    history = await resp.json()
    assert history["id"] == rid
    assert [(v["version"], v["status"], v["created_by"], v["withdrawal_reason"]) for v in history["versions"]] == [
        (1, "active", registrar.username, None), (2, "active", registrar.username, None),
        (3, "withdrawn", registrar.username, "acquittal_on_appeal")]
    assert len(await audit_rows(owner_conn, "record.history", rid)) == 1
    assert [r["outcome"] for r in await audit_rows(owner_conn, "record.withdraw", rid)] == ["ok", "withdrawn"]
    versions = await owner_conn.fetchval("SELECT count(*) FROM record_versions WHERE person_id = $1",
                                         uuid.UUID(rid))
    assert versions == 3


async def test_minimal_body_and_sharing_defaults(client, officers):
    registrar = officers["registrar"]
    made = await create(client, registrar, {"person": {"names": [{"full": "Nguyễn Văn An"}]}})
    got = await (await client.get(f"{RECORDS}/{made['id']}", headers=registrar.headers())).json()
    assert got["person"] == {"names": [{"full": "Nguyễn Văn An", "kind": "primary"}]}
    assert got["convictions"] == [] and got["sharing"] is None and got["review_date"] is None
    narrowed = await create(client, registrar, {"person": {"names": [{"full": "A B"}]}, "sharing": {"countries": []}})
    got = await (await client.get(f"{RECORDS}/{narrowed['id']}", headers=registrar.headers())).json()
    assert got["sharing"] == {"countries": []}


async def test_read_back_round_trips_through_put(client, officers):
    """What GET returns (without its server fields) is a valid body that replaces the record unchanged."""
    registrar = officers["registrar"]
    made = await create(client, registrar, make_body())
    got = await (await client.get(f"{RECORDS}/{made['id']}", headers=registrar.headers())).json()
    body = {k: got[k] for k in ("person", "convictions", "sharing", "review_date")}
    resp = await client.put(f"{RECORDS}/{made['id']}", json=body,
                            headers=registrar.headers(purpose=None, **{"If-Match": '"1"'}))
    assert resp.status == 200
    again = await (await client.get(f"{RECORDS}/{made['id']}", headers=registrar.headers())).json()
    assert {k: again[k] for k in body} == body and again["version"] == 2


async def test_names_are_stored_in_nfc(client, officers, owner_conn):
    registrar = officers["registrar"]
    nfd_family, nfd_given = unicodedata.normalize("NFD", "Nguyễn"), unicodedata.normalize("NFD", "Thị Hồng")
    assert nfd_family != "Nguyễn"
    body = make_body(names=[{"family": nfd_family, "given": nfd_given, "script": "Latn"}],
                     birth_place=unicodedata.normalize("NFD", "Huế"))
    made = await create(client, registrar, body)
    got = await (await client.get(f"{RECORDS}/{made['id']}", headers=registrar.headers())).json()
    assert got["person"]["names"] == [{"family": "Nguyễn", "given": "Thị Hồng", "full": "Nguyễn Thị Hồng",
                                       "script": "Latn", "kind": "primary"}]
    assert got["person"]["birth_place"] == "Huế"
    stored = await owner_conn.fetchrow("SELECT family, full_name FROM person_names WHERE person_id = $1",
                                       uuid.UUID(made["id"]))
    assert stored["family"] == "Nguyễn" and unicodedata.is_normalized("NFC", stored["full_name"])


async def test_idempotency_key_replays_the_first_answer(client, officers, owner_conn, db_target):
    registrar = officers["registrar"]
    key = f"create-{uuid.uuid4()}"
    body = make_body()
    first = await client.post(RECORDS, json=body, headers=registrar.headers(purpose=None, **{"Idempotency-Key": key}))
    assert first.status == 201
    answer = await first.json()
    before = await counts(owner_conn)
    audit_before = await owner_conn.fetchval("SELECT count(*) FROM audit_log")
    again = await client.post(RECORDS, json=body, headers=registrar.headers(purpose=None, **{"Idempotency-Key": key}))
    assert again.status == 201 and await again.json() == answer
    assert again.headers["Location"] == first.headers["Location"] and again.headers["Idempotent-Replayed"] == "true"
    assert await counts(owner_conn) == before
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log") == audit_before

    # same key, different body: 409 and nothing written
    other = make_body()
    resp = await client.post(RECORDS, json=other, headers=registrar.headers(purpose=None, **{"Idempotency-Key": key}))
    assert resp.status == 409 and (await resp.json())["error"]["code"] == "idempotency_mismatch"
    assert await counts(owner_conn) == before

    # keys belong to one user: another registrar's same key is a new record
    someone = await login(client, await new_officer(db_target, "registrar"))
    resp = await client.post(RECORDS, json=body, headers=someone.headers(purpose=None, **{"Idempotency-Key": key}))
    assert resp.status == 201 and (await resp.json())["id"] != answer["id"]


async def test_concurrent_retries_with_one_key_make_one_record(client, officers, owner_conn):
    registrar = officers["registrar"]
    key = f"race-{uuid.uuid4()}"
    body = make_body()
    before = await owner_conn.fetchval("SELECT count(*) FROM persons")
    responses = await asyncio.gather(*[
        client.post(RECORDS, json=body, headers=registrar.headers(purpose=None, **{"Idempotency-Key": key}))
        for _ in range(4)])
    assert [r.status for r in responses] == [201] * 4
    assert len({(await r.json())["id"] for r in responses}) == 1
    assert await owner_conn.fetchval("SELECT count(*) FROM persons") == before + 1


async def test_concurrent_updates_with_the_same_version(client, officers, owner_conn):
    """Two PUTs with the same If-Match: the person row lock serialises them; exactly one wins."""
    registrar = officers["registrar"]
    for _ in range(5):
        made = await create(client, registrar, make_body())
        url = f"{RECORDS}/{made['id']}"
        responses = await asyncio.gather(*[
            client.put(url, json=make_body(), headers=registrar.headers(purpose=None, **{"If-Match": '"1"'}))
            for _ in range(2)])
        assert sorted(r.status for r in responses) == [200, 412]
        versions = await owner_conn.fetch("SELECT version FROM record_versions WHERE person_id = $1 ORDER BY 1",
                                          uuid.UUID(made["id"]))
        assert [v["version"] for v in versions] == [1, 2]


async def test_unknown_and_malformed_ids_are_404_and_audited(client, officers, owner_conn):
    liaison, registrar = officers["liaison"], officers["registrar"]
    unknown = str(uuid.uuid4())
    for path in (f"{RECORDS}/{unknown}", f"{RECORDS}/{unknown}/history"):
        resp = await client.get(path, headers=liaison.headers())
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "not_found"
    assert [r["outcome"] for r in await audit_rows(owner_conn, "record.read", unknown)] == ["not_found"]
    resp = await client.put(f"{RECORDS}/{unknown}", json=make_body(),
                            headers=registrar.headers(purpose=None, **{"If-Match": "1"}))
    assert resp.status == 404
    resp = await client.post(f"{RECORDS}/{unknown}/withdraw", json={"reason": "death"},
                             headers=registrar.headers(purpose=None))
    assert resp.status == 404
    before = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'record.read' "
                                       "AND outcome = 'not_found' AND username = $1", liaison.username)
    for bad in ("not-a-uuid", "1", "%E0%B8%81", "x" * 300, "' OR 1=1 --"):
        resp = await client.get(f"{RECORDS}/{bad}", headers=liaison.headers())
        assert resp.status == 404, (bad, resp.status)
        assert (await resp.json())["error"]["code"] == "not_found"
    after = await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'record.read' "
                                      "AND outcome = 'not_found' AND username = $1", liaison.username)
    assert after == before + 5


@pytest.mark.parametrize(("role", "method", "path", "status"), [
    ("liaison", "POST", "", 403),
    ("liaison", "PUT", "/{id}", 403),
    ("liaison", "POST", "/{id}/withdraw", 403),
    ("immigration", "GET", "/{id}", 403),
    ("immigration", "GET", "", 403),
    ("admin", "GET", "/{id}", 403),
    ("admin", "GET", "/{id}/history", 403),
    ("auditor", "GET", "/{id}", 403),
    ("auditor", "GET", "", 403),
    ("liaison", "GET", "/{id}", 200),
])
async def test_roles(client, officers, owner_conn, role, method, path, status):
    made = await create(client, officers["registrar"], make_body())
    before = await counts(owner_conn)
    resp = await client.request(method, RECORDS + path.format(id=made["id"]), json=make_body(),
                                headers=officers[role].headers(**{"If-Match": "1"}))
    assert resp.status == status, await resp.text()
    if status == 403:
        assert (await resp.json())["error"]["code"] == "forbidden"
        assert await counts(owner_conn) == before


async def test_list_filters_and_cursor_paging(client, officers, owner_conn):
    registrar, liaison = officers["registrar"], officers["liaison"]
    since = await owner_conn.fetchval("SELECT now()")
    ids = []
    for i in range(5):  # a nationality no other test uses, so the page holds only these records
        body = make_body(nationalities=["IS"])
        body["convictions"][0]["offence_category"] = "child_trafficking" if i % 2 else "child_sexual_abuse"
        ids.append((await create(client, registrar, body))["id"])
    query = {"nationality": "is", "updated_since": since.isoformat(), "limit": "2"}
    seen, cursor, pages = [], None, 0
    while True:
        resp = await client.get(RECORDS, params={**query, **({"cursor": cursor} if cursor else {})},
                                headers=liaison.headers(purpose="data_quality"))
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        assert all(item["person"]["nationalities"] == ["IS"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids and pages == 3
    listed = await owner_conn.fetch(
        "SELECT record_ids, purpose FROM audit_log WHERE action = 'record.list' AND username = $1 ORDER BY id DESC "
        "LIMIT 3", liaison.username)
    assert sorted(i for r in listed for i in r["record_ids"]) == sorted(ids)
    assert {r["purpose"] for r in listed} == {"data_quality"}

    resp = await client.get(RECORDS, params={**query, "limit": "50", "offence_category": "child_trafficking"},
                            headers=liaison.headers())
    assert [i["id"] for i in (await resp.json())["items"]] == [ids[1], ids[3]]
    withdraw = await client.post(f"{RECORDS}/{ids[0]}/withdraw", json={"reason": "expungement"},
                                 headers=registrar.headers(purpose=None))
    assert withdraw.status == 200
    resp = await client.get(RECORDS, params={**query, "limit": "50", "status": "withdrawn"},
                            headers=liaison.headers())
    assert [(i["id"], i["status"]) for i in (await resp.json())["items"]] == [(ids[0], "withdrawn")]
    resp = await client.get(RECORDS, params={**query, "limit": "50", "status": "active"}, headers=liaison.headers())
    assert [i["id"] for i in (await resp.json())["items"]] == ids[1:]
