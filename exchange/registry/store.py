"""The register's SQL. A record is a ``persons`` row (stable id, status, current version) and, per version,
one ``record_versions`` row with its ``person_names``, ``person_documents`` and ``convictions``; a change
adds a version and never overwrites one. Lists go in with one ``unnest`` insert each; a version comes out
with one query whose sub-selects return its names, documents and convictions as JSON arrays.

Functions take a connection inside the caller's transaction; the caller writes the audit row last.
Dates go in as ISO text cast by PostgreSQL: asyncpg would encode ``date.max``/``date.min`` (9999-12-31,
0001-01-01, both valid dates here) as ``infinity``/``-infinity``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from protocols.person import birth_precision

# One version of a record with everything the API returns ($1 id, $2 version or NULL for the current one).
_SELECT = """
SELECT p.id, p.created_at AS person_created_at, p.updated_at, p.current_version,
       v.version, v.status, v.external_id, v.sex, v.birth_date, v.birth_place, v.nationalities, v.addresses,
       v.sharing, v.review_date, v.withdrawal_reason, v.withdrawal_note, v.created_at AS version_created_at,
       (SELECT json_agg(json_build_object('family', n.family, 'given', n.given, 'full', n.full_name,
                                          'script', n.script, 'kind', n.kind) ORDER BY n.ordinal)
          FROM person_names n WHERE n.person_id = v.person_id AND n.version = v.version) AS names,
       (SELECT json_agg(json_build_object('kind', d.kind, 'number', d.number, 'country', d.country,
                                          'expires', d.expires, 'mrz', d.mrz) ORDER BY d.ordinal)
          FROM person_documents d WHERE d.person_id = v.person_id AND d.version = v.version) AS documents,
       (SELECT json_agg(json_build_object('court', c.court, 'case_number', c.case_number, 'date', c.convicted_on,
                                          'offence_category', c.offence_category, 'sentence', c.sentence,
                                          'release_date', c.release_date) ORDER BY c.ordinal)
          FROM convictions c WHERE c.person_id = v.person_id AND c.version = v.version) AS convictions
FROM persons p JOIN record_versions v ON v.person_id = p.id
"""
_FETCH = _SELECT + " WHERE p.id = $1 AND v.version = coalesce($2, p.current_version)"
_FETCH_CURRENT = _SELECT + " WHERE p.id = ANY($1::uuid[]) AND v.version = p.current_version"


@dataclass(frozen=True)
class Current:
    status: str
    version: int


async def create_person(conn: asyncpg.Connection, rid: uuid.UUID) -> None:
    await conn.execute("INSERT INTO persons (id, status, current_version) VALUES ($1, 'active', 1)", rid)


async def lock(conn: asyncpg.Connection, rid: uuid.UUID) -> Current | None:
    """Lock the person row until the transaction ends, so concurrent changes serialise on it."""
    row = await conn.fetchrow("SELECT status, current_version FROM persons WHERE id = $1 FOR UPDATE", rid)
    return None if row is None else Current(row["status"], row["current_version"])


async def set_current(conn: asyncpg.Connection, rid: uuid.UUID, version: int, status: str) -> None:
    await conn.execute("UPDATE persons SET current_version = $2, status = $3, updated_at = now() WHERE id = $1",
                       rid, version, status)


async def insert_version(conn: asyncpg.Connection, rid: uuid.UUID, version: int, record: Mapping[str, Any],
                         user_id: int) -> None:
    """Write a new active version from a cleaned record body (``validate_record_body`` + ``check_storable``)."""
    person = record["person"]
    sharing = record["sharing"]
    await conn.execute(
        """INSERT INTO record_versions (person_id, version, status, external_id, sex, birth_date, birth_precision,
               birth_place, nationalities, addresses, sharing, review_date, created_by)
           VALUES ($1, $2, 'active', $3, $4, $5, $6, $7, $8, $9, $10, $11::text::date, $12)""",
        rid, version, person.get("id"), person.get("sex"), person.get("birth_date"),
        birth_precision(person.get("birth_date")), person.get("birth_place"), person.get("nationalities", []),
        person.get("addresses", []), None if sharing is None else sharing["countries"],
        record["review_date"], user_id)
    names = person["names"]
    await conn.execute(
        """INSERT INTO person_names (person_id, version, ordinal, family, given, full_name, script, kind)
           SELECT $1, $2, t.* FROM unnest($3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[],
                                          $8::text[]) AS t""",
        rid, version, list(range(len(names))), [n.get("family") for n in names], [n.get("given") for n in names],
        [n["full"] for n in names], [n.get("script") for n in names], [n["kind"] for n in names])
    docs = person.get("documents", [])
    if docs:
        await conn.execute(
            """INSERT INTO person_documents (person_id, version, ordinal, kind, number, country, expires, mrz)
               SELECT $1, $2, o, k, n, c, e::date, m
               FROM unnest($3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                    AS t(o, k, n, c, e, m)""",
            rid, version, list(range(len(docs))), [d["kind"] for d in docs], [d["number"] for d in docs],
            [d.get("country") for d in docs], [d.get("expires") for d in docs], [d.get("mrz") for d in docs])
    convictions = record["convictions"]
    if convictions:
        await conn.execute(
            """INSERT INTO convictions (person_id, version, ordinal, court, case_number, convicted_on,
                   offence_category, sentence, release_date)
               SELECT $1, $2, o, ct, cn, d::date, oc, s, r::date
               FROM unnest($3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
                    AS t(o, ct, cn, d, oc, s, r)""",
            rid, version, list(range(len(convictions))), [c["court"] for c in convictions],
            [c["case_number"] for c in convictions], [c["date"] for c in convictions],
            [c["offence_category"] for c in convictions], [c.get("sentence") for c in convictions],
            [c.get("release_date") for c in convictions])


async def insert_withdrawal(conn: asyncpg.Connection, rid: uuid.UUID, previous: int, reason: str,
                            note: str | None, user_id: int) -> int:
    """Copy version ``previous`` into a new withdrawn version (the facts stay; the status and reason change)."""
    version = previous + 1
    await conn.execute(
        """INSERT INTO record_versions (person_id, version, status, external_id, sex, birth_date, birth_precision,
               birth_place, nationalities, addresses, sharing, review_date, withdrawal_reason, withdrawal_note,
               created_by)
           SELECT person_id, $3, 'withdrawn', external_id, sex, birth_date, birth_precision, birth_place,
                  nationalities, addresses, sharing, review_date, $4, $5, $6
           FROM record_versions WHERE person_id = $1 AND version = $2""",
        rid, previous, version, reason, note, user_id)
    for table, columns in (("person_names", "ordinal, family, given, full_name, script, kind"),
                           ("person_documents", "ordinal, kind, number, country, expires, mrz"),
                           ("convictions", "ordinal, court, case_number, convicted_on, offence_category, sentence, "
                                           "release_date")):
        await conn.execute(
            f"INSERT INTO {table} (person_id, version, {columns}) "  # noqa: S608 (constant names, no input)
            f"SELECT person_id, $3, {columns} FROM {table} WHERE person_id = $1 AND version = $2",
            rid, previous, version)
    return version


async def fetch(conn: asyncpg.Connection, rid: uuid.UUID, version: int | None = None) -> asyncpg.Record | None:
    """One version of a record (the current one when ``version`` is None), or None."""
    return await conn.fetchrow(_FETCH, rid, version)


async def fetch_current(conn: asyncpg.Connection, rids: Iterable[uuid.UUID]) -> dict[uuid.UUID, asyncpg.Record]:
    """The current versions of several records in one query, by id (ids not found are absent)."""
    rows = await conn.fetch(_FETCH_CURRENT, list(set(rids)))
    return {row["id"]: row for row in rows}


async def history(conn: asyncpg.Connection, rid: uuid.UUID) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT v.version, v.status, v.created_at, u.username, v.withdrawal_reason, v.withdrawal_note
           FROM record_versions v LEFT JOIN users u ON u.id = v.created_by
           WHERE v.person_id = $1 ORDER BY v.version""", rid)


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    offence_category: str | None = None
    nationality: str | None = None
    updated_since: dt.datetime | None = None
    after: tuple[dt.datetime, uuid.UUID] | None = None


# Each filter adds one fixed condition (only its value is a parameter), so the planner sees a plain query
# and the (updated_at, id) cursor condition can use the persons_updated index.
_CONDITIONS = {
    "status": "p.status = ${}",
    "offence_category": ("EXISTS (SELECT 1 FROM convictions c WHERE c.person_id = p.id"
                         " AND c.version = p.current_version AND c.offence_category = ${})"),
    "nationality": "${} = ANY (v.nationalities)",
    "updated_since": "p.updated_at >= ${}",
}


async def page(conn: asyncpg.Connection, filters: Filters, limit: int) -> list[asyncpg.Record]:
    """Current versions matching ``filters`` in (updated_at, id) order, after the cursor, at most ``limit``."""
    where = ["v.version = p.current_version"]
    args: list[Any] = []
    for name, condition in _CONDITIONS.items():
        value = getattr(filters, name)
        if value is not None:
            args.append(value)
            where.append(condition.format(len(args)))
    if filters.after is not None:
        args.extend(filters.after)
        where.append(f"(p.updated_at, p.id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY p.updated_at, p.id LIMIT ${len(args)}"
    return await conn.fetch(sql, *args)
