"""The register form <-> the register API's record body, as plain functions (no I/O).

The form is flat (``name-0-family``, ``doc-1-number``, ``conv-0-date``, ...) so that it works without
JavaScript: repeating groups are numbered blocks; "add another" re-renders with one more empty block; a block
whose fields are all blank is left out of the body on save. ``body_of`` builds the API body and remembers which
form block each API list item came from, so ``field_of`` can put the API's error (``person.names[1].given``)
next to the right input (``name-2-given`` when block 1 was empty). ``from_record`` fills the form from a record
read from the API, with every field the record can hold, so that an edit never drops data it did not show.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from protocols.person import birth_precision

# group -> (form prefix, API list, fields, fields with a default that do not make a block "filled")
GROUPS: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    "name": ("names", ("family", "given", "full", "script", "kind"), frozenset({"kind"})),
    "doc": ("documents", ("kind", "number", "country", "expires", "mrz"), frozenset()),
    "conv": ("convictions", ("offence_category", "court", "case_number", "date", "sentence", "release_date"),
             frozenset()),
    "addr": ("addresses", ("line", "locality", "postcode", "region", "country"), frozenset()),
}
PERSON_FIELDS = ("sex", "birth_date", "birth_place")
SINGLE = ("external_id", *PERSON_FIELDS, "nationalities", "sharing_mode", "sharing", "review_date")
SHARING_MODES = ("agreements", "only", "none")
MAX_BLOCKS = 20  # the API's own limit for names, documents and addresses; an "add" past it does nothing
_KEY = re.compile(r"(name|doc|conv|addr)-([0-9]{1,2})-([a-z_]+)", re.ASCII)
_API_FIELD = re.compile(r"(?:person\.)?(names|documents|addresses|convictions)\[([0-9]+)\](?:\.([a-z_]+))?", re.ASCII)
_FIRST_FIELD = {"names": "full", "documents": "number", "addresses": "line", "convictions": "court"}
_PREFIX = {api: group for group, (api, _, _) in GROUPS.items()}


def clean(posted: Mapping[str, Any]) -> dict[str, str]:
    """The form's own fields (strings only; the CSRF token, purpose and buttons are not part of the record)."""
    out = {k: v.replace("\r\n", "\n") for k, v in posted.items()
           if isinstance(v, str) and (k in SINGLE or _KEY.fullmatch(k))}
    return out


def blocks(form: Mapping[str, str], group: str) -> list[dict[str, str]]:
    """The numbered blocks of ``group`` in order (an index that has any key is a block, blank or not)."""
    fields = GROUPS[group][1]
    found: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        m = _KEY.fullmatch(key)
        if m and m.group(1) == group and m.group(3) in fields:
            found.setdefault(int(m.group(2)), {})[m.group(3)] = value
    return [found[i] for i in sorted(found)][:MAX_BLOCKS]


def _filled(block: Mapping[str, str], group: str) -> bool:
    ignored = GROUPS[group][2]
    return any(v.strip() for k, v in block.items() if k not in ignored)


def renumbered(form: Mapping[str, str], *, add: str | None = None, remove: str | None = None) -> dict[str, str]:
    """The form with its blocks numbered 0.. in order, one empty block added to ``add`` or block ``remove``
    ("name-2") taken out; every group keeps at least one (empty) block to type into."""
    out = {k: v for k, v in form.items() if k in SINGLE}
    for group, (_, fields, _) in GROUPS.items():
        items = blocks(form, group)
        if remove:
            m = re.fullmatch(rf"{group}-([0-9]{{1,2}})", remove, re.ASCII)
            if m and int(m.group(1)) < len(items):
                del items[int(m.group(1))]
        if (add == group and len(items) < MAX_BLOCKS) or not items:
            items.append({})
        for i, block in enumerate(items):
            for name in fields:
                out[f"{group}-{i}-{name}"] = block.get(name, "")
    return out


def _countries(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text.strip()) if c]


def body_of(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The API record body, and for each API list the form block index of each item sent."""
    origin: dict[str, list[int]] = {}
    lists: dict[str, list[dict[str, str]]] = {}
    for group, (api, fields, _) in GROUPS.items():
        kept = [(i, b) for i, b in enumerate(blocks(form, group)) if _filled(b, group)]
        origin[api] = [i for i, _ in kept]
        lists[api] = [{k: b[k].strip() for k in fields if b.get(k, "").strip()} for _, b in kept]
    person: dict[str, Any] = {"names": lists["names"]}
    if form.get("external_id", "").strip():
        person["id"] = form["external_id"].strip()
    for key in PERSON_FIELDS:
        if form.get(key, "").strip():
            person[key] = form[key].strip()
    nationalities = _countries(form.get("nationalities", ""))
    if nationalities:
        person["nationalities"] = nationalities
    for api in ("documents", "addresses"):
        if lists[api]:
            person[api] = lists[api]
    body: dict[str, Any] = {"person": person, "convictions": lists["convictions"]}
    mode = form.get("sharing_mode") or "agreements"
    if mode == "none":
        body["sharing"] = {"countries": []}
    elif mode == "only":
        body["sharing"] = {"countries": _countries(form.get("sharing", ""))}
    if form.get("review_date", "").strip():
        body["review_date"] = form["review_date"].strip()
    return body, origin


def field_of(api_field: str | None, origin: Mapping[str, list[int]]) -> str:
    """The form field that shows an API error about ``api_field`` ("" for the message above the form)."""
    if not api_field:
        return ""
    m = _API_FIELD.fullmatch(api_field)
    if m:
        api, index, name = m.group(1), int(m.group(2)), m.group(3)
        sent = origin.get(api, [])
        block = sent[index] if index < len(sent) else 0
        return f"{_PREFIX[api]}-{block}-{name or _FIRST_FIELD[api]}"
    if api_field in ("person.names", "names"):
        return "name-0-full"
    if api_field.startswith("person.nationalities"):
        return "nationalities"
    if api_field.startswith("sharing"):
        return "sharing"
    if api_field == "person.id":
        return "external_id"
    short = api_field.removeprefix("person.")
    return short if short in SINGLE else ""


def from_record(record: Mapping[str, Any]) -> dict[str, str]:
    """The form of an existing record (every field it holds; an empty block for a group it has none of)."""
    person = record.get("person") or {}
    form: dict[str, str] = {"external_id": person.get("id", "")}
    for key in PERSON_FIELDS:
        form[key] = person.get(key, "")
    form["nationalities"] = ", ".join(person.get("nationalities") or [])
    sharing = record.get("sharing")
    countries = (sharing or {}).get("countries") or []
    form["sharing_mode"] = "agreements" if sharing is None else ("only" if countries else "none")
    form["sharing"] = ", ".join(countries)
    form["review_date"] = record.get("review_date") or ""
    items = {"names": person.get("names") or [], "documents": person.get("documents") or [],
             "addresses": person.get("addresses") or [], "convictions": record.get("convictions") or []}
    for group, (api, fields, _) in GROUPS.items():
        for i, item in enumerate(items[api]):
            for name in fields:
                form[f"{group}-{i}-{name}"] = str(item.get(name, ""))
    return renumbered(form)


def precision(birth_date: str | None) -> str | None:
    """"year", "month" or "day" for a well-formed birth date (the form of the value is its precision)."""
    return birth_precision(birth_date) if birth_date else None
