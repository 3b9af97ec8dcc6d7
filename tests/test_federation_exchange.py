"""Records move between three nodes: push and pull, corrections and withdrawals to every past recipient,
acknowledgements tracked, partner status and partner records for the officers."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import pytest

from exchange.federation.feed import pull_once
from exchange.federation.loops import supervise
from exchange.federation.outbox import backfill

from .test_federation_support import drain, fed_nodes, record_body, register  # noqa: F401 (the session fixture)


@pytest.fixture
def nodes(request):
    return request.getfixturevalue("fed_nodes")  # three nodes shared by the federation test files


async def _head(node, country, record_id):
    return await node.owner.fetchrow(
        "SELECT current_version, status FROM partner_records WHERE country = $1 AND record_id = $2",
        country, record_id)


async def _drain_th_and_vn(node):
    for country in ("TH", "VN"):
        await drain(node, country)


async def test_a_record_registered_in_kh_is_pushed_to_th_and_vn(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    rid = await register(kh, record_body("Chan", "Sophal", passport="N1000001"))
    rows = await kh.owner.fetch("SELECT partner, type, status, seq FROM outbox WHERE person_id = $1", uuid.UUID(rid))
    assert sorted(r["partner"] for r in rows) == ["TH", "VN"]
    assert {r["status"] for r in rows} == {"pending"}
    assert await drain(kh, "TH") >= 1 and await drain(kh, "VN") >= 1
    for node in (th, vn):
        head = await _head(node, "KH", rid)
        assert (head["current_version"], head["status"]) == (1, "active")
        version = await node.owner.fetchrow(
            "SELECT v.body, v.via, v.kid, v.signature, i.sender FROM partner_record_versions v "
            "JOIN inbox i ON i.message_id = v.message_id WHERE v.country = 'KH' AND v.record_id = $1", rid)
        assert version["via"] == "push" and version["sender"] == "KH" and len(version["signature"]) == 86
        assert version["body"]["person"]["names"][0]["family"] == "Chan"
        assert version["kid"] == kh.fed.node().signer(kh.fed.now()).kid
    delivered = await kh.owner.fetch("SELECT partner, version, via FROM deliveries WHERE person_id = $1",
                                     uuid.UUID(rid))
    assert sorted((d["partner"], d["version"], d["via"]) for d in delivered) == [("TH", 1, "push"), ("VN", 1, "push")]
    disclosures = await kh.owner.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'federation.disclosure' AND $1 = ANY(record_ids)", rid)
    assert disclosures == 2


async def test_a_record_registered_in_kh_is_pulled_by_th_and_vn_and_the_pull_acknowledges_it(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    rid = await register(kh, record_body("Keo", "Malis", passport="N1000002"))
    for node in (th, vn):
        result = await pull_once(node.fed, node.pool, "KH")
        assert result.error is None and result.applied >= 1
        head = await _head(node, "KH", rid)
        assert head["current_version"] == 1
        via = await node.owner.fetchval(
            "SELECT via FROM partner_record_versions WHERE country = 'KH' AND record_id = $1", rid)
        assert via == "pull"
        again = await pull_once(node.fed, node.pool, "KH")  # the next request acknowledges the page
        assert again.error is None and again.applied == 0
    status = await kh.owner.fetch("SELECT partner, status, delivered_via FROM outbox WHERE person_id = $1",
                                  uuid.UUID(rid))
    assert {(s["partner"], s["status"], s["delivered_via"]) for s in status} == {
        ("TH", "delivered", "pull"), ("VN", "delivered", "pull")}
    assert await drain(kh, "TH") == 0  # nothing left to push


async def test_corrections_and_withdrawals_reach_every_past_recipient_and_are_acknowledged(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    rid = await register(kh, record_body("Pich", "Vanna", passport="N1000003"))
    await _drain_th_and_vn(kh)
    corrected = record_body("Pich", "Vannak", passport="N1000003")
    resp = await kh.client.put(f"/api/v1/records/{rid}", json=corrected,
                               headers={**kh.headers("registrar", None), "If-Match": '"1"'})
    assert resp.status == 200, await resp.text()
    resp = await kh.client.post(f"/api/v1/records/{rid}/withdraw", json={"reason": "acquittal_on_appeal"},
                                headers=kh.headers("registrar", None))
    assert resp.status == 200, await resp.text()
    listing = await kh.client.get("/api/v1/partners", headers=kh.headers("admin", None))
    depth = {p["country"]: p["queue_depth"] for p in (await listing.json())["partners"]}
    assert depth["TH"] >= 2 and depth["VN"] >= 2
    await _drain_th_and_vn(kh)
    for node in (th, vn):
        head = await _head(node, "KH", rid)
        assert (head["current_version"], head["status"]) == (3, "withdrawn")
        versions = await node.owner.fetch(
            "SELECT version, status, body FROM partner_record_versions WHERE country = 'KH' AND record_id = $1 "
            "ORDER BY version", rid)
        assert [(v["version"], v["status"]) for v in versions] == [(1, "active"), (2, "active"), (3, "withdrawn")]
        assert versions[1]["body"]["person"]["names"][0]["given"] == "Vannak"
        assert versions[2]["body"]["reason"] == "acquittal_on_appeal"
    acked = await kh.owner.fetch("SELECT partner, version FROM deliveries WHERE person_id = $1 ORDER BY 1, 2",
                                 uuid.UUID(rid))
    assert [(a["partner"], a["version"]) for a in acked] == [("TH", 1), ("TH", 2), ("TH", 3), ("VN", 1), ("VN", 2),
                                                             ("VN", 3)]
    listing = await kh.client.get("/api/v1/partners", headers=kh.headers("admin", None))
    for partner in (await listing.json())["partners"]:
        assert partner["queue_depth"] == 0 and partner["overdue_acks"] == []
        assert partner["last_success_at"] is not None and partner["backoff_seconds"] == 0
    # a withdrawn partner record is out of the officers' active list at once
    resp = await th.client.get("/api/v1/partner-records?country=KH&status=active&limit=200",
                               headers=th.headers("liaison"))
    assert rid not in {i["record_id"] for i in (await resp.json())["items"]}


async def test_narrowed_sharing_sends_an_erasure_to_the_past_recipient_only(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    rid = await register(kh, record_body("Lim", "Bopha", passport="N1000004"))
    await _drain_th_and_vn(kh)
    narrowed = record_body("Lim", "Bopha", passport="N1000004", sharing=["VN"])
    resp = await kh.client.put(f"/api/v1/records/{rid}", json=narrowed,
                               headers={**kh.headers("registrar", None), "If-Match": '"1"'})
    assert resp.status == 200
    await _drain_th_and_vn(kh)
    th_head, vn_head = await _head(th, "KH", rid), await _head(vn, "KH", rid)
    assert (th_head["current_version"], th_head["status"]) == (2, "withdrawn")
    assert (vn_head["current_version"], vn_head["status"]) == (2, "active")
    never = await register(kh, record_body("Ouk", "Sina", passport="N1000005", sharing=[]))
    assert await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE person_id = $1", uuid.UUID(never)) == 0


async def test_partner_status_and_partner_records_for_officers(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    resp = await kh.client.get("/api/v1/partners", headers=kh.headers("registrar", None))
    assert resp.status == 403
    resp = await kh.client.get("/api/v1/partners", headers=kh.headers("liaison", None))
    body = await resp.json()
    assert {p["country"] for p in body["partners"]} == {"TH", "VN"}
    assert {"queue_depth", "last_success_at", "last_error", "backoff_seconds", "overdue_acks", "pull"} <= set(
        body["partners"][0])
    resp = await th.client.get("/api/v1/partner-records", headers=th.headers("liaison", None))
    assert resp.status == 400 and (await resp.json())["error"]["code"] == "missing_purpose"
    seen, cursor = [], None
    for _ in range(50):
        url = "/api/v1/partner-records?country=KH&limit=1" + (f"&cursor={cursor}" if cursor else "")
        resp = await th.client.get(url, headers=th.headers("liaison"))
        assert resp.status == 200, await resp.text()
        page = await resp.json()
        seen += [i["record_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == await th.owner.fetchval(
        "SELECT count(*) FROM partner_records WHERE country = 'KH'")
    audited = await th.owner.fetchval("SELECT count(*) FROM audit_log WHERE action = 'partner_record.list'")
    assert audited >= len(seen)
    resp = await th.client.get("/api/v1/partner-records?country=XX", headers=th.headers("liaison"))
    assert resp.status == 400


async def test_the_background_loops_push_pull_and_refresh_keys_by_themselves(nodes):
    kh, th, vn = nodes["KH"], nodes["TH"], nodes["VN"]
    rid = await register(kh, record_body("Loop", "Runner", passport="N1000099"))
    tasks: dict[str, asyncio.Task] = {}
    supervisor = asyncio.create_task(supervise(kh.fed, kh.app, tasks))
    try:
        started = time.monotonic()
        while not all([await _head(th, "KH", rid), await _head(vn, "KH", rid)]):
            assert time.monotonic() - started < 30, "the loops did not deliver in time"
            await asyncio.sleep(0.05)
        assert {"send:TH", "send:VN", "pull:TH", "pull:VN"} <= set(tasks)
    finally:
        for task in [supervisor, *tasks.values()]:
            task.cancel()
        for task in [supervisor, *tasks.values()]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
    trusted = await kh.owner.fetchval("SELECT key_set FROM partners WHERE country = 'TH'")
    assert trusted["version"] >= 1  # the pull loop fetched and accepted TH's signed key set


async def test_an_unacknowledged_correction_shows_as_overdue_until_acknowledged(nodes):
    kh = nodes["KH"]
    rid = await register(kh, record_body("Late", "Ack", passport="N1000077"))
    await _drain_th_and_vn(kh)
    resp = await kh.client.put(f"/api/v1/records/{rid}", json=record_body("Late", "Acked", passport="N1000077"),
                               headers={**kh.headers("registrar", None), "If-Match": '"1"'})
    assert resp.status == 200
    await drain(kh, "TH")
    await kh.owner.execute("UPDATE outbox SET created_at = now() - interval '2 days' WHERE person_id = $1 "
                           "AND partner = 'VN' AND version = 2", uuid.UUID(rid))

    async def overdue():
        listing = await kh.client.get("/api/v1/partners", headers=kh.headers("liaison", None))
        return {p["country"]: [(o["record_id"], o["version"]) for o in p["overdue_acks"]]
                for p in (await listing.json())["partners"]}

    late = await overdue()
    assert (rid, 2) in late["VN"] and (rid, 2) not in late["TH"]
    await drain(kh, "VN")
    assert (rid, 2) not in (await overdue())["VN"]


async def test_a_record_without_review_date_or_convictions_travels(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    body = record_body("No", "Review", passport="N1000078")
    del body["review_date"]
    body["convictions"] = []
    rid = await register(kh, body)
    await drain(kh, "TH")
    got = await th.owner.fetchval("SELECT body FROM partner_record_versions WHERE record_id = $1", rid)
    assert got["review_date"] is None and got["convictions"] == []


async def test_a_stored_message_the_schema_refuses_is_rejected_visibly_and_does_not_block(nodes):
    kh, th = nodes["KH"], nodes["TH"]
    broken = await register(kh, record_body("Broken", "Body", passport="N1000079"))
    fine = await register(kh, record_body("Fine", "Body", passport="N1000080"))
    await kh.owner.execute("UPDATE outbox SET body = body - 'person' WHERE person_id = $1 AND partner = 'TH'",
                           uuid.UUID(broken))  # as if the schema had tightened since it was queued
    await drain(kh, "TH")
    assert await _head(th, "KH", fine) is not None and await _head(th, "KH", broken) is None
    row = await kh.owner.fetchrow("SELECT status, last_error FROM outbox WHERE person_id = $1 AND partner = 'TH'",
                                  uuid.UUID(broken))
    assert row["status"] == "rejected" and row["last_error"].startswith("local: schema_error")
    listing = await kh.client.get("/api/v1/partners", headers=kh.headers("admin", None))
    th_status = next(p for p in (await listing.json())["partners"] if p["country"] == "TH")
    assert th_status["rejected"] >= 1 and th_status["last_error"].startswith("rejected: local: schema_error")


async def test_backfill_queues_what_a_newly_allowed_partner_never_received(nodes):
    kh, vn = nodes["KH"], nodes["VN"]
    await kh.owner.execute("UPDATE partners SET receives = 'hits' WHERE country = 'VN'")
    try:
        rid = await register(kh, record_body("Back", "Fill", passport="N1000081"))
    finally:
        await kh.owner.execute("UPDATE partners SET receives = 'full' WHERE country = 'VN'")
    assert await kh.owner.fetchval("SELECT count(*) FROM outbox WHERE person_id = $1 AND partner = 'VN'",
                                   uuid.UUID(rid)) == 0
    async with kh.pool.acquire() as conn, conn.transaction():
        assert await backfill(conn, "VN") >= 1
    async with kh.pool.acquire() as conn, conn.transaction():
        assert await backfill(conn, "VN") == 0  # nothing twice
    await drain(kh, "VN")
    assert (await _head(vn, "KH", rid))["current_version"] == 1
