"""The transactional outbox: what each partner must be told about a change, written in the change's transaction.

:func:`enqueue_record_change` is called by the register (``exchange.registry.api``) inside the transaction that
creates, replaces or withdraws a record. For each partner it decides, from the agreement and the record:

* ``record_upsert``     the partner receives full records (``receives = full``), the record's ``sharing`` list
                        (NULL: all such partners) names it, and a conviction falls in its offence categories;
* ``record_withdrawal`` the record was withdrawn and the partner received (or is due) an earlier version; or
                        a correction no longer may go to a past recipient (reason ``other``: it must erase it);
* nothing               otherwise.

Record messages get the partner's next feed sequence number (``feed_counters``: the row lock held until the
commit makes sequence numbers commit in order), so the same row is both pushed (send loop) and served by
the pull feed. A body the protocol's schema refuses is written as ``rejected`` with the schema field, visible
in the partner status, never dropped silently (the sender and the feed check again before sealing).
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from protocols.messages import validate_body
from protocols.validation import ValidationError

from ..registry import shape, store
from .partners import Partner, all_partners

RECORD_TYPES = ("record_upsert", "record_withdrawal")
_PLACEHOLDER = "ZZ"  # validation of a stored body happens before the sender's country is added at sealing


def allowed(partner: Partner, record: dict[str, Any]) -> bool:
    """May ``partner`` receive this (active) record in full?"""
    sharing = record.get("sharing")
    categories = [c["offence_category"] for c in record.get("convictions") or []]
    return (partner.receives == "full" and (sharing is None or partner.country in sharing["countries"])
            and partner.accepts_category(categories))


def upsert_body(record: dict[str, Any]) -> dict[str, Any]:
    """The ``record_upsert`` body without ``source_country`` (added when sealed or served)."""
    return {"record_id": record["id"], "version": record["version"], "person": record["person"],
            "convictions": record["convictions"], "review_date": record["review_date"]}


def wire_body(message_type: str, body: dict[str, Any], sender: str) -> dict[str, Any]:
    """A stored outbox body as it goes on the wire from ``sender``."""
    if message_type == "record_upsert":
        return {**body, "source_country": sender}
    return body


def schema_problem(message_type: str, body: dict[str, Any]) -> str | None:
    try:
        validate_body(message_type, wire_body(message_type, body, _PLACEHOLDER), sender=_PLACEHOLDER,
                      recipient="ZY")
    except ValidationError as err:
        return f"schema_error: {err.field}"
    return None


async def past_recipients(conn: asyncpg.Connection, person_id: uuid.UUID) -> set[str]:
    """Partners that received, or are due, a version of this record (and were not told to erase it since)."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (partner) partner, type FROM outbox
           WHERE person_id = $1 AND status <> 'rejected' ORDER BY partner, id DESC""", person_id)
    return {r["partner"] for r in rows if r["type"] == "record_upsert"}


async def enqueue(conn: asyncpg.Connection, partner: str, message_type: str, body: dict[str, Any], *,
                  person_id: uuid.UUID | None = None, version: int | None = None) -> uuid.UUID:
    """One outbox row (record messages also get the partner's next feed sequence number)."""
    seq = None
    if message_type in RECORD_TYPES:
        seq = await conn.fetchval("UPDATE feed_counters SET seq = seq + 1 WHERE partner = $1 RETURNING seq", partner)
    problem = schema_problem(message_type, body)
    message_id = uuid.uuid4()
    await conn.execute(
        """INSERT INTO outbox (partner, seq, message_id, type, person_id, version, body, status, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        partner, seq, message_id, message_type, person_id, version, body,
        "pending" if problem is None else "rejected", problem)
    return message_id


async def enqueue_record_change(conn: asyncpg.Connection, person_id: uuid.UUID, version: int) -> int:
    """Write the outbox rows for version ``version`` of our record ``person_id``; returns how many.

    Must run inside the transaction that wrote that version (the caller's audit row comes after it).
    """
    if not conn.is_in_transaction():
        raise RuntimeError("enqueue_record_change must run inside the transaction of the change")
    row = await store.fetch(conn, person_id, version)
    if row is None:
        raise LookupError("no such record version")
    record = shape.record_from(row)
    past = await past_recipients(conn, person_id)
    count = 0
    for partner in await all_partners(conn):
        if record["status"] == "withdrawn":
            if partner.country not in past:
                continue
            reason = record.get("withdrawal", {}).get("reason", "other")
            kind, body = "record_withdrawal", {"record_id": record["id"], "version": version, "reason": reason}
        elif allowed(partner, record):
            kind, body = "record_upsert", upsert_body(record)
        elif partner.country in past:  # no longer shared with this past recipient: it must erase its copy
            kind, body = "record_withdrawal", {"record_id": record["id"], "version": version, "reason": "other"}
        else:
            continue
        await enqueue(conn, partner.country, kind, body, person_id=person_id, version=version)
        count += 1
    return count


async def backfill(conn: asyncpg.Connection, country: str, batch: int = 500) -> int:
    """Queue the current version of every active record ``country`` may receive and has not been sent yet
    (a partner added, or its agreement widened, after those records were registered). Returns how many."""
    partner = next((p for p in await all_partners(conn) if p.country == country), None)
    if partner is None:
        raise LookupError("no such active partner")
    queued, after = 0, None
    while True:
        rows = await store.page(conn, store.Filters(status="active", after=after), batch)
        for row in rows:
            record = shape.record_from(row)
            if allowed(partner, record) and country not in await past_recipients(conn, row["id"]):
                await enqueue(conn, country, "record_upsert", upsert_body(record), person_id=row["id"],
                              version=record["version"])
                queued += 1
        if len(rows) < batch:
            return queued
        after = (rows[-1]["updated_at"], rows[-1]["id"])
