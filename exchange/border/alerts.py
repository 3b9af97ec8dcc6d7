"""``/api/v1/alerts``: the liaison desk's side of a border hit.

``GET`` lists alerts (open ones by default, oldest first) with everything needed to decide: the screened person
as the officer recorded them, the check's context, the register candidate in full (the version that matched)
and the match explanation (features, weights, model version). ``GET /alerts/{id}`` answers one alert in the
same shape, whatever its status (the desk's alert page reads it). ``POST /alerts/{id}/decision`` confirms or
rejects one with a reason code; of two concurrent decisions one gets 200 and the other 409. Confirming a
hit on an adult companion leaving towards a partner country writes a ``travel_notices`` row in the same
transaction and, when that partner is registered, queues a ``travel_notice`` message in the federation outbox.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
from aiohttp import web

from protocols.validation import ValidationError, clean_enum, expect_mapping

from .. import audit
from ..appkeys import POOL
from ..body import invalid, read_json
from ..errors import Conflict, ErrorCode, NotFound
from ..federation.outbox import enqueue
from ..middleware import actor, principal
from ..params import bad_parameter, choice_param, int_param, only_params, record_id
from ..policy import policy
from ..registry import shape
from ..registry import store as registry_store
from .ages import age_bounds

PARTNERS = ("TH", "VN")
CONFIRM_REASONS = ("identity_verified", "document_match", "partner_confirmed")
REJECT_REASONS = ("different_person", "different_birth_date", "different_document", "insufficient_evidence")
STATUSES = ("open", "confirmed", "rejected", "all")

# What an alert's view is made of (the list and the single alert share it; only their WHERE differs).
_SELECT = """
SELECT a.id, a.check_id, a.subject, a.subject_index, a.person_id, a.partner_country::text AS partner_country,
       a.partner_record_id, a.record_version, a.probability,
       a.explanation, a.status, a.reason_code, a.decided_at, a.created_at, u.username AS decided_by,
       c.border_point, c.checked_at, c.direction, c.destination_country, c.flags, c.personal
FROM border_alerts a JOIN border_checks c ON c.id = a.check_id LEFT JOIN users u ON u.id = a.decided_by
"""
_ALERTS = _SELECT + """WHERE ($1::text = 'all' OR a.status = $1) AND ($3::uuid IS NULL OR a.check_id = $3)
ORDER BY a.created_at, a.id LIMIT $2
"""
_ALERT = _SELECT + "WHERE a.id = $1\n"


def subject_of(personal: dict[str, Any] | None, subject: str, index: int) -> dict[str, Any] | None:
    """The screened person as recorded in the check (None once the purge erased it)."""
    if personal is None:
        return None
    if subject == "child":
        return {"person": personal["child"]}
    items = personal.get({"companion": "companions"}.get(subject, subject)) or []
    return items[index] if index < len(items) else None


async def _candidate(conn: asyncpg.Connection, row: asyncpg.Record) -> dict[str, Any] | None:
    """The matched record at the version that matched: ours in the register's shape, or the partner's."""
    if row["person_id"] is not None:
        record = await registry_store.fetch(conn, row["person_id"], row["record_version"])
        return None if record is None else {"source": "register", **shape.record_from(record)}
    body = await conn.fetchval(
        "SELECT body FROM partner_record_versions WHERE country = $1 AND record_id = $2 AND version = $3",
        row["partner_country"], row["partner_record_id"], row["record_version"])
    if body is None:
        return None
    return {"source": row["partner_country"], "id": row["partner_record_id"], "version": row["record_version"],
            "person": body.get("person"), "convictions": body.get("convictions")}


def _record_ref(row: asyncpg.Record) -> str:
    if row["person_id"] is not None:
        return str(row["person_id"])
    return f"{row['partner_country']}:{row['partner_record_id']}"


async def _alert_view(conn: asyncpg.Connection, row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]), "status": row["status"], "created_at": row["created_at"].isoformat(),
        "probability": row["probability"], "explanation": row["explanation"],
        "subject": {"kind": row["subject"], "index": row["subject_index"],
                    "recorded": subject_of(row["personal"], row["subject"], row["subject_index"])},
        "check": {"id": str(row["check_id"]), "border_point": row["border_point"],
                  "time": row["checked_at"].isoformat(), "direction": row["direction"],
                  "destination_country": row["destination_country"], "flags": list(row["flags"])},
        "candidate": await _candidate(conn, row),
        "decision": None if row["status"] == "open" else {
            "reason_code": row["reason_code"], "by": row["decided_by"],
            "at": row["decided_at"].isoformat() if row["decided_at"] else None},
    }


@policy("liaison", purpose=True)
async def list_alerts(request: web.Request) -> web.Response:
    only_params(request, ("status", "limit", "check"))
    status = choice_param(request, "status", STATUSES) or "open"
    limit = int_param(request, "limit", 50, 1, 200)
    check_id = None
    if request.query.get("check") is not None:
        try:
            check_id = uuid.UUID(request.query["check"])
        except ValueError:
            raise bad_parameter("check", "must be a check id") from None
    async with request.app[POOL].acquire() as conn, conn.transaction():
        rows = await conn.fetch(_ALERTS, status, limit, check_id)
        items = [await _alert_view(conn, row) for row in rows]
        ids = [str(r["id"]) for r in rows] + sorted({_record_ref(r) for r in rows})
        await audit.write(conn, actor(request), audit.Entry("border.alert.view", record_ids=ids,
                                                            detail={"status": status, "count": len(rows)}))
    return web.json_response({"items": items})


@policy("liaison", purpose=True)
async def read_alert(request: web.Request) -> web.Response:
    """One alert, in the shape of a list item, whatever its status; audited as ``border.alert.view`` with the
    alert and the matched record. A path id that is not a UUID, or no such alert, is a 404 audited
    ``not_found`` (the raw id is never logged nor sent to the database)."""
    only_params(request)
    alert_id = record_id(request)
    if alert_id is None:
        await audit.write_alone(request.app[POOL], actor(request), audit.Entry(
            "border.alert.view", "not_found", detail={"reason": "id is not a UUID"}))
        raise NotFound("no such alert")
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(_ALERT, alert_id)
        view = None if row is None else await _alert_view(conn, row)
        ids = [str(alert_id)] + ([_record_ref(row)] if row is not None else [])
        await audit.write(conn, actor(request), audit.Entry(
            "border.alert.view", "ok" if row is not None else "not_found", record_ids=ids,
            detail={"count": 0 if row is None else 1}))
    if view is None:
        raise NotFound("no such alert")
    return web.json_response(view)


def _decision(body: Any) -> tuple[str, str]:
    obj = expect_mapping(body, "", ("decision", "reason_code"), required=("decision", "reason_code"))
    decision = clean_enum(obj["decision"], "decision", ("confirm", "reject"))
    reason = clean_enum(obj["reason_code"], "reason_code",
                        CONFIRM_REASONS if decision == "confirm" else REJECT_REASONS)
    return decision, reason


def notice_partner(direction: str, destination: str | None, neighbour: str) -> str | None:
    """The partner a confirmed hit on a departing adult is notified to: the destination when it is a partner,
    else the neighbouring partner the post leads to; None for an entry."""
    if direction != "exit":
        return None
    if destination in PARTNERS:
        return destination
    return neighbour if neighbour in PARTNERS else None


def _is_minor(person: dict[str, Any] | None, on) -> bool:
    birth = ((person or {}).get("person") or {}).get("birth_date")
    return birth is not None and age_bounds(birth, on)[1] < 18


async def _travel_notice(conn: asyncpg.Connection, alert_id: uuid.UUID,
                         row: asyncpg.Record) -> dict[str, Any] | None:
    """Write the travel notice of a confirmed hit on an adult companion leaving towards a partner (or None).

    A hit on a partner's record is told only to that partner (its record id means nothing to another one).
    When the partner is registered, active and its agreement allows disclosures, the notice is queued in the
    federation outbox in this same transaction (message type ``travel_notice``); otherwise it stays pending.
    """
    if row["subject"] != "companion":
        return None
    check = await conn.fetchrow(
        """SELECT c.border_point, c.checked_at, c.direction, c.destination_country::text AS destination_country,
                  c.personal, p.neighbour::text AS neighbour
           FROM border_checks c JOIN border_points p ON p.code = c.border_point WHERE c.id = $1""", row["check_id"])
    partner = notice_partner(check["direction"], check["destination_country"], check["neighbour"])
    recorded = subject_of(check["personal"], "companion", row["subject_index"])
    if partner is None or _is_minor(recorded, check["checked_at"].date()):
        return None
    if row["person_id"] is None and row["partner_country"] != partner:
        return None
    reference = str(row["person_id"]) if row["person_id"] is not None else row["partner_record_id"]
    body = {"record_reference": reference, "border_point": check["border_point"], "direction": check["direction"],
            "time": check["checked_at"].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "destination_country": check["destination_country"] or partner}
    message_id = None
    if await conn.fetchval("SELECT active AND receives <> 'none' FROM partners WHERE country = $1", partner):
        message_id = await enqueue(conn, partner, "travel_notice", body)
    notice_id = await conn.fetchval(
        """INSERT INTO travel_notices (alert_id, partner, person_id, partner_record_id, border_point, direction,
               crossed_at, status, message_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
        alert_id, partner, row["person_id"], None if row["person_id"] is not None else reference,
        check["border_point"], check["direction"], check["checked_at"], "queued" if message_id else "pending",
        message_id)
    return {"id": str(notice_id), "partner": partner, "status": "queued" if message_id else "pending",
            "message_id": str(message_id) if message_id else None}


@policy("liaison", purpose=True)
async def decide(request: web.Request) -> web.Response:
    alert_id = record_id(request)
    if alert_id is None:
        raise NotFound("no such alert")
    body = await read_json(request)
    try:
        decision, reason = _decision(body)
    except ValidationError as err:
        raise invalid(err) from None
    status = "confirmed" if decision == "confirm" else "rejected"
    who = principal(request)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """UPDATE border_alerts SET status = $2, reason_code = $3, decided_by = $4, decided_at = now()
               WHERE id = $1 AND status = 'open'
               RETURNING check_id, subject, subject_index, person_id, partner_country::text AS partner_country,
                         partner_record_id""",
            alert_id, status, reason, who.user_id)
        if row is None:
            if await conn.fetchval("SELECT 1 FROM border_alerts WHERE id = $1", alert_id):
                raise Conflict("this alert has already been decided", code=ErrorCode.CONFLICT)
            raise NotFound("no such alert")
        notice = await _travel_notice(conn, alert_id, row) if status == "confirmed" else None
        ids = [str(alert_id), str(row["check_id"]), _record_ref(row)] + ([notice["id"]] if notice else [])
        await audit.write(conn, actor(request), audit.Entry(
            "border.alert.decision", record_ids=ids,
            detail={"decision": decision, "reason_code": reason,
                    "travel_notice": notice["partner"] if notice else None}))
    return web.json_response({"id": str(alert_id), "status": status, "reason_code": reason,
                              "travel_notice": notice})
