"""Strict validation helpers shared by every schema in this package.

One exception type, :class:`ValidationError`, carries a stable ``code``, the dotted ``field`` path
(``person.names[0].given``) and a message that never repeats the offending value (it may be personal
data). Validators are plain functions ``(value, field) -> cleaned value``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

import pycountry


class Code(StrEnum):
    """Stable error codes for invalid input (the API returns them verbatim)."""

    INVALID_TYPE = "invalid_type"
    MISSING_FIELD = "missing_field"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    INVALID_DATE = "invalid_date"
    INVALID_COUNTRY = "invalid_country"
    TOO_LONG = "too_long"
    TOO_MANY = "too_many"
    EMPTY = "empty"
    FORBIDDEN_CHARACTER = "forbidden_character"


class ValidationError(ValueError):
    def __init__(self, code: Code | str, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.code = str(code)
        self.field = field
        self.message = message


# Bidi embeddings/overrides/isolates (UTS #39, SECURITY.md G) and the other format characters are refused
# in names; ZWJ/ZWNJ (U+200C/U+200D) are allowed because Khmer and other Brahmic scripts legitimately use them.
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F,
                                             0x061C])
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})
_ASCII_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_ASCII_CONTROLS_NAME = re.compile(r"[\x00-\x1f\x7f]")
_ASCII_CONTROLS_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def expect_mapping(value: Any, field: str, allowed: Iterable[str], required: Iterable[str] = ()) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValidationError(Code.INVALID_TYPE, field, "must be an object")
    allowed_set = set(allowed)
    for key in value:
        if key not in allowed_set:
            # the key itself is attacker-chosen: cut it and keep it printable
            safe = "".join(ch for ch in str(key)[:40] if ch.isprintable())
            raise ValidationError(Code.UNKNOWN_FIELD, join(field, safe), "is not a known field")
    for key in required:
        if value.get(key) is None:
            raise ValidationError(Code.MISSING_FIELD, join(field, key), "is required")
    return value


def join(parent: str, key: str) -> str:
    return f"{parent}.{key}" if parent else key


def expect_list(value: Any, field: str, max_items: int, min_items: int = 0) -> list:
    if not isinstance(value, list):
        raise ValidationError(Code.INVALID_TYPE, field, "must be an array")
    if len(value) > max_items:
        raise ValidationError(Code.TOO_MANY, field, f"has more than {max_items} items")
    if len(value) < min_items:
        raise ValidationError(Code.EMPTY, field, f"needs at least {min_items} item(s)")
    return value


def clean_text(value: Any, field: str, max_len: int, *, name: bool = False, allow_empty: bool = False) -> str:
    """A string in NFC, without control characters; names also refuse bidi controls and format characters."""
    if not isinstance(value, str):
        raise ValidationError(Code.INVALID_TYPE, field, "must be a string")
    if value.isascii():  # fast path: only C0 controls and DEL can be wrong in ASCII
        bad = (_ASCII_CONTROLS_NAME if name else _ASCII_CONTROLS_TEXT).search(value)
        if bad is not None:
            raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains a control character")
        text = value.strip()  # ASCII is already NFC
    else:
        for ch in value:
            cat = unicodedata.category(ch)
            if ch in _BIDI_CONTROLS:
                raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains a bidirectional control character")
            if cat == "Cc" and not (not name and ch in "\n\t"):
                raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains a control character")
            if cat == "Cs":
                raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains a lone surrogate")
            if name and cat in ("Cf", "Co", "Cn") and ch not in _ALLOWED_FORMAT:
                raise ValidationError(Code.FORBIDDEN_CHARACTER, field, "contains a format or unassigned character")
        text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_len:
        raise ValidationError(Code.TOO_LONG, field, f"is longer than {max_len} characters")
    if not text and not allow_empty:
        raise ValidationError(Code.EMPTY, field, "must not be empty")
    return text


def clean_enum(value: Any, field: str, choices: Iterable[str]) -> str:
    options = tuple(choices)
    if not isinstance(value, str) or value not in options:
        raise ValidationError(Code.INVALID_VALUE, field, "must be one of: " + ", ".join(options))
    return value


def clean_country(value: Any, field: str) -> str:
    """ISO 3166-1 alpha-2, upper case (pycountry is the authority)."""
    if not isinstance(value, str) or len(value) != 2 or not value.isascii():
        raise ValidationError(Code.INVALID_COUNTRY, field, "must be an ISO 3166-1 alpha-2 country code")
    code = value.upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValidationError(Code.INVALID_COUNTRY, field, "is not an ISO 3166-1 alpha-2 country code")
    return code


def clean_exact_country(value: Any, field: str) -> str:
    """Like :func:`clean_country`, but only the upper-case spelling (signed wire values have one spelling)."""
    code = clean_country(value, field)
    if code != value:
        raise ValidationError(Code.INVALID_COUNTRY, field, "must be upper case")
    return code


def clean_date(value: Any, field: str) -> str:
    """A full ISO date ``YYYY-MM-DD`` in ASCII digits that exists in the calendar."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value, re.ASCII):
        raise ValidationError(Code.INVALID_DATE, field, "must be a date written YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(Code.INVALID_DATE, field, "is not a date that exists") from None
    return value


def clean_partial_date(value: Any, field: str) -> tuple[str, str]:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; returns (value, precision) with precision year|month|day."""
    if not isinstance(value, str):
        raise ValidationError(Code.INVALID_DATE, field, "must be a string YYYY, YYYY-MM or YYYY-MM-DD")
    if re.fullmatch(r"[0-9]{4}", value, re.ASCII):
        year, precision = int(value), "year"
    elif re.fullmatch(r"[0-9]{4}-[0-9]{2}", value, re.ASCII):
        year, month = int(value[:4]), int(value[5:7])
        if not 1 <= month <= 12:
            raise ValidationError(Code.INVALID_DATE, field, "has a month outside 01-12")
        precision = "month"
    else:
        clean_date(value, field)
        year, precision = int(value[:4]), "day"
    if year < 1850:
        raise ValidationError(Code.INVALID_DATE, field, "is before 1850")
    return value, precision


def clean_ascii_id(value: Any, field: str, max_len: int = 128) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:\-]*", value, re.ASCII):
        raise ValidationError(Code.INVALID_VALUE, field, "must be letters, digits, '.', '_', ':' or '-'")
    if len(value) > max_len:
        raise ValidationError(Code.TOO_LONG, field, f"is longer than {max_len} characters")
    return value


def clean_int(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(Code.INVALID_TYPE, field, "must be an integer")
    if not lo <= value <= hi:
        raise ValidationError(Code.INVALID_VALUE, field, f"must be between {lo} and {hi}")
    return value


def clean_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(Code.INVALID_TYPE, field, "must be true or false")
    return value


def ascii_digits(text: str) -> bool:
    return bool(_ASCII_DIGITS.fullmatch(text))
