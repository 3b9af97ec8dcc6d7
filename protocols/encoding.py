"""Exact wire encodings shared by the protocol: unpadded base64url and RFC 3339 UTC timestamps.

Both parsers are strict so that one value has exactly one spelling: a signature covers the spelling,
and two spellings of one value would let a relay change signed bytes without changing the meaning.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

_B64URL = re.compile(r"[A-Za-z0-9_-]*", re.ASCII)
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z", re.ASCII)


def b64u_encode(data: bytes) -> str:
    """base64url (RFC 4648 section 5) without ``=`` padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Decode unpadded base64url; refuse padding, other alphabets and non-canonical trailing bits."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - the pattern above already refuses these
        raise ValueError("not unpadded base64url") from None
    if b64u_encode(data) != text:
        raise ValueError("not canonical base64url")
    return data


def format_time(when: dt.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` in UTC, whole seconds (sub-seconds are dropped)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    """The only accepted form is the one :func:`format_time` writes."""
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise ValueError("not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ")
    return dt.datetime.fromisoformat(text)  # Python 3.11 reads the "Z"; raises on dates that do not exist


def utc(when: dt.datetime) -> dt.datetime:
    """An aware datetime in UTC truncated to whole seconds (the protocol's resolution)."""
    if when.tzinfo is None:
        raise ValueError("naive datetime: pass an aware UTC time")
    return when.astimezone(dt.UTC).replace(microsecond=0)
