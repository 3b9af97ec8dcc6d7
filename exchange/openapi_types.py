"""JSON Schema pieces that say what the validators accept, shared by the parts of the OpenAPI document.

Each piece mirrors one validator of ``protocols.validation`` (or ``exchange.params``), so that data valid by
the document is accepted (schemathesis ``positive_data_acceptance``) and data invalid by it is refused
(``negative_data_rejection``):

- ``text(n)``: ``clean_text`` of free text: no control character but newline and tab, no bidi control, and
  not blank (``str.strip`` would leave nothing);
- ``name_part(n)``: ``clean_text(name=True)`` of a name: also no format character (but ZWNJ/ZWJ), and no
  private-use or unassigned one;
- ``text(n, assigned=True)``: the register refuses unassigned characters in all its text (storable.py);
- ``COUNTRY``: ``clean_country`` (pycountry's ISO 3166-1 alpha-2 codes; the server also takes lower case);
- ``DATE``, ``PARTIAL_DATE``: ``clean_date`` and ``clean_partial_date`` (a day that exists; year from 0001,
  or from 1850 for a birth date);
- ``TIME``: ``exchange.params.parse_time`` (an RFC 3339 time whose UTC reading falls in years 1-9999).

"Unassigned" depends on the server's Unicode version and would take a character class of some 700 ranges
(969,576 code points, which Hypothesis expands one by one: a minute per pattern), so the document states it
as the custom format ``unicode-assigned`` (no private-use or unassigned code point, in the Unicode version
named in the description); tests/schemathesis_hooks.py draws values for it.

Text is stored in NFC. NFC never lengthens text but for a few dozen rare characters (Devanagari QA U+0958
and its kin), so ``maxLength`` is the limit in practice; the validators apply it to the normalised text.
Lone surrogates are refused by the JSON parser before any of this (SECURITY.md E).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import pycountry

from .policy import PURPOSES

_BIDI_CODES = frozenset([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
_NAME_ALLOWED_FORMAT = frozenset({0x200C, 0x200D})  # ZWNJ, ZWJ: Khmer and other Brahmic scripts use them


def _spell(code: int) -> str:
    """One code point inside a character class: an escape in the BMP, the character itself above it
    (ECMA 262, Python ``re`` and Rust ``regex`` read both alike)."""
    return f"\\u{code:04x}" if code <= 0xFFFF else chr(code)


def _class(ranges: list[tuple[int, int]]) -> str:
    return "[" + "".join(_spell(a) if a == b else f"{_spell(a)}-{_spell(b)}" for a, b in ranges) + "]"


def _ranges(refused) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for code in _CANDIDATES:
        if not refused(code):
            continue
        if out and out[-1][1] == code - 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return out


# Control, format and space characters live below U+30000 and in plane 14 (tags, variation selectors): one scan
# keeps the few hundred code points the rules below choose from.
_CANDIDATES = [code for code in (*range(0x30000), *range(0xE0000, 0xE1000))
               if unicodedata.category(chr(code)) in ("Cc", "Cf") or chr(code).isspace()]


def _name_refused(code: int) -> bool:
    return unicodedata.category(chr(code)) in ("Cc", "Cf") and code not in _NAME_ALLOWED_FORMAT


def _text_refused(code: int) -> bool:
    """Control characters but newline and tab, and bidi controls."""
    return code <= 0x08 or 0x0B <= code <= 0x1F or 0x7F <= code <= 0x9F or code in _BIDI_CODES


NAME_REFUSED = _class(_ranges(_name_refused))
TEXT_REFUSED = _class(_ranges(_text_refused))
# What ``str.strip`` removes: a value made only of these is blank.
BLANK = "^" + _class(_ranges(lambda code: chr(code).isspace())) + "*$"
ASSIGNED = f"unicode-assigned: no private-use or unassigned code point (Unicode {unicodedata.unidata_version})"

# Everything is written inline: schemathesis resolves a $ref on every drawn value, which made generation several
# times slower for the nested person objects.
COUNTRY = {"type": "string", "enum": sorted(c.alpha_2 for c in pycountry.countries),
           "description": "ISO 3166-1 alpha-2 country code (lower case is taken too, and stored upper case)"}


def text(max_len: int, *, blank: bool = False, assigned: bool = False) -> dict[str, Any]:
    """Free text up to ``max_len`` characters; ``blank=True`` where the validator allows an empty value;
    ``assigned=True`` for the register, which also refuses unassigned characters (registry/storable.py)."""
    out: dict[str, Any] = {"type": "string", "maxLength": max_len}
    out["not"] = {"pattern": TEXT_REFUSED} if blank else {"anyOf": [{"pattern": TEXT_REFUSED}, {"pattern": BLANK}]}
    if assigned:
        out["format"] = "unicode-assigned"
    out["description"] = ("text: no control character but newline and tab, no bidi control"
                          + ("" if blank else ", not blank") + (f"; {ASSIGNED}" if assigned else "")
                          + "; stored in NFC, surrounding spaces removed")
    return out


def name_part(max_len: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_len, "not": {"pattern": NAME_REFUSED}, "format": "unicode-assigned",
            "description": "part of a name: no control or format character (but ZWNJ U+200C and ZWJ U+200D, which "
                           f"Khmer writes), no bidi control; {ASSIGNED}; stored in NFC, surrounding spaces removed"}


NOT_BLANK = {"not": {"pattern": BLANK}}


def at_least_one(keys: tuple[str, ...], present: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """``anyOf`` branches: one of ``keys`` is present and not blank, or one of ``present`` is present."""
    return [*({"required": [k], "properties": {k: NOT_BLANK}} for k in keys),
            *({"required": [k]} for k in present)]



_YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001-9999
_BIRTH_YEAR = "(?:18[5-9][0-9]|19[0-9]{2}|[2-9][0-9]{3})"  # 1850-9999
_MONTH = "(?:0[1-9]|1[0-2])"
_DAY = "(?:0[1-9]|[12][0-9]|3[01])"
DATE = {"type": "string", "format": "date", "pattern": f"^{_YEAR}-{_MONTH}-{_DAY}$",
        "description": "a day that exists, YYYY-MM-DD"}
PARTIAL_DATE = {"type": "string", "description": "YYYY, YYYY-MM or YYYY-MM-DD (a day that exists), from 1850",
                "anyOf": [{"pattern": f"^{_BIRTH_YEAR}$"}, {"pattern": f"^{_BIRTH_YEAR}-{_MONTH}$"},
                          {"pattern": f"^{_BIRTH_YEAR}-{_MONTH}-{_DAY}$", "format": "date"}]}
# Years 0002-9998 keep the UTC reading of any offset inside the years Python and PostgreSQL both hold.
TIME = {"type": "string", "format": "date-time", "maxLength": 40,
        "pattern": "^(?:000[2-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9])-",
        "description": "RFC 3339 time, years 0002-9998"}
UUID = {"type": "string", "format": "uuid"}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` or null: the validators read an optional field given as null as absent."""
    return {"anyOf": [schema, {"type": "null"}]}

# A query value that is free text (a username, an action name): no control character (exchange.params).
QUERY_TEXT = {"type": "string", "not": {"pattern": "[\\x00-\\x1f\\x7f]"},
              "description": "no control character"}


ERROR = {"$ref": "#/components/schemas/Error"}


def errors(*statuses: int) -> dict[str, Any]:
    """The error responses of an operation: each status answers the shared ``Error`` schema."""
    return {str(s): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for s in statuses}

# the headers of an operation that reads personal data (checked by ``middleware.access``)
PURPOSE_PARAMS = [
    {"name": "X-Purpose", "in": "header", "required": True, "schema": {"type": "string", "enum": list(PURPOSES)}},
    {"name": "X-Case-Ref", "in": "header", "required": False,
     "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9 ./_:-]{0,63}$"}},
]
