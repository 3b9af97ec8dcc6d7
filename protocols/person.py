"""The canonical person record: the one shape the register, the matching engine and the partner protocol share.

Specified for humans in docs/person-record.md; this module is its only definition in code.
``validate_person`` is strict (the API and the inbox use it); the matching engine reads the same shape
leniently (it must score messy partner records rather than refuse them).

    {"id", "names": [{"family", "given", "full", "script", "kind"}], "sex", "birth_date", "birth_place",
     "nationalities": ["KH"], "documents": [{"kind", "number", "country", "expires", "mrz"}],
     "addresses": [{"line", "locality", "postcode", "region", "country"}]}
"""

from __future__ import annotations

from typing import Any

from .validation import (
    Code,
    ValidationError,
    clean_ascii_id,
    clean_country,
    clean_date,
    clean_enum,
    clean_partial_date,
    clean_text,
    expect_list,
    expect_mapping,
    join,
)

NAME_KINDS = ("primary", "alias", "birth", "former", "transliteration")
# ISO 15924 codes of the scripts we expect; others are refused so that a typo does not silently pass.
SCRIPTS = ("Latn", "Khmr", "Thai", "Laoo", "Mymr", "Hani", "Hans", "Hant", "Cyrl", "Arab", "Zyyy")
SEXES = ("male", "female", "unknown")
DOCUMENT_KINDS = ("passport", "national_id", "birth_certificate", "family_book", "travel_permit",
                  "border_pass", "driving_licence", "other")

PERSON_FIELDS = ("id", "names", "sex", "birth_date", "birth_place", "nationalities", "documents", "addresses")
NAME_FIELDS = ("family", "given", "full", "script", "kind")
DOCUMENT_FIELDS = ("kind", "number", "country", "expires", "mrz")
ADDRESS_FIELDS = ("line", "locality", "postcode", "region", "country")

MAX_NAME = 200
MAX_TEXT = 300
MAX_NAMES = 20
MAX_DOCUMENTS = 20
MAX_ADDRESSES = 20
MAX_NATIONALITIES = 5


def validate_person(value: Any, field: str = "person") -> dict[str, Any]:
    """Return a cleaned copy (NFC text, upper-case country codes, stripped document numbers) or raise."""
    obj = expect_mapping(value, field, PERSON_FIELDS, required=("names",))
    out: dict[str, Any] = {}
    if obj.get("id") is not None:
        out["id"] = clean_ascii_id(obj["id"], join(field, "id"))
    names = expect_list(obj["names"], join(field, "names"), MAX_NAMES, min_items=1)
    out["names"] = [_name(n, f"{field}.names[{i}]") for i, n in enumerate(names)]
    if obj.get("sex") is not None:
        out["sex"] = clean_enum(obj["sex"], join(field, "sex"), SEXES)
    if obj.get("birth_date") is not None:
        out["birth_date"], _ = clean_partial_date(obj["birth_date"], join(field, "birth_date"))
    if obj.get("birth_place") is not None:
        out["birth_place"] = clean_text(obj["birth_place"], join(field, "birth_place"), MAX_TEXT)
    if obj.get("nationalities") is not None:
        nats = expect_list(obj["nationalities"], join(field, "nationalities"), MAX_NATIONALITIES)
        cleaned = [clean_country(c, f"{field}.nationalities[{i}]") for i, c in enumerate(nats)]
        out["nationalities"] = list(dict.fromkeys(cleaned))
    if obj.get("documents") is not None:
        docs = expect_list(obj["documents"], join(field, "documents"), MAX_DOCUMENTS)
        out["documents"] = [_document(d, f"{field}.documents[{i}]") for i, d in enumerate(docs)]
    if obj.get("addresses") is not None:
        addrs = expect_list(obj["addresses"], join(field, "addresses"), MAX_ADDRESSES)
        out["addresses"] = [_address(a, f"{field}.addresses[{i}]") for i, a in enumerate(addrs)]
    return out


def birth_precision(birth_date: str | None) -> str | None:
    if birth_date is None:
        return None
    return {4: "year", 7: "month", 10: "day"}.get(len(birth_date))


def _name(value: Any, field: str) -> dict[str, str]:
    obj = expect_mapping(value, field, NAME_FIELDS)
    out: dict[str, str] = {}
    for key in ("family", "given", "full"):
        if obj.get(key) is not None:
            text = clean_text(obj[key], join(field, key), MAX_NAME, name=True, allow_empty=True)
            if text:
                out[key] = text
    if not out:
        raise ValidationError(Code.EMPTY, field, "needs at least one of full, family or given")
    if "full" not in out:
        out["full"] = " ".join(p for p in (out.get("family"), out.get("given")) if p)
    if obj.get("script") is not None:
        out["script"] = clean_enum(obj["script"], join(field, "script"), SCRIPTS)
    out["kind"] = clean_enum(obj.get("kind", "primary"), join(field, "kind"), NAME_KINDS)
    return out


def _document(value: Any, field: str) -> dict[str, str]:
    obj = expect_mapping(value, field, DOCUMENT_FIELDS, required=("kind", "number"))
    out = {"kind": clean_enum(obj["kind"], join(field, "kind"), DOCUMENT_KINDS)}
    number = clean_text(obj["number"], join(field, "number"), 64)
    if not number.isascii() or not all(ch.isalnum() or ch in " -/." for ch in number):
        raise ValidationError(Code.INVALID_VALUE, join(field, "number"),
                              "must use ASCII letters and digits (spaces, '-', '/', '.' allowed)")
    out["number"] = number
    if obj.get("country") is not None:
        out["country"] = clean_country(obj["country"], join(field, "country"))
    if obj.get("expires") is not None:
        out["expires"] = clean_date(obj["expires"], join(field, "expires"))
    if obj.get("mrz") is not None:
        mrz = clean_text(obj["mrz"], join(field, "mrz"), 100)
        if not all(ch.isascii() and (ch.isupper() or ch.isdigit() or ch in "<\n") for ch in mrz):
            raise ValidationError(Code.INVALID_VALUE, join(field, "mrz"),
                                  "must use the MRZ alphabet (A-Z, 0-9, '<'), lines separated by newline")
        out["mrz"] = mrz
    return out


def _address(value: Any, field: str) -> dict[str, str]:
    obj = expect_mapping(value, field, ADDRESS_FIELDS)
    out: dict[str, str] = {}
    for key in ("line", "locality", "postcode", "region"):
        if obj.get(key) is not None:
            text = clean_text(obj[key], join(field, key), MAX_TEXT, allow_empty=True)
            if text:
                out[key] = text
    if obj.get("country") is not None:
        out["country"] = clean_country(obj["country"], join(field, "country"))
    if not out:
        raise ValidationError(Code.EMPTY, field, "needs at least one field")
    return out
