"""Screening of a border check: the child, every companion and every hand-over person against our register and
the partners' records.

Each person is matched with the matching library (``matching.CandidateIndex`` through the process's
``ScreeningIndex``); a candidate at or above ``ALERT_THRESHOLD`` that also carries identifying evidence
(``has_evidence``: names or a document agree, not a birth date alone) is a hit, and so is, at any probability
down to ``DOCUMENT_FLOOR``, a candidate whose document number and names both agree (``is_hit``). A hit becomes
an alert for the liaison desk and a flag for the officer, who never sees the candidate. The index is refreshed from the
database right before screening, and the hits are re-checked against the database inside the check's
transaction (``still_active``), so a record withdrawn a moment ago never raises an alert.

Partner records (received through the federation inbox, ``partner_records``) are in the same index; an alert
names either our person or the partner's record.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import asyncpg

from matching.model import Match

from ..screening_index import ScreeningIndex, split_partner_key
from .schema import CheckInput

# Probability from which a register candidate holds the traveller for secondary inspection. Deliberately
# lower than an investigator's "same person" bar: a false alert costs a liaison officer a few minutes, a
# missed one lets an abuser cross with a child. The liaison officer confirms or rejects every alert.
ALERT_THRESHOLD = 0.5
# Candidates reported per screened person (the liaison officer sees them all).
MAX_HITS_PER_PERSON = 3
# A probability alone is not enough: with a large register, many people share a birth date, and a shared birth
# date with names that disagree scores high in the model. An alert needs identifying evidence beyond it: the
# names agree at least "fuzzy", or a document number agrees, or the names agree "weak" (a distant spelling, as
# transliteration can give) *and* the birth dates agree. Measured on the synthetic bench world (30,000 records,
# 300 random travellers): false alerts fell from 53% to 1.3%, while 200 of 200 register persons written in
# another order and case were still found.
NAME_EVIDENCE = frozenset({"exact", "strong", "fuzzy"})
DOCUMENT_EVIDENCE = frozenset({"exact", "same_number", "ocr"})
WEAK_NAME_WITH_DATE = frozenset({"exact", "swapped", "typo"})
# Below ALERT_THRESHOLD, the register's own document number with names that agree at all is still a hit: the
# model prices a number without its issuing country cheaply and a dropped middle name dearly, so the register
# person "Nguyen Van Duc" with his passport number, travelling as "Nguyen Duc" on that same passport, scored
# 0.38. A document number and a name agreeing together is what an officer would hold anyone for. Candidates are
# looked for down to DOCUMENT_FLOOR, among the best DOCUMENT_LOOKUP per person.
DOCUMENT_FLOOR = 0.05
DOCUMENT_LOOKUP = 10
DOCUMENT_NAME = NAME_EVIDENCE | {"weak"}


@dataclass(frozen=True)
class Hit:
    subject: str          # child | companion | seen_off_by | met_by
    subject_index: int
    person_id: str        # the index id: our register's person UUID, or partner:<country>:<record id>
    version: int
    probability: float
    match: Match


def has_evidence(match: Match) -> bool:
    """Whether a candidate carries identifying evidence beyond its probability (see ``NAME_EVIDENCE``)."""
    level = {f.name: f.level for f in match.features}
    name, document, birth = level.get("name"), level.get("document"), level.get("birth_date")
    return (name in NAME_EVIDENCE or document in DOCUMENT_EVIDENCE
            or (name == "weak" and birth in WEAK_NAME_WITH_DATE))


def is_hit(probability: float, match: Match) -> bool:
    """A probable match with identifying evidence, or our document number with a name that agrees at all."""
    if probability >= ALERT_THRESHOLD and has_evidence(match):
        return True
    level = {f.name: f.level for f in match.features}
    return level.get("document") in DOCUMENT_EVIDENCE and level.get("name") in DOCUMENT_NAME


def subjects(check: CheckInput) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Every person of the check, with its place in the body."""
    yield "child", 0, check.child.record
    for kind in ("companions", "seen_off_by", "met_by"):
        for i, item in enumerate(getattr(check, kind)):
            yield ("companion" if kind == "companions" else kind), i, item.person.record


async def screen(holder: ScreeningIndex, check: CheckInput) -> list[Hit]:
    hits: list[Hit] = []
    for subject, index, record in subjects(check):
        query = {k: v for k, v in record.items() if k != "id"}  # the client's own id is not the register's
        found = 0
        for cand in holder.query(query, DOCUMENT_LOOKUP, DOCUMENT_FLOOR):
            version = holder.versions.get(cand.id)
            if version is not None and is_hit(cand.probability, cand.match):
                hits.append(Hit(subject, index, cand.id, version, cand.probability, cand.match))
                found += 1
                if found == MAX_HITS_PER_PERSON:
                    break
        await asyncio.sleep(0)  # one person at a time: other requests run in between
    return hits


async def still_active(conn: asyncpg.Connection, hits: list[Hit]) -> list[Hit]:
    """The hits whose record is still active, with its current version (one query, in the caller's
    transaction): ours from ``persons``, a partner's from ``partner_records``."""
    if not hits:
        return hits
    keys = sorted({h.person_id for h in hits})
    parts = [split_partner_key(k) for k in keys]
    rows = await conn.fetch(
        """SELECT h.key, coalesce(p.current_version, r.current_version) AS version
           FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) AS h(key, person_id, country, record_id)
           LEFT JOIN persons p ON p.id = h.person_id AND p.status = 'active'
           LEFT JOIN partner_records r ON r.country = h.country::bpchar AND r.record_id = h.record_id
                                          AND r.status = 'active'
           WHERE p.id IS NOT NULL OR r.record_id IS NOT NULL""",
        keys, [None if part else uuid.UUID(k) for k, part in zip(keys, parts, strict=True)],
        [part[0] if part else None for part in parts], [part[1] if part else None for part in parts])
    active = {r["key"]: r["version"] for r in rows}
    return [replace(h, version=active[h.person_id]) for h in hits if h.person_id in active]


def watchlist_flags(hits: list[Hit]) -> set[str]:
    flags = set()
    for hit in hits:
        flags.add("child_watchlist_hit" if hit.subject == "child" else "companion_watchlist_hit")
    return flags
