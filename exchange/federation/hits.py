"""Hit/no-hit: a partner asks whether we know a person; it learns only hit or no-hit, an opaque reference and a
probability band. The details behind a hit go out only after a liaison officer approves a ``record_request``.

The query is scored with the matching library (``matching.index.CandidateIndex`` over the active versions of
our register, with ``matching.model``'s calibrated probability). The index is rebuilt only when the register
changed (its row count or the sum of its current versions moved). Both steps are audited as disclosures:
recipient, message id, record ids, legal basis.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import asyncpg

from .. import audit
from ..registry import shape, store
from . import partners

HIT_THRESHOLD = 0.5       # probability from which a query is answered "hit"
REVIEW_THRESHOLD = 0.5    # probability from which an arriving partner record is queued for review
BANDS = ((0.9, "high"), (0.7, "medium"), (0.0, "low"))
MAX_REGISTER = 200_000    # beyond this the index must become a maintained structure, not rebuilt on change
SYSTEM = audit.Actor(username="federation", role="system", request_id="federation")


class NotPermitted(Exception):
    """The partner's agreement does not allow this request (answered 403 ``not_permitted``)."""


@dataclass
class _Cache:
    stamp: tuple[Any, ...] | None = None
    index: Any = None  # matching.index.CandidateIndex, imported on first use (the model loads at that point)


_CACHE: dict[str, _Cache] = {}


def band_of(probability: float) -> str:
    return next(name for floor, name in BANDS if probability >= floor)


async def register_index(conn: asyncpg.Connection) -> Any:
    """A candidate index over the active current versions of our register (cached per database)."""
    from matching.index import CandidateIndex

    # Every committed change adds a person or raises a current_version, so (count, sum of versions) moves with
    # each one whatever the order of commits (updated_at would miss a long transaction committing late).
    row = await conn.fetchrow("SELECT current_database() AS db, count(*) AS n, "
                              "coalesce(sum(current_version), 0) AS versions FROM persons")
    stamp = (row["n"], row["versions"])
    cache = _CACHE.setdefault(row["db"], _Cache())
    if cache.index is None or cache.stamp != stamp:
        index = CandidateIndex()
        for row in await store.page(conn, store.Filters(status="active"), MAX_REGISTER):
            index.add({**shape.person_from(row), "id": str(row["id"])})
        cache.index, cache.stamp = index, stamp
    assert cache.index is not None
    return cache.index


async def answer(conn: asyncpg.Connection, message: Any) -> tuple[dict[str, Any], list[str]]:
    """The ``match_result`` body for a verified ``match_query``, and our record ids it concerns."""
    partner = await partners.get(conn, message.sender)
    assert partner is not None
    query_id = message.body["query_id"]
    if partner.receives == "none":
        raise NotPermitted("the agreement with this node does not allow queries")
    index = await register_index(conn)
    found = index.query({**message.body["person"], "id": f"query:{message.id}"}, limit=1, threshold=HIT_THRESHOLD)
    result: dict[str, Any]
    record_ids: list[str]
    if not found:
        result, record_ids, outcome = {"query_id": query_id, "result": "no_hit"}, [], "no_hit"
    else:
        best = found[0]
        reference = "ref-" + secrets.token_hex(12)
        band = band_of(best.probability)
        await conn.execute(
            """INSERT INTO match_answers (reference, partner, message_id, query_id, person_id, band)
               VALUES ($1, $2, $3, $4, $5, $6)""", reference, partner.country, message.id, query_id, best.id, band)
        result = {"query_id": query_id, "result": "hit", "reference": reference, "band": band}
        record_ids, outcome = [best.id], "hit"
    await audit.write(conn, SYSTEM, audit.Entry("federation.disclosure", outcome, record_ids, {
        "recipient": partner.country, "message_id": message.id, "kind": "hit_no_hit",
        "purpose": message.body["purpose"], "legal_basis": partner.legal_basis}))
    return result, record_ids


async def request(conn: asyncpg.Connection, message: Any) -> str | None:
    """Queue a verified ``record_request`` for approval; returns an error code if it cannot be queued."""
    reference = message.body["reference"]
    known = await conn.fetchval("SELECT 1 FROM match_answers WHERE reference = $1 AND partner = $2",
                                reference, message.sender)
    if not known:
        return "unknown_reference"
    await conn.execute(
        """INSERT INTO record_requests (partner, message_id, reference, purpose, legal_basis)
           VALUES ($1, $2, $3, $4, $5)""", message.sender, message.id, reference, message.body["purpose"],
        message.body["legal_basis"])
    return None
