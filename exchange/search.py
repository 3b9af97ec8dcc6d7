"""The liaison officer's person search: one person (the canonical person record, names required) against our
register and the partners' records, answered as a ranked, explained candidate list.

``search(app, actor, person, limit, threshold, sources)`` is the whole of it, shared by the HTTP handler
(``exchange.search_api``, ``POST /api/v1/search``) and the officers' pages:

1. the arguments are validated with the ``protocols`` validators (``validate_search``; a bad one raises
   ``protocols.validation.ValidationError`` with its stable code and field);
2. the process's ``ScreeningIndex`` (``exchange.screening_index``) is awaited while it loads (503 with
   ``Retry-After`` after ``EXCHANGE_BORDER_INDEX_WAIT`` seconds, as the border check does), refreshed from the
   database, and queried (``matching.CandidateIndex.query``: probability and per-feature explanation);
3. in one transaction the candidates are read back from the database (current version, still active: one
   withdrawn a moment ago is dropped) and the ``person.search`` audit row is written with the ids returned.

The audit row records who and why (the actor), the ids returned, their count and the shape of the query
(which fields were given, the limit, threshold and sources), never the query's names or other values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web

from matching.index import Candidate
from protocols.person import validate_person
from protocols.validation import Code, ValidationError, clean_enum, clean_int, expect_list, expect_mapping

from . import audit
from .appkeys import POOL
from .border.config import BORDER_SETTINGS, BorderSettings
from .screening_index import SCREENING, ScreeningIndex, audit_ref, partner_key, record_of, split_partner_key

DEFAULT_LIMIT, MAX_LIMIT = 10, 50
DEFAULT_THRESHOLD, MIN_THRESHOLD, MAX_THRESHOLD = 0.3, 0.05, 0.99
SOURCES = ("register", "partners")
FIELDS = ("person", "limit", "threshold", "sources")
# Candidates re-read beyond ``limit``, so that records withdrawn since the index refresh (dropped by the
# re-check) still leave ``limit`` candidates when the index has them.
RECHECK_SLACK = 10

# The current version of the partners' active records, with where each came from (the verified message).
_PARTNER = """
SELECT h.country::text AS country, h.record_id, h.current_version, v.body -> 'person' AS person,
       v.message_id, v.kid, v.via, v.received_at
FROM partner_records h JOIN partner_record_versions v
  ON v.country = h.country AND v.record_id = h.record_id AND v.version = h.current_version
WHERE h.status = 'active' AND (h.country::text, h.record_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
"""


@dataclass(frozen=True)
class SearchRequest:
    person: dict[str, Any]
    limit: int = DEFAULT_LIMIT
    threshold: float = DEFAULT_THRESHOLD
    sources: tuple[str, ...] = SOURCES


def _threshold(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(Code.INVALID_TYPE, field, "must be a number")
    if not math.isfinite(value) or not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise ValidationError(Code.INVALID_VALUE, field, f"must be between {MIN_THRESHOLD} and {MAX_THRESHOLD}")
    return float(value)


def _sources(value: Any, field: str) -> tuple[str, ...]:
    items = expect_list(value, field, len(SOURCES), min_items=1)
    chosen = {clean_enum(item, f"{field}[{i}]", SOURCES) for i, item in enumerate(items)}
    return tuple(s for s in SOURCES if s in chosen)


def validate_search(body: Any) -> SearchRequest:
    """The search request of a JSON body ``{"person", "limit", "threshold", "sources"}`` (unknown fields refused;
    a null optional field takes its default)."""
    obj = expect_mapping(body, "", FIELDS, required=("person",))
    return SearchRequest(
        person=validate_person(obj["person"], "person"),
        limit=DEFAULT_LIMIT if obj.get("limit") is None else clean_int(obj["limit"], "limit", 1, MAX_LIMIT),
        threshold=DEFAULT_THRESHOLD if obj.get("threshold") is None else _threshold(obj["threshold"], "threshold"),
        sources=SOURCES if obj.get("sources") is None else _sources(obj["sources"], "sources"))


def _source_of(key: str) -> str:
    return "register" if split_partner_key(key) is None else "partners"


def _summary(person: dict[str, Any]) -> dict[str, Any]:
    """What identifies the candidate at a glance: names, birth date, sex, nationalities, documents."""
    return {"names": list(person.get("names") or []), "birth_date": person.get("birth_date"),
            "sex": person.get("sex"), "nationalities": list(person.get("nationalities") or []),
            "documents": [{"kind": d.get("kind"), "country": d.get("country"), "number": d.get("number")}
                          for d in person.get("documents") or [] if isinstance(d, dict)]}


def _explanation(cand: Candidate) -> list[dict[str, Any]]:
    return [{"feature": f.name, "level": f.level, "weight": round(f.weight, 3), "detail": f.detail}
            for f in cand.match.features]


async def _current(conn: asyncpg.Connection, holder: ScreeningIndex, keys: list[str]) -> dict[str, dict[str, Any]]:
    """The still-active records among ``keys`` (index ids), read in the caller's transaction: for each, its
    source, reference, current version and summary (and, for a partner's, the message it came in)."""
    found: dict[str, dict[str, Any]] = {}
    local = [k for k in keys if split_partner_key(k) is None]
    if local:
        register = next(s for s in holder.sources if s.name == "local")
        for row in await register.fetch(conn, local):
            found[str(row["id"])] = {"source": "register", "id": str(row["id"]), "version": row["current_version"],
                                     "summary": _summary(record_of(row))}
    pairs = [p for p in (split_partner_key(k) for k in keys) if p is not None]
    if pairs:
        for row in await conn.fetch(_PARTNER, [p[0] for p in pairs], [p[1] for p in pairs]):
            person = row["person"] if isinstance(row["person"], dict) else {}
            found[partner_key(row["country"], row["record_id"])] = {
                "source": "partner", "country": row["country"], "record_id": row["record_id"],
                "version": row["current_version"], "summary": _summary(person),
                "provenance": {"message_id": str(row["message_id"]), "kid": row["kid"], "via": row["via"],
                               "received_at": row["received_at"].isoformat()}}
    return found


async def _ready_index(app: web.Application) -> ScreeningIndex:
    holder = app[SCREENING]
    settings = app.get(BORDER_SETTINGS) or BorderSettings()
    await holder.until_ready(settings.index_wait, "the search index is still loading; retry shortly")
    return holder


async def search(app: web.Application, actor: audit.Actor, person: Any, limit: Any = DEFAULT_LIMIT,
                 threshold: Any = DEFAULT_THRESHOLD, sources: Any = SOURCES) -> dict[str, Any]:
    """Search ``person`` in the sources; answers ``{"candidates": [...], "index": {...}, ...}``, best first.

    Raises ``ValidationError`` for a bad argument (before anything is read or written) and ``Unavailable``
    while the index is still loading. The audit row commits with the re-check of the candidates.
    """
    asked = validate_search({"person": person, "limit": limit, "threshold": threshold,
                             "sources": None if sources is None else list(sources)})
    return await run_search(app, actor, asked)


async def run_search(app: web.Application, actor: audit.Actor, asked: SearchRequest) -> dict[str, Any]:
    """``search`` for a request already validated (``validate_search``), as the HTTP handler holds one."""
    holder = await _ready_index(app)
    pool = app[POOL]
    await holder.refreshed(pool)  # requests arriving together share one refresh, as border checks do
    query = {k: v for k, v in asked.person.items() if k != "id"}  # the client's own id is not the register's
    ranked = [c for c in holder.query(query, len(holder) or 1, asked.threshold)  # all above the threshold
              if _source_of(c.id) in asked.sources][:asked.limit + RECHECK_SLACK]
    async with pool.acquire() as conn, conn.transaction():
        current = await _current(conn, holder, [c.id for c in ranked])
        active = [c for c in ranked if c.id in current]
        kept = active[:asked.limit]
        await audit.write(conn, actor, audit.Entry(
            "person.search", record_ids=[audit_ref(c.id) for c in kept],
            detail={"count": len(kept), "withdrawn_dropped": len(ranked) - len(active), "fields": sorted(query),
                    "names": len(query["names"]), "limit": asked.limit, "threshold": asked.threshold,
                    "sources": list(asked.sources)}))
    candidates = [{**current[c.id], "probability": round(c.probability, 6), "explanation": _explanation(c)}
                  for c in kept]
    return {"candidates": candidates, "threshold": asked.threshold, "model_version": holder.index.model.version,
            "index": {"records": len(holder), "ready": holder.ready.is_set()}}
