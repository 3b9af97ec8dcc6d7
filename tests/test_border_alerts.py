"""Liaison decisions on border alerts: confirm/reject with reason codes, one 200 and one 409 when two decide at
once, and the travel notice seam (a pending row only for a confirmed hit on an adult leaving to a partner)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from .test_border_support import alerts_for, family_body, random_birth, register, submit, unique_word


async def _hit(client, officers, *, direction: str = "exit", destination: str | None = "TH",
               subject: str = "companion") -> tuple[str, str, str]:
    """A check whose companion (or met_by person) is in the register; returns (check id, alert id, person id)."""
    family, given = unique_word("S"), unique_word("V")
    birth = random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "male"})
    body = family_body()
    body["direction"] = direction
    if destination is None:
        body.pop("destination")
    else:
        body["destination"] = {"country": destination}
    person = {"names": [{"full": f"{given} {family}"}], "birth_date": birth, "sex": "male"}
    if subject == "companion":
        body["companions"].append({"person": person, "relationship": "other_relative", "evidence": "none"})
    else:
        body[subject] = [{"person": person, "relationship": "unknown"}]
    answer = await submit(client, officers["immigration"], body)
    alerts = await alerts_for(client, officers["liaison"], answer["id"])
    assert len(alerts) == 1, alerts
    return answer["id"], alerts[0]["id"], pid


async def _decide(client, liaison, alert_id: str, decision: str, reason: str):
    return await client.post(f"/api/v1/alerts/{alert_id}/decision", json={"decision": decision, "reason_code": reason},
                             headers=liaison.headers("border_check"))


async def test_confirmed_hit_on_departing_adult_writes_a_pending_travel_notice(client, officers, owner_conn):
    check_id, alert_id, pid = await _hit(client, officers)
    resp = await _decide(client, officers["liaison"], alert_id, "confirm", "identity_verified")
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["status"] == "confirmed" and answer["travel_notice"]["partner"] == "TH"
    row = await owner_conn.fetchrow("SELECT * FROM travel_notices WHERE alert_id = $1", uuid.UUID(alert_id))
    assert (row["partner"], str(row["person_id"]), row["border_point"], row["direction"]) == (
        "TH", pid, "POIPET", "exit")
    # pending until the partner is registered; queued in the federation outbox once it is (test_border_partners)
    assert row["status"] in ("pending", "queued") and (row["status"] == "queued") == (row["message_id"] is not None)
    audit = await owner_conn.fetchrow(
        "SELECT username, detail, record_ids FROM audit_log WHERE action = 'border.alert.decision' "
        "AND $1 = ANY(record_ids)", alert_id)
    assert audit["username"] == officers["liaison"].username
    assert audit["detail"]["travel_notice"] == "TH" and str(row["id"]) in audit["record_ids"]
    listed = await alerts_for(client, officers["liaison"], check_id, status="confirmed")
    assert listed[0]["decision"]["reason_code"] == "identity_verified"


@pytest.mark.parametrize(("direction", "destination", "subject", "partner"), [
    ("exit", "MY", "companion", "TH"),       # beyond Thailand: the neighbour the post leads to is told
    ("exit", None, "companion", "TH"),
    ("entry", "KH", "companion", None),      # arriving: nothing to send
    ("exit", "TH", "met_by", None),          # not travelling with the child: no notice
])
async def test_travel_notice_partner_rules(client, officers, owner_conn, direction, destination, subject, partner):
    _, alert_id, _ = await _hit(client, officers, direction=direction, destination=destination, subject=subject)
    resp = await _decide(client, officers["liaison"], alert_id, "confirm", "document_match")
    assert resp.status == 200
    got = await owner_conn.fetchval("SELECT partner FROM travel_notices WHERE alert_id = $1", uuid.UUID(alert_id))
    assert (got.strip() if got else None) == partner


async def test_rejected_hit_sends_nothing(client, officers, owner_conn):
    _, alert_id, _ = await _hit(client, officers)
    resp = await _decide(client, officers["liaison"], alert_id, "reject", "different_person")
    assert resp.status == 200 and (await resp.json())["travel_notice"] is None
    assert await owner_conn.fetchval("SELECT count(*) FROM travel_notices WHERE alert_id = $1",
                                     uuid.UUID(alert_id)) == 0


async def test_two_decisions_at_once_one_wins_one_conflicts(client, officers, owner_conn):
    _, alert_id, _ = await _hit(client, officers)
    first, second = await asyncio.gather(
        _decide(client, officers["liaison"], alert_id, "confirm", "identity_verified"),
        _decide(client, officers["liaison"], alert_id, "reject", "different_person"))
    assert sorted([first.status, second.status]) == [200, 409]
    assert await owner_conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'border.alert.decision' "
                                     "AND $1 = ANY(record_ids)", alert_id) == 1
    notices = await owner_conn.fetchval("SELECT count(*) FROM travel_notices WHERE alert_id = $1",
                                        uuid.UUID(alert_id))
    status = await owner_conn.fetchval("SELECT status FROM border_alerts WHERE id = $1", uuid.UUID(alert_id))
    assert notices == (1 if status == "confirmed" else 0)


@pytest.mark.parametrize(("body", "field"), [
    ({"decision": "maybe", "reason_code": "identity_verified"}, "decision"),
    ({"decision": "confirm", "reason_code": "different_person"}, "reason_code"),   # a reject reason
    ({"decision": "reject"}, "reason_code"),
    ({"decision": "reject", "reason_code": "different_person", "status": "rejected"}, "status"),
])
async def test_bad_decisions_are_400_and_change_nothing(client, officers, owner_conn, body, field):
    _, alert_id, _ = await _hit(client, officers)
    resp = await client.post(f"/api/v1/alerts/{alert_id}/decision", json=body,
                             headers=officers["liaison"].headers("border_check"))
    assert resp.status == 400 and (await resp.json())["error"]["field"] == field
    assert await owner_conn.fetchval("SELECT status FROM border_alerts WHERE id = $1", uuid.UUID(alert_id)) == "open"


async def test_unknown_alert_is_404(client, officers):
    resp = await _decide(client, officers["liaison"], str(uuid.uuid4()), "reject", "different_person")
    assert resp.status == 404
    resp = await _decide(client, officers["liaison"], "not-a-uuid", "reject", "different_person")
    assert resp.status == 404
