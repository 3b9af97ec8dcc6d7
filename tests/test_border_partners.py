"""Screening covers the partners' records too, and a confirmed hit on a departing adult goes to the partner
through the federation outbox (message type ``travel_notice``) in the decision's transaction."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid

from nacl.public import PrivateKey
from nacl.signing import SigningKey

from exchange.federation import partners
from protocols.messages import validate_body

from .test_border_support import alerts_for, family_body, random_birth, register, submit, unique_word


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def _ensure_partner(owner_conn, country: str) -> None:
    """Register the partner in this test database (a loopback URL nobody answers: nothing is delivered)."""
    async with owner_conn.transaction():
        if not await owner_conn.fetchval("SELECT 1 FROM partners WHERE country = $1", country):
            await partners.add(owner_conn, country=country, url="http://127.0.0.1:9/",
                               signing_key=_b64u(bytes(SigningKey.generate().verify_key)),
                               box_key=_b64u(bytes(PrivateKey.generate().public_key)), receives="hits",
                               now=dt.datetime.now(dt.UTC))


async def _partner_record(owner_conn, country: str, person: dict) -> str:
    """A record as the federation inbox stores it after verifying the partner's signed record_upsert."""
    record_id = f"{country.lower()}-{secrets.token_hex(6)}"
    message_id = uuid.uuid4()
    body = {"record_id": record_id, "version": 1, "person": person, "source_country": country,
            "convictions": [{"court": "Criminal Court", "case_number": "TH-1", "date": "2015-03-01",
                             "offence_category": "child_sexual_abuse"}]}
    async with owner_conn.transaction():
        await owner_conn.execute("INSERT INTO inbox (message_id, sender, type, kid, signature, envelope) "
                                 "VALUES ($1, $2, 'record_upsert', 'ed25519:test', 'sig', '\\x00'::bytea)",
                                 message_id, country)
        await owner_conn.execute("INSERT INTO partner_records (country, record_id, current_version, status) "
                                 "VALUES ($1, $2, 1, 'active')", country, record_id)
        await owner_conn.execute(
            """INSERT INTO partner_record_versions (country, record_id, version, status, body, message_id, kid,
                   signature, via) VALUES ($1, $2, 1, 'active', $3, $4, 'ed25519:test', 'sig', 'push')""",
            country, record_id, body, message_id)
    return record_id


async def test_partner_record_hit_is_alerted_and_its_travel_notice_goes_to_that_partner(client, officers, owner_conn):
    await _ensure_partner(owner_conn, "TH")
    family, given, birth = unique_word("W"), unique_word("S"), random_birth()
    record_id = await _partner_record(owner_conn, "TH", {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth, "sex": "male",
                                                         "nationalities": ["TH"]})
    body = family_body()
    body["destination"] = {"country": "TH", "place": "Pattaya"}
    body["companions"].append({"person": {"names": [{"full": f"{given} {family}".upper()}], "birth_date": birth},
                               "relationship": "unrelated", "evidence": "none"})
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" in answer["flags"] and record_id not in str(answer)
    [alert] = await alerts_for(client, officers["liaison"], answer["id"])
    assert alert["candidate"]["source"] == "TH" and alert["candidate"]["id"] == record_id
    assert alert["candidate"]["convictions"][0]["offence_category"] == "child_sexual_abuse"

    resp = await client.post(f"/api/v1/alerts/{alert['id']}/decision",
                             json={"decision": "confirm", "reason_code": "partner_confirmed"},
                             headers=officers["liaison"].headers("border_check"))
    assert resp.status == 200, await resp.text()
    notice = (await resp.json())["travel_notice"]
    assert notice["partner"] == "TH" and notice["status"] == "queued"
    row = await owner_conn.fetchrow("SELECT * FROM travel_notices WHERE id = $1", uuid.UUID(notice["id"]))
    assert row["partner_record_id"] == record_id and row["person_id"] is None
    out = await owner_conn.fetchrow("SELECT type, status, body FROM outbox WHERE message_id = $1", row["message_id"])
    assert out["type"] == "travel_notice" and out["status"] == "pending"
    assert out["body"]["record_reference"] == record_id and out["body"]["destination_country"] == "TH"
    assert validate_body("travel_notice", out["body"], sender="KH", recipient="TH") == out["body"]
    # the alert, its view and its decision name the partner record the same way in the audit log
    actions = await owner_conn.fetch("SELECT action FROM audit_log WHERE $1 = ANY(record_ids)", f"TH:{record_id}")
    assert {"border.alert", "border.alert.view", "border.alert.decision"} <= {r["action"] for r in actions}


async def test_our_record_hit_is_queued_for_the_registered_partner(client, officers, owner_conn):
    await _ensure_partner(owner_conn, "TH")
    family, given, birth = unique_word("K"), unique_word("P"), random_birth()
    pid = await register(client, officers["registrar"], {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth})
    body = family_body()
    body["companions"].append({"person": {"names": [{"full": f"{given} {family}"}], "birth_date": birth},
                               "relationship": "unrelated", "evidence": "none"})
    answer = await submit(client, officers["immigration"], body)
    [alert] = await alerts_for(client, officers["liaison"], answer["id"])
    assert alert["candidate"]["source"] == "register" and alert["candidate"]["id"] == pid
    resp = await client.post(f"/api/v1/alerts/{alert['id']}/decision",
                             json={"decision": "confirm", "reason_code": "identity_verified"},
                             headers=officers["liaison"].headers("border_check"))
    notice = (await resp.json())["travel_notice"]
    assert notice["status"] == "queued" and notice["message_id"]
    body = await owner_conn.fetchval("SELECT body FROM outbox WHERE message_id = $1", uuid.UUID(notice["message_id"]))
    assert body["record_reference"] == pid and body["border_point"] == "POIPET" and body["direction"] == "exit"


async def test_withdrawn_partner_record_is_not_screened(client, officers, owner_conn):
    family, given, birth = unique_word("N"), unique_word("M"), random_birth()
    record_id = await _partner_record(owner_conn, "VN", {"names": [{"family": family, "given": given}],
                                                         "birth_date": birth})
    await owner_conn.execute("UPDATE partner_records SET status = 'withdrawn', updated_at = now() "
                             "WHERE country = 'VN' AND record_id = $1", record_id)
    body = family_body()
    body["companions"].append({"person": {"names": [{"full": f"{given} {family}"}], "birth_date": birth},
                               "relationship": "unrelated", "evidence": "none"})
    answer = await submit(client, officers["immigration"], body)
    assert "companion_watchlist_hit" not in answer["flags"]
