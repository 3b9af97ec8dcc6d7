"""Hit/no-hit between nodes and the approved record request, end to end; key rotation and revocation with the
signed key set a partner fetches."""

from __future__ import annotations

import uuid

import pytest

from exchange.federation import identity
from exchange.federation.keys_api import refresh_partner_keys
from protocols.envelope import seal
from protocols.fixtures import sample_bodies

from .test_federation_support import drain, fed_nodes, now, record_body, register  # noqa: F401 (the session fixture)


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # three nodes shared by the federation test files


async def _query(node, person, country="KH"):
    resp = await node.client.post("/api/v1/partner-queries", json={
        "country": country, "person": person, "purpose": "border_screening"}, headers=node.headers("liaison"))
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_hit_no_hit_and_an_approved_record_request_end_to_end(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    await drain(kh, "TH")  # the nodes are shared: start from an empty queue
    body = record_body("Heng", "Sreymom", birth="1985-07-02", passport="N3000001", sharing=[])
    rid = await register(kh, body)
    assert await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE person_id = $1", uuid.UUID(rid)) == 0
    asked = {**body["person"], "id": "TH-Q-000001"}
    hit = await _query(th, asked)
    assert hit["result"] == "hit" and hit["band"] in ("high", "medium", "low") and hit["reference"].startswith("ref-")
    assert rid not in hit["reference"] and "Heng" not in str(hit)
    stranger = {**record_body("Nguyen", "Van Binh", birth="1990-01-01", passport="B7777777")["person"],
                "id": "TH-Q-000002"}
    assert (await _query(th, stranger))["result"] == "no_hit"
    disclosed = await kh.owner.fetch(
        "SELECT outcome, record_ids, detail FROM audit_log WHERE action = 'federation.disclosure' "
        "AND detail->>'kind' = 'hit_no_hit' ORDER BY id")
    assert [d["outcome"] for d in disclosed] == ["hit", "no_hit"]
    assert disclosed[0]["record_ids"] == [rid] and disclosed[0]["detail"]["recipient"] == "TH"
    assert disclosed[0]["detail"]["legal_basis"] and disclosed[0]["detail"]["message_id"]

    resp = await th.client.post("/api/v1/partner-record-requests", json={
        "country": "KH", "reference": hit["reference"], "purpose": "criminal_investigation",
        "legal_basis": "Bilateral agreement art. 5"}, headers=th.headers("liaison"))
    assert resp.status == 200 and (await resp.json())["accepted"] == [hit["reference"]]
    resp = await th.client.post("/api/v1/partner-record-requests", json={
        "country": "KH", "reference": "ref-unknown", "purpose": "criminal_investigation",
        "legal_basis": "Bilateral agreement art. 5"}, headers=th.headers("liaison"))
    assert (await resp.json())["rejected"] == [{"id": "ref-unknown", "code": "unknown_reference"}]

    assert await drain(kh, "TH") == 0  # nothing goes out before a liaison officer approves
    resp = await kh.client.get("/api/v1/record-requests?status=pending", headers=kh.headers("liaison"))
    pending = [r for r in (await resp.json())["items"] if r["reference"] == hit["reference"]]
    assert len(pending) == 1 and pending[0]["record_id"] == rid
    resp = await kh.client.post(f"/api/v1/record-requests/{pending[0]['id']}/decision", json={"decision": "approve"},
                                headers=kh.headers("liaison", None))
    assert resp.status == 200, await resp.text()
    resp = await kh.client.post(f"/api/v1/record-requests/{pending[0]['id']}/decision", json={"decision": "refuse"},
                                headers=kh.headers("liaison", None))
    assert resp.status == 409
    assert await drain(kh, "TH") == 1
    got = await th.owner.fetchrow("SELECT status, current_version FROM partner_records WHERE country = 'KH' "
                                  "AND record_id = $1", rid)
    assert (got["status"], got["current_version"]) == ("active", 1)
    approval = await kh.owner.fetchrow(
        "SELECT detail FROM audit_log WHERE action = 'federation.disclosure' AND outcome = 'approve'")
    assert approval["detail"]["recipient"] == "TH" and approval["detail"]["legal_basis"] == "Bilateral agreement art. 5"


async def test_a_partner_with_no_agreement_is_refused_queries(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    body = record_body("Tep", "Rachana", birth="1977-11-11", passport="N3000002", sharing=[])
    await register(kh, body)
    await kh.owner.execute("UPDATE partners SET receives = 'none' WHERE country = 'VN'")
    try:
        resp = await vn.client.post("/api/v1/partner-queries", json={
            "country": "KH", "person": {**body["person"], "id": "VN-Q-1"}, "purpose": "border_screening"},
            headers=vn.headers("liaison"))
        assert resp.status == 502 and "403" in (await resp.json())["error"]["message"]
        refused = await kh.owner.fetchval("SELECT count(*) FROM audit_log WHERE action = 'federation.refused' "
                                          "AND detail->>'code' = 'not_permitted'")
        assert refused == 1
    finally:
        await kh.owner.execute("UPDATE partners SET receives = 'full' WHERE country = 'VN'")
    assert (await _query(vn, {**body["person"], "id": "VN-Q-2"}))["result"] == "hit"


async def test_key_rotation_then_revocation_through_the_signed_key_set(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    old_kid = kh.fed.node().signer(now()).kid
    rotated = identity.rotate(kh.home, "KH", now())
    new_kid = rotated.keys[-1].key.kid
    assert rotated.signer(now()).kid == old_kid  # partners know only the old key yet: keep signing with it
    for node in (th, nodes["VN"]):
        async with node.pool.acquire() as conn:
            accepted = await refresh_partner_keys(node.fed, conn, "KH")
        assert accepted.version == rotated.version and {e.kid for e in accepted.entries()} == {old_kid, new_kid}
    revoked = identity.revoke(kh.home, "KH", old_kid, now())
    assert revoked.signer(now()).kid == new_kid
    for node in (th, nodes["VN"]):
        async with node.pool.acquire() as conn:
            accepted = await refresh_partner_keys(node.fed, conn, "KH")
        assert accepted.version == revoked.version
    rid = await register(kh, record_body("Rotated", "Key", passport="N3000003"))
    assert await drain(kh, "TH") >= 1
    assert await th.owner.fetchval("SELECT kid FROM partner_record_versions WHERE record_id = $1", rid) == new_kid
    old = next(k for k in revoked.keys if k.key.kid == old_kid).key
    data = seal("record_upsert", sample_bodies("KH", "TH")["record_upsert"], sender="KH", recipient="TH",
                signing_key=old.signing_key, kid=old_kid, recipient_box_key=th.fed.node().key_set().box_key(now()),
                now=now())
    resp = await th.client.post("/federation/v1/inbox", data=data, headers={"Content-Type": "application/json"})
    assert resp.status == 401 and (await resp.json())["error"]["code"] == "revoked_key"
    async with th.pool.acquire() as conn:  # an older key set is a rollback and changes nothing
        again = await refresh_partner_keys(th.fed, conn, "KH")
    assert again.version == revoked.version


async def test_an_arriving_partner_record_is_matched_against_the_register_for_review(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    ours = record_body("Srey", "Pov", birth="1981-04-09", passport="T5550001")
    resp = await th.client.post("/api/v1/records", json=ours, headers=th.headers("registrar", None))
    assert resp.status == 201
    th_id = (await resp.json())["id"]
    rid = await register(kh, {**record_body("Srey", "Pov", birth="1981-04-09", passport="T5550001")})
    await drain(kh, "TH")
    queued = await th.owner.fetch("SELECT person_id, probability, explanation, status FROM partner_match_candidates "
                                  "WHERE country = 'KH' AND record_id = $1", rid)
    assert [str(q["person_id"]) for q in queued] == [th_id] and queued[0]["probability"] >= 0.5
    assert queued[0]["explanation"]["features"] and queued[0]["status"] == "open"
    items, cursor = [], ""
    for _ in range(20):  # the nodes are shared: page through everything received from KH
        resp = await th.client.get(f"/api/v1/partner-records?country=KH&limit=200{cursor}",
                                   headers=th.headers("liaison"))
        page = await resp.json()
        items += page["items"]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    item = next(i for i in items if i["record_id"] == rid)
    assert [c["record_id"] for c in item["match_candidates"]] == [th_id]
    resp = await kh.client.post(f"/api/v1/records/{rid}/withdraw", json={"reason": "error"},
                                headers=kh.headers("registrar", None))
    assert resp.status == 200
    await drain(kh, "TH")
    status = await th.owner.fetchval("SELECT status FROM partner_match_candidates WHERE record_id = $1", rid)
    assert status == "withdrawn"  # a withdrawal takes the partner record out of review at once


async def test_a_travel_notice_is_kept_for_the_liaison_officers(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    body = sample_bodies("KH", "TH")["travel_notice"]
    at = now()
    signer = kh.fed.node().signer(at)
    data = seal("travel_notice", body, sender="KH", recipient="TH", signing_key=signer.signing_key, kid=signer.kid,
                recipient_box_key=th.fed.node().key_set().box_key(at), now=at)
    resp = await th.client.post("/federation/v1/inbox", data=data, headers={"Content-Type": "application/json"})
    assert resp.status == 200
    kept = await th.owner.fetchrow("SELECT sender, type, body FROM partner_messages WHERE type = 'travel_notice' "
                                   "ORDER BY received_at DESC LIMIT 1")
    assert (kept["sender"], kept["body"]) == ("KH", body)


async def test_a_withdrawn_record_is_no_longer_a_hit(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    body = record_body("Chea", "Kosal", birth="1969-02-28", passport="N3000009", sharing=[])
    rid = await register(kh, body)
    assert (await _query(th, {**body["person"], "id": "TH-Q-9"}))["result"] == "hit"
    resp = await kh.client.post(f"/api/v1/records/{rid}/withdraw", json={"reason": "acquittal_on_appeal"},
                                headers=kh.headers("registrar", None))
    assert resp.status == 200
    assert (await _query(th, {**body["person"], "id": "TH-Q-10"}))["result"] == "no_hit"
