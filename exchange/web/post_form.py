"""The border post's check form as plain data: form fields in, the body of ``POST /api/v1/border/checks`` out.

Pure functions, no I/O: ``read_form`` keeps what the officer typed (as strings, to re-render the form exactly),
``fill_from_mrz`` fills a person's document fields from the passport lines with the project's MRZ parser,
``to_body`` builds the API body and remembers which form field each API path came from, so that an API error
on ``companions[0].person.documents[0].number`` is shown next to the first adult's document number.

Field names: ``child.<key>`` for the child, ``c<i>.<key>`` for the i-th adult block, and the check's own fields
(``direction``, ``situation``, ...). Validation is the API's (``exchange/border/schema.py``): the form converts
only what HTML cannot carry (digits to numbers, yes/no to booleans) and passes anything else through unchanged
so that the API names the field and its error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from matching.mrz import MRZ, parse_mrz

PERSON_KEYS = ("mrz", "family", "given", "khmer", "sex", "birth_date", "nationality", "doc_kind", "doc_number",
               "doc_country", "doc_expires")
COMPANION_KEYS = (*PERSON_KEYS, "relationship", "evidence")
# the person who brought the child to the border ("seen") and the one who will meet the child ("met")
HANDOVER_KEYS = ("family", "given", "khmer", "birth_date", "relationship")
HANDOVER = (("seen", "seen_off_by"), ("met", "met_by"))
CHECK_KEYS = ("direction", "situation", "group_size", "stated_age", "consent", "consent_signed_by",
              "consent_notarised", "dest_country", "dest_place", "travel_purpose", "observations")
MAX_BLOCKS = 20  # exchange/border/schema.py MAX_COMPANIONS
MAX_VALUE = 2000  # longer than any field the API accepts: the API refuses, the form does not cut silently
_DIGITS = re.compile(r"[0-9]{1,4}", re.ASCII)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
# keys that say nothing on their own: a block holding only these is an unused block
_DEFAULTED = frozenset({"doc_kind", "relationship", "evidence"})


@dataclass
class Draft:
    """The form as typed: every field as a string, and the number of adult blocks shown."""

    values: dict[str, str] = field(default_factory=dict)
    blocks: int = 1

    def get(self, name: str) -> str:
        return self.values.get(name, "")


def prefixes(draft: Draft) -> list[str]:
    return ["child", *(f"c{i}" for i in range(draft.blocks))]


def read_form(form: Mapping[str, str]) -> Draft:
    """The officer's form, trimmed; unknown names are dropped, the block count is bounded."""
    raw = form.get("blocks", "1")
    blocks = min(max(int(raw), 1), MAX_BLOCKS) if _DIGITS.fullmatch(raw) else 1
    draft = Draft(blocks=blocks)
    names = [*CHECK_KEYS, *(f"child.{k}" for k in PERSON_KEYS),
             *(f"c{i}.{k}" for i in range(blocks) for k in COMPANION_KEYS),
             *(f"{p}.{k}" for p, _ in HANDOVER for k in HANDOVER_KEYS)]
    for name in names:
        value = str(form.get(name, ""))[:MAX_VALUE].replace("\r\n", "\n").strip()
        if value:
            draft.values[name] = value
    return draft


def idempotency_key(raw: str | None) -> str | None:
    """The form's Idempotency-Key if it is one this page made (a UUID), else None."""
    return raw if raw and _UUID.fullmatch(raw) else None


def add_block(draft: Draft) -> str | None:
    """One more adult block; returns the new block's prefix (None at the API's limit)."""
    if draft.blocks >= MAX_BLOCKS:
        return None
    draft.blocks += 1
    return f"c{draft.blocks - 1}"


def remove_block(draft: Draft, index: int) -> None:
    """Drop adult block ``index``; later blocks move up. The form always keeps one block."""
    if not 0 <= index < draft.blocks:
        return
    for i in range(index, draft.blocks):
        for key in COMPANION_KEYS:
            later = draft.values.pop(f"c{i + 1}.{key}", None)
            draft.values.pop(f"c{i}.{key}", None)
            if later is not None and i + 1 < draft.blocks:
                draft.values[f"c{i}.{key}"] = later
    draft.blocks = max(draft.blocks - 1, 1)


def clean_mrz(text: str) -> str:
    """The lines as a scanner or a paste gives them: upper case, one line per row, no blank lines."""
    return "\n".join(line.strip().upper() for line in text.splitlines() if line.strip())


def read_mrz(draft: Draft, prefix: str) -> MRZ:
    """The parsed MRZ of a person block; ``MRZError`` (message without the text) when it is not one."""
    return parse_mrz(clean_mrz(draft.get(f"{prefix}.mrz")))


def fill_from_mrz(draft: Draft, prefix: str, parsed: MRZ, *, overwrite: bool) -> list[str]:
    """Fill the block's document, names, birth date, sex and nationality from ``parsed``; returns the fields
    set. Without ``overwrite`` only empty fields are filled (a submit with an MRZ but blank fields)."""
    found = {
        "family": parsed.surname, "given": parsed.given_names, "birth_date": parsed.birth_date,
        "sex": parsed.sex if parsed.sex in ("male", "female") else None, "nationality": parsed.nationality,
        "doc_kind": parsed.document()["kind"], "doc_number": parsed.document_number,
        "doc_country": parsed.issuing_country, "doc_expires": parsed.expires,
    }
    # the document kind always has a value (the select's default): it follows the MRZ with the number
    blank_doc = not draft.get(f"{prefix}.doc_number")
    changed = []
    for key, value in found.items():
        name = f"{prefix}.{key}"
        if value and (overwrite or not draft.get(name) or (key == "doc_kind" and blank_doc)):
            draft.values[name] = value
            changed.append(name)
    draft.values[f"{prefix}.mrz"] = clean_mrz(draft.get(f"{prefix}.mrz"))
    return changed


def block_used(draft: Draft, prefix: str) -> bool:
    return any(draft.get(f"{prefix}.{k}") for k in COMPANION_KEYS if k not in _DEFAULTED)


def _number(text: str) -> int | str:
    return int(text) if _DIGITS.fullmatch(text) else text  # not digits: the API names the field


def _person(draft: Draft, prefix: str, api: str, where: dict[str, str]) -> dict[str, Any]:
    v = lambda key: draft.get(f"{prefix}.{key}")  # noqa: E731
    names: list[dict[str, str]] = []
    latin = {k: v(k) for k in ("family", "given") if v(k)}
    where[f"{api}.names"] = where[api] = f"{prefix}.family"
    if latin:
        where[f"{api}.names[0]"] = f"{prefix}.family"
        for k in latin:
            where[f"{api}.names[0].{k}"] = f"{prefix}.{k}"
        names.append(latin)
    if v("khmer"):
        where[f"{api}.names[{len(names)}]"] = f"{prefix}.khmer"
        names.append({"full": v("khmer"), "script": "Khmr"})
    person: dict[str, Any] = {"names": names}
    for key, api_key in (("sex", "sex"), ("birth_date", "birth_date")):
        where[f"{api}.{api_key}"] = f"{prefix}.{key}"
        if v(key):
            person[api_key] = v(key)
    if v("nationality"):
        person["nationalities"] = [v("nationality").upper()]
        where[f"{api}.nationalities"] = where[f"{api}.nationalities[0]"] = f"{prefix}.nationality"
    if any(v(k) for k in ("doc_number", "doc_country", "doc_expires", "mrz")):
        doc = {"kind": v("doc_kind") or "passport", "number": v("doc_number")}
        if v("doc_country"):
            doc["country"] = v("doc_country").upper()
        if v("doc_expires"):
            doc["expires"] = v("doc_expires")
        if v("mrz"):
            doc["mrz"] = clean_mrz(v("mrz"))
        person["documents"] = [doc]
        base = f"{api}.documents[0]"
        where[f"{api}.documents"] = where[base] = f"{prefix}.doc_number"
        for key in ("kind", "number", "country", "expires", "mrz"):
            where[f"{base}.{key}"] = f"{prefix}.{'mrz' if key == 'mrz' else 'doc_' + key}"
    return person


def to_body(draft: Draft) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the check and ``where``: API field path -> form field name."""
    where: dict[str, str] = {"": ""}
    v = draft.get
    body: dict[str, Any] = {"child": _person(draft, "child", "child", where)}
    for key in ("direction", "situation"):
        where[key] = key
        if v(key):
            body[key] = v(key)
    for key in ("stated_age", "group_size"):
        where[key] = key
        if v(key):
            body[key] = _number(v(key))
    companions: list[dict[str, Any]] = []
    where["companions"] = "c0.family"
    for i in range(draft.blocks):
        prefix = f"c{i}"
        if not block_used(draft, prefix):
            continue
        api = f"companions[{len(companions)}]"
        item: dict[str, Any] = {"person": _person(draft, prefix, f"{api}.person", where)}
        where[api] = f"{prefix}.family"
        for key in ("relationship", "evidence"):
            where[f"{api}.{key}"] = f"{prefix}.{key}"
            if v(f"{prefix}.{key}"):
                item[key] = v(f"{prefix}.{key}")
        companions.append(item)
    if companions:
        body["companions"] = companions
    for prefix, key in HANDOVER:
        where[key] = where[f"{key}[0]"] = f"{prefix}.family"
        where[f"{key}[0].relationship"] = f"{prefix}.relationship"
        if block_used(draft, prefix):
            person = _person(draft, prefix, f"{key}[0].person", where)
            body[key] = [{"person": person, "relationship": v(f"{prefix}.relationship")}
                         if v(f"{prefix}.relationship") else {"person": person}]
    if v("consent"):
        letter: dict[str, Any] = {"present": v("consent") == "yes"}
        if v("consent_signed_by"):
            letter["signed_by"] = v("consent_signed_by")
        if v("consent_notarised"):
            letter["notarised"] = v("consent_notarised") == "yes"
        body["consent_letter"] = letter
    where.update({"consent_letter": "consent", "consent_letter.present": "consent",
                  "consent_letter.signed_by": "consent_signed_by", "consent_letter.notarised": "consent_notarised",
                  "destination": "dest_country", "destination.country": "dest_country",
                  "destination.place": "dest_place", "purpose": "travel_purpose", "observations": "observations"})
    destination = {k: v(f) for k, f in (("country", "dest_country"), ("place", "dest_place")) if v(f)}
    if "country" in destination:
        destination["country"] = destination["country"].upper()
    if destination:
        body["destination"] = destination
    if v("travel_purpose"):
        body["purpose"] = v("travel_purpose")
    if v("observations"):
        body["observations"] = v("observations")
    return body, where


def form_field(api_field: str | None, where: Mapping[str, str]) -> str:
    """The form field an API error belongs to: the longest known prefix of its path ('' for the whole form)."""
    path = api_field or ""
    while path:
        if path in where:
            return where[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return ""

