"""The border module's SQL: checks, their alerts and travel notices. Functions take a connection inside the
caller's transaction; the caller writes the audit rows last. A submission costs few round trips: one query
admits it (post active, Idempotency-Key replay) and one statement stores the check with all its alerts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from ..screening_index import split_partner_key
from .schema import CheckInput
from .screening import Hit

_CHECK_COLUMNS = """id, border_point, officer_id, checked_at, received_at, direction, situation, group_size,
    companions, destination_country, travel_purpose, flags, action, outcome, outcome_at, personal, answer,
    purged_at"""


async def find_by_key(conn: asyncpg.Connection, border_point: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT id, request_hash, answer FROM border_checks WHERE border_point = $1 AND idempotency_key = $2",
        border_point, key)


async def admission(conn: asyncpg.Connection, border_point: str,
                    key: str | None) -> tuple[bool, asyncpg.Record | None]:
    """Whether the post is active, and the check already stored under this Idempotency-Key (or None): one
    query, before any screening, so a replay or a closed post costs no matching."""
    row = await conn.fetchrow(
        """SELECT p.active, c.id, c.request_hash, c.answer FROM border_points p
           LEFT JOIN border_checks c ON c.border_point = p.code AND c.idempotency_key = $2
           WHERE p.code = $1""", border_point, key)
    if row is None:
        return False, None
    return bool(row["active"]), (row if row["id"] is not None else None)


# The check and its alerts in one statement: the alerts are inserted only when the check is (not on an
# Idempotency-Key conflict), so nothing is half-written and there is one round trip whatever the hit count.
_INSERT = """
WITH chk AS (
    INSERT INTO border_checks (id, border_point, officer_id, checked_at, direction, situation, group_size,
        companions, destination_country, travel_purpose, flags, action, outcome, outcome_at, personal,
        idempotency_key, request_hash, answer)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
            CASE WHEN $13::text IS NULL THEN NULL ELSE now() END, $14, $15, $16, $17)
    ON CONFLICT (border_point, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id),
alerts AS (
    INSERT INTO border_alerts (id, check_id, subject, subject_index, person_id, partner_country,
                               partner_record_id, record_version, probability, explanation)
    SELECT a.id, chk.id, a.subject, a.subject_index, a.person_id, a.partner_country, a.partner_record_id,
           a.record_version, a.probability, a.explanation
    FROM chk, unnest($18::uuid[], $19::text[], $20::int[], $21::uuid[], $22::text[], $23::text[], $24::int[],
                     $25::float8[], $26::jsonb[])
         AS a(id, subject, subject_index, person_id, partner_country, partner_record_id, record_version,
              probability, explanation)
    RETURNING 1)
SELECT EXISTS (SELECT 1 FROM chk) AS stored, (SELECT count(*) FROM alerts) AS alerts
"""


async def insert_check(conn: asyncpg.Connection, *, check_id: uuid.UUID, border_point: str, officer_id: int,
                       check: CheckInput, flags: list[str], action: str, answer: dict[str, Any],
                       key: str | None, digest: bytes | None, hits: Sequence[Hit] = (),
                       alert_ids: Sequence[uuid.UUID] = ()) -> bool:
    """Insert the check and one alert per hit (ids ``alert_ids``, in order); False, with nothing written, when
    another request with the same Idempotency-Key got there first."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    for aid, h in zip(alert_ids, hits, strict=True):
        partner = split_partner_key(h.person_id)
        country, record_id = partner or (None, None)
        row = (aid, h.subject, h.subject_index, None if partner else uuid.UUID(h.person_id), country, record_id,
               h.version, h.probability, h.match.as_dict())
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    row = await conn.fetchrow(
        _INSERT, check_id, border_point, officer_id, check.time, check.direction, check.situation,
        check.group_size, len(check.companions), check.destination.get("country"), check.purpose, flags, action,
        check.outcome, check.personal(), key, digest, answer, *columns)
    return bool(row["stored"])


async def fetch_check(conn: asyncpg.Connection, check_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {_CHECK_COLUMNS} FROM border_checks WHERE id = $1",  # noqa: S608
                               check_id)


async def set_outcome(conn: asyncpg.Connection, check_id: uuid.UUID, outcome: str, notes: str | None) -> None:
    await conn.execute(
        """UPDATE border_checks SET outcome = $2, outcome_at = now(),
               personal = CASE WHEN personal IS NULL OR $3::text IS NULL THEN personal
                               ELSE jsonb_set(personal, '{outcome_observations}', to_jsonb($3::text)) END
           WHERE id = $1""", check_id, outcome, notes)


async def list_checks(conn: asyncpg.Connection, border_point: str | None, since: dt.datetime | None,
                      limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, border_point, checked_at, direction, situation, group_size, companions, flags, action,
                  outcome, purged_at IS NOT NULL AS purged
           FROM border_checks WHERE ($1::text IS NULL OR border_point = $1)
             AND ($2::timestamptz IS NULL OR checked_at >= $2)
           ORDER BY checked_at DESC, id LIMIT $3""", border_point, since, limit)


async def alerts_of(conn: asyncpg.Connection, check_id: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, subject, subject_index, status, created_at FROM border_alerts WHERE check_id = $1 "
        "ORDER BY created_at, id", check_id)


def check_view(row: asyncpg.Record, *, personal: bool = True) -> dict[str, Any]:
    """A check as the API shows it; ``personal`` False leaves the personal part out."""
    answer = row["answer"] or {}
    out: dict[str, Any] = {
        "id": str(row["id"]), "border_point": row["border_point"], "time": _time(row["checked_at"]),
        "received_at": _time(row["received_at"]), "direction": row["direction"], "situation": row["situation"],
        "group_size": row["group_size"], "companions": row["companions"],
        "destination_country": row["destination_country"], "purpose": row["travel_purpose"],
        "flags": list(row["flags"]), "recommendation": answer.get("recommendation"),
        "outcome": row["outcome"], "outcome_at": _time(row["outcome_at"]),
        "purged": row["purged_at"] is not None,
    }
    if personal:
        out["personal"] = row["personal"]
    return out


def _time(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat()
