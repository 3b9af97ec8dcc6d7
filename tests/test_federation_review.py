"""The review queue API: a partner record arriving with a differently spelled name of a register entry is queued
with its explanation; the liaison officer reads it (audited, ids only) and confirms or rejects it with a reason
code (one decision wins, the second is 409); a wrong reason, an unknown item or a missing purpose change
nothing; a new version of the partner record takes its open candidates out of the queue."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import pytest

from exchange.federation.receive import Provenance, apply_record
from tests.test_border_partners import _ensure_partner
from tests.test_border_support import random_birth, register, unique_word

QUEUE = "/api/v1/review-queue"


async def arrive(owner_conn, country: str, person: dict[str, Any], record_id: str | None = None,
                 version: int = 1) -> str:
    """A verified record_upsert from ``country`` applied as the inbox applies it (matched on arrival)."""
    record_id = record_id or f"{country.lower()}-{secrets.token_hex(6)}"
    message_id = uuid.uuid4()
    body = {"record_id": record_id, "version": version, "person": person, "source_country": country,
            "review_date": None,
            "convictions": [{"court": "Criminal Court", "case_number": "TH-1", "date": "2015-03-01",
                             "offence_category": "child_sexual_abuse"}]}
    async with owner_conn.transaction():
        await owner_conn.execute("INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) "
                                 "VALUES ($1, $2, 'record_upsert', 'ed25519:test', 'sig', '\\x00'::bytea)",
                                 message_id, country)
        assert await apply_record(owner_conn, "record_upsert", body,
                                  Provenance(country, str(message_id), "ed25519:test", "sig", "push")) == "applied"
    return record_id


async def queued_match(client, officers, owner_conn) -> dict[str, Any]:
    """A register entry and a Thai partner record of the same person spelled differently; the queue item."""
    await _ensure_partner(owner_conn, "TH")
    family, given, birth = unique_word("Ch"), unique_word("Sa"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "male"})
    spelled = {"family": family + "h", "given": given}
    record_id = await arrive(owner_conn, "TH", {"names": [spelled], "birth_date": birth, "sex": "male"})
    item_id = await owner_conn.fetchval("SELECT id FROM partner_match_candidates WHERE country = 'TH' "
                                        "AND record_id = $1 AND person_id = $2", record_id, uuid.UUID(pid))
    assert item_id is not None
    return {"id": item_id, "record_id": record_id, "pid": pid, "family": family, "given": given, "birth": birth,
            "spelled": f"{family}h {given}"}


async def _decide(client, liaison, item_id, decision: str, reason: str, purpose: str | None = "review"):
    return await client.post(f"{QUEUE}/{item_id}/decision", json={"decision": decision, "reason_code": reason},
                             headers=liaison.headers(purpose))


async def test_read_the_queue_with_the_explanation_and_confirm(client, officers, owner_conn):
    item = await queued_match(client, officers, owner_conn)
    liaison = officers["liaison"]
    resp = await client.get(QUEUE, params={"limit": "200"}, headers=liaison.headers("review"))
    assert resp.status == 200
    found = next(i for i in (await resp.json())["items"] if i["id"] == item["id"])
    assert found["status"] == "open" and found["partner_record"]["record_id"] == item["record_id"]
    assert found["partner_record"]["provenance"]["kid"] == "ed25519:test"
    assert found["register_record"]["id"] == item["pid"]
    features = {f["name"]: f for f in found["explanation"]["features"]}
    assert features["birth_date"]["weight"] > 0 and features["name"]["weight"] > 0
    resp = await client.get(f"{QUEUE}/{item['id']}", headers=liaison.headers("review", **{"X-Case-Ref": "R-1"}))
    assert resp.status == 200 and (await resp.json())["partner_record"]["person"]["names"][0]["family"] == \
        item["family"] + "h"
    audit = await owner_conn.fetchrow("SELECT case_ref, detail::text AS detail FROM audit_log WHERE "
                                      "action = 'partner_match.review.view' AND $1 = ANY(record_ids) "
                                      "ORDER BY at DESC LIMIT 1", f"review:{item['id']}")
    assert audit["case_ref"] == "R-1" and item["family"] not in audit["detail"]
    resp = await _decide(client, liaison, item["id"], "confirm", "identity_verified")
    assert resp.status == 200 and (await resp.json())["status"] == "confirmed"
    row = await owner_conn.fetchrow("SELECT status, reason_code, decided_at FROM partner_match_candidates "
                                    "WHERE id = $1", item["id"])
    assert row["status"] == "confirmed" and row["reason_code"] == "identity_verified" and row["decided_at"]
    decided = await owner_conn.fetchrow("SELECT username, outcome, record_ids FROM audit_log "
                                        "WHERE action = 'partner_match.decision' AND $1 = ANY(record_ids)",
                                        f"review:{item['id']}")
    assert decided["username"] == liaison.username and decided["outcome"] == "confirm"
    assert item["pid"] in decided["record_ids"] and f"TH:{item['record_id']}" in decided["record_ids"]
    resp = await client.get(f"{QUEUE}/{item['id']}", headers=liaison.headers("review"))
    assert (await resp.json())["decision"]["reason_code"] == "identity_verified"
    resp = await client.get(QUEUE, params={"limit": "200"}, headers=liaison.headers("review"))
    assert item["id"] not in [i["id"] for i in (await resp.json())["items"]]


async def test_two_decisions_at_once_one_wins(client, officers, owner_conn):
    item = await queued_match(client, officers, owner_conn)
    first, second = await asyncio.gather(
        _decide(client, officers["liaison"], item["id"], "confirm", "identity_verified"),
        _decide(client, officers["liaison"], item["id"], "reject", "different_person"))
    assert sorted([first.status, second.status]) == [200, 409]
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'partner_match.decision' "
                                     "AND $1 = ANY(record_ids)", f"review:{item['id']}") == 1


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"decision": "confirm", "reason_code": "different_person"}, 400, "reason_code"),
    ({"decision": "maybe", "reason_code": "identity_verified"}, 400, "decision"),
    ({"decision": "reject"}, 400, "reason_code"),
    ({"decision": "reject", "reason_code": "different_person", "status": "rejected"}, 400, "status"),
])
async def test_bad_decisions_change_nothing(client, officers, owner_conn, body, status, field):
    item = await queued_match(client, officers, owner_conn)
    resp = await client.post(f"{QUEUE}/{item['id']}/decision", json=body, headers=officers["liaison"].headers("review"))
    assert resp.status == status and (await resp.json())["error"]["field"] == field
    assert await owner_conn.fetchval("SELECT status FROM partner_match_candidates WHERE id = $1", item["id"]) == "open"


async def test_unknown_item_missing_purpose_and_bad_parameters(client, officers, owner_conn):
    liaison = officers["liaison"]
    for raw in ("999999999999", "abc", "-1", "1" * 19):
        assert (await _decide(client, liaison, raw, "reject", "different_person")).status == 404, raw
        assert (await client.get(f"{QUEUE}/{raw}", headers=liaison.headers("review"))).status == 404, raw
    item = await queued_match(client, officers, owner_conn)
    resp = await _decide(client, liaison, item["id"], "reject", "different_person", purpose=None)
    assert resp.status == 400 and (await resp.json())["error"]["field"] in ("purpose", "X-Purpose")
    assert await owner_conn.fetchval("SELECT status FROM partner_match_candidates WHERE id = $1", item["id"]) == "open"
    for params in ({"status": "bogus"}, {"limit": "0"}, {"nope": "1"}):
        assert (await client.get(QUEUE, params=params, headers=liaison.headers("review"))).status == 400, params


async def test_a_new_partner_version_supersedes_the_open_item(client, officers, owner_conn):
    item = await queued_match(client, officers, owner_conn)
    await arrive(owner_conn, "TH", {"names": [{"full": unique_word("Other")}], "birth_date": "1901-01-01"},
                 record_id=item["record_id"], version=2)
    assert await owner_conn.fetchval("SELECT status FROM partner_match_candidates WHERE id = $1",
                                     item["id"]) == "superseded"
    resp = await _decide(client, officers["liaison"], item["id"], "confirm", "identity_verified")
    assert resp.status == 409


async def test_the_list_pairs_each_item_with_its_own_register_record(client, officers, owner_conn):
    # our records are read in one query for the whole page: each item must still get its own
    items = [await queued_match(client, officers, owner_conn) for _ in range(3)]
    resp = await client.get(QUEUE, params={"limit": "200"}, headers=officers["liaison"].headers("review"))
    listed = {i["id"]: i for i in (await resp.json())["items"]}
    assert resp.status == 200
    for item in items:
        ours = listed[item["id"]]["register_record"]
        assert ours["id"] == item["pid"] and ours["person"]["names"][0]["family"] == item["family"]
        assert ours["version"] == 1 and ours["person"]["birth_date"] == item["birth"]
