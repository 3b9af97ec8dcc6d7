"""Rows of the register back into the canonical JSON shape (``protocols.person`` / ``protocols.record``).

The canonical form of a cleaned record is what ``protocols.record.validate_record_body`` returns, with two
normalisations the tables cannot tell apart: empty ``nationalities``/``documents``/``addresses`` lists are
left out (an empty list and an absent one mean the same), and absent optional fields are left out of names,
documents, addresses and convictions. ``canonical_person`` applies them to a cleaned input, so a test (or a
client) can compare what it sent with what it reads back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

_PERSON_LISTS = ("nationalities", "documents", "addresses")


def canonical_person(person: Mapping[str, Any]) -> dict[str, Any]:
    """A cleaned person without empty lists (the form the register gives back)."""
    return {k: v for k, v in person.items() if not (k in _PERSON_LISTS and v == [])}


def _present(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def person_from(row: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical person of one ``record_versions`` row joined with its names and documents (JSON arrays)."""
    person: dict[str, Any] = {}
    if row["external_id"] is not None:
        person["id"] = row["external_id"]
    person["names"] = [_present(n) for n in row["names"] or []]
    for key in ("sex", "birth_date", "birth_place"):
        if row[key] is not None:
            person[key] = row[key]
    if row["nationalities"]:
        person["nationalities"] = list(row["nationalities"])
    if row["documents"]:
        person["documents"] = [_present(d) for d in row["documents"]]
    if row["addresses"]:
        person["addresses"] = [_present(a) for a in row["addresses"]]
    return person


def record_from(row: Mapping[str, Any]) -> dict[str, Any]:
    """The API answer for one version of a record."""
    out: dict[str, Any] = {
        "id": str(row["id"]),
        "version": row["version"],
        "status": row["status"],
        "person": person_from(row),
        "convictions": [_present(c) for c in row["convictions"] or []],
        "sharing": None if row["sharing"] is None else {"countries": list(row["sharing"])},
        "review_date": _date(row["review_date"]),
        "created_at": _time(row["person_created_at"]),
        "updated_at": _time(row["version_created_at"]),
    }
    if row["status"] == "withdrawn":
        out["withdrawal"] = _present({"reason": row["withdrawal_reason"], "note": row["withdrawal_note"]})
    return out


def history_entry(row: Mapping[str, Any]) -> dict[str, Any]:
    """One line of ``GET /records/{id}/history``: who made which version when, and why it was withdrawn."""
    return {
        "version": row["version"],
        "status": row["status"],
        "created_at": _time(row["created_at"]),
        "created_by": row["username"],
        "withdrawal_reason": row["withdrawal_reason"],
        "withdrawal_note": row["withdrawal_note"],
    }


def _date(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat()
