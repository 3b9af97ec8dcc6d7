"""Applying a partner's record message: a new version of a partner record, kept apart from our own register.

Pushed messages and pulled feed items both come here, inside the transaction that also stores the message id
(``inbox``). A version is applied once: ``(country, record_id, version)`` is the primary key, and a version at
or below the one we hold is not applied again (``duplicate`` when we have it, ``stale`` when a newer one
arrived first), so versions of one record take effect in order whatever the order of arrival. A withdrawal
sets the head to ``withdrawn`` at once, which takes the record out of matching and out of the officers' lists.

Matching on arrival: :func:`on_new_version` scores the new version against our active register with the
matching library and queues candidates (with their explanation) in ``partner_match_candidates`` for the liaison
officers' review; a review package can adjudicate them from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

REVIEW_LIMIT = 5  # candidates kept per partner record version


@dataclass(frozen=True)
class Provenance:
    """Who signed what we apply: the sender, the message (push or feed page) id, its key id and signature."""

    sender: str
    message_id: str
    kid: str
    signature: str
    via: str  # push | pull


async def apply_record(conn: asyncpg.Connection, kind: str, body: dict[str, Any], prov: Provenance) -> str:
    """Apply one verified ``record_upsert`` / ``record_withdrawal`` body; returns applied | duplicate | stale."""
    record_id, version = body["record_id"], body["version"]
    status = "active" if kind == "record_upsert" else "withdrawn"
    await conn.execute(
        """INSERT INTO partner_records (country, record_id, current_version, status) VALUES ($1, $2, 0, $3)
           ON CONFLICT DO NOTHING""", prov.sender, record_id, status)
    current = await conn.fetchval(
        "SELECT current_version FROM partner_records WHERE country = $1 AND record_id = $2 FOR UPDATE",
        prov.sender, record_id)
    if version <= current:
        held = await conn.fetchval(
            "SELECT 1 FROM partner_record_versions WHERE country = $1 AND record_id = $2 AND version = $3",
            prov.sender, record_id, version)
        return "duplicate" if held else "stale"
    await conn.execute(
        """INSERT INTO partner_record_versions (country, record_id, version, status, body, message_id, kid,
               signature, via) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        prov.sender, record_id, version, status, body, prov.message_id, prov.kid, prov.signature, prov.via)
    await conn.execute(
        """UPDATE partner_records SET current_version = $3, status = $4, updated_at = now()
           WHERE country = $1 AND record_id = $2""", prov.sender, record_id, version, status)
    await on_new_version(conn, prov.sender, record_id, version, status, body)
    return "applied"


async def on_new_version(conn: asyncpg.Connection, country: str, record_id: str, version: int, status: str,
                         body: dict[str, Any]) -> int:
    """Match a new partner record version against our register and queue the candidates for review.

    Called in the transaction that applied the version. Earlier open candidates of the record are superseded
    (a withdrawal: withdrawn), so a withdrawn partner record leaves the review queue at once. Returns the
    number of candidates queued.
    """
    await conn.execute(
        """UPDATE partner_match_candidates SET status = $3 WHERE country = $1 AND record_id = $2 AND status = 'open'""",
        country, record_id, "superseded" if status == "active" else "withdrawn")
    if status != "active":
        return 0
    from .hits import REVIEW_THRESHOLD, register_index  # the matching library loads on first use

    index = await register_index(conn)
    found = index.query({**body["person"], "id": f"{country}:{record_id}"}, limit=REVIEW_LIMIT,
                        threshold=REVIEW_THRESHOLD)
    for candidate in found:
        await conn.execute(
            """INSERT INTO partner_match_candidates (country, record_id, version, person_id, probability, explanation)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            country, record_id, version, candidate.id, candidate.probability, candidate.match.as_dict())
    return len(found)
