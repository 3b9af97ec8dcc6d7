"""Record preparation: read a person record once, leniently, into what the features compare.

``prepare`` is the only place that reads the canonical person record (``protocols/person.py``) on the
matching side. Unlike the strict validator it never refuses: partner registers send empty names, dates
that do not exist, numbers in odd formats and fields of the wrong type. It keeps what it can read and
lists the rest in ``problems`` in words that never repeat the values themselves (they are personal data),
e.g. "birth_date: birth day is impossible; only the year and month are used", "names[1] empty".
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .dates import BirthDate, parse_birth_date
from .documents import DocKey, document_key
from .names import NameKey, name_key
from .normalize import problems as text_problems
from .other import Address, prepare_addresses, prepare_nationalities
from .places import Place, prepare_birth_place

_MAX_ITEMS = 20  # more names/documents/addresses than this is noise, not identity (person.py allows 20)


@dataclass(slots=True)
class Prepared:
    """One record, read once: everything the model's features and the index's blocking keys need."""

    id: str
    names: list[NameKey] = field(default_factory=list)
    birth_date: BirthDate | None = None
    documents: list[DocKey] = field(default_factory=list)
    sex: str | None = None
    nationalities: frozenset[str] = frozenset()
    addresses: tuple[Address, ...] = ()
    birth_place: Place | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def name_tokens(self) -> frozenset[str]:
        """The folded tokens of all names (computed on demand: a million records need not hold them)."""
        return frozenset(t for key in self.names for t in key.tokens)


def prepare(record: Any, check_names: bool = True, keys_only: bool = False) -> Prepared:
    """Read ``record`` leniently; never raises (a non-object becomes an empty record with a problem).

    ``check_names=False`` skips the Unicode checks of name text (unexpected scripts, look-alikes) that only
    feed ``problems``: bulk indexing and linking do not report them and save a third of the time.
    ``keys_only=True`` reads only what the index's keys and counts need (names, birth date, documents,
    addresses), for a bulk load's workers, which send back keys, not records: never score such a record.
    """
    if not isinstance(record, dict | Mapping):  # the dict test first: far cheaper than the ABC's
        return Prepared(id="", problems=["record is not an object"])
    raw_id = record.get("id")
    out = Prepared(id=str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else "")
    if not out.id:
        out.problems.append("id missing")
    _read_names(record.get("names"), out, check_names)
    _read_birth_date(record.get("birth_date"), out)
    _read_documents(record.get("documents"), out)
    if not keys_only:
        sex = record.get("sex")
        if isinstance(sex, str) and sex.strip():
            out.sex = sys.intern(sex.strip().lower())  # one string per value, not one per record
        elif sex is not None:
            out.problems.append("sex unreadable")
        nationalities = _items(record.get("nationalities"), "nationalities", out)
        out.nationalities = prepare_nationalities(nationalities)
        if len(out.nationalities) < len({n for n in nationalities if isinstance(n, str)}):
            out.problems.append("nationalities: some codes unreadable")
    out.addresses = prepare_addresses(_items(record.get("addresses"), "addresses", out))
    if keys_only:
        return out
    place = record.get("birth_place")
    out.birth_place = prepare_birth_place(place)
    if place is not None and out.birth_place is None:
        out.problems.append("birth_place unreadable")
    return out


def _items(value: Any, what: str, out: Prepared) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        out.problems.append(f"{what} is not a list")
        return []
    if len(value) > _MAX_ITEMS:
        out.problems.append(f"{what}: only the first {_MAX_ITEMS} read")
    return value[:_MAX_ITEMS]


def _read_names(value: Any, out: Prepared, check: bool) -> None:
    names = _items(value, "names", out)
    if not names:
        out.problems.append("no names")
    for i, raw in enumerate(names):
        if not isinstance(raw, dict | Mapping):
            out.problems.append(f"names[{i}] is not an object")
            continue
        parts = tuple(map(raw.get, _NAME_PARTS))
        if not all(type(v) is str or v is None for v in parts):  # a part that is not text is left out
            parts = tuple(v if isinstance(v, str) else None for v in parts)
        key, problems = _name(parts, check)
        if problems:
            out.problems.extend(f"names[{i}]{p}" for p in problems)
        if key is not None:
            out.names.append(key)


_NAME_PARTS = ("full", "family", "given", "script", "kind")


@lru_cache(maxsize=1 << 16)
def _name(parts: tuple[str | None, ...], check: bool) -> tuple[NameKey | None, tuple[str, ...]]:
    """Key and problems of one name, cached: registers repeat the same names very often."""
    raw = {k: v for k, v in zip(_NAME_PARTS, parts, strict=True) if v is not None}
    text = raw.get("full") or " ".join(raw.get(k) or "" for k in ("family", "given")).strip()
    try:
        problems = [f": {p}" for p in text_problems(text)] if text and check else []
        key = name_key(raw)
    except Exception:  # a feature bug must not drop a record: say so and go on
        return None, (" unreadable",)
    if key is None:
        problems.append(" empty")
    return key, tuple(problems)


def _read_birth_date(value: Any, out: Prepared) -> None:
    if value is None:
        return
    date, problem = _birth_date(value) if isinstance(value, str) else parse_birth_date(value)
    out.birth_date = date
    if problem:
        out.problems.append(f"birth_date: {problem}")


@lru_cache(maxsize=1 << 16)
def _birth_date(value: str) -> tuple[BirthDate | None, str | None]:
    return parse_birth_date(value)


def _read_documents(value: Any, out: Prepared) -> None:
    for i, raw in enumerate(_items(value, "documents", out)):
        if not isinstance(raw, dict | Mapping):
            out.problems.append(f"documents[{i}] is not an object")
            continue
        try:
            key = document_key(dict(raw))
        except Exception:  # same as names: report, do not drop the record
            out.problems.append(f"documents[{i}] unreadable")
            continue
        if key is None:
            out.problems.append(f"documents[{i}] has no usable number")
        else:
            out.documents.append(key)
