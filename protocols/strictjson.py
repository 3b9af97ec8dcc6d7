"""Strict I-JSON (RFC 7493) parsing: the only JSON reader the service uses, for the API and federation.

Python's ``json`` accepts duplicate keys (last wins), ``NaN``/``Infinity``, ``1e400`` (becomes ``inf``),
integers of any size, lone surrogates and, for deep nesting, raises ``RecursionError``. ``loads`` refuses
all of them with one declared error, :class:`StrictJSONError`, whose ``code`` is stable and whose
``position`` (character offset in the decoded text; byte offset for ``invalid_utf8`` / ``too_large``;
``None`` when the parser cannot know it) never comes with any of the input's content.

Order of checks: size (``too_large``), then the encoding (BOM, UTF-8, raw surrogates), then a linear
bracket count that skips strings (``too_deep``, so ``json`` never recurses past ``max_depth``), then
``json.loads`` with hooks for duplicate keys and numbers, then a walk for escaped lone surrogates.
"""

from __future__ import annotations

import json
import operator
import re
from itertools import accumulate, repeat
from typing import Any

DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_DEPTH = 32
MAX_SAFE_INT = 2**53 - 1  # I-JSON: integers in [-(2**53)+1, 2**53-1] are exact in IEEE 754 doubles
JCS_EXPONENT_FROM = 1e21  # from here JCS (ECMAScript) writes numbers with an exponent
CODES = ("duplicate_key", "bad_number", "lone_surrogate", "too_deep", "too_large", "invalid_json", "invalid_utf8")

# A JSON string (unrolled loop: linear, no backtracking) or one bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[]{}", b"\x02\x00\x02\x00")  # opening -> +1, closing -> -1 (after subtracting 1)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_NONZERO_DIGIT = re.compile(r"[1-9]")


class StrictJSONError(ValueError):
    """The input is not strict I-JSON. ``code`` is one of :data:`CODES`."""

    def __init__(self, code: str, message: str, position: int | None = None) -> None:
        where = f" at offset {position}" if position is not None else ""
        super().__init__(f"{code}: {message}{where}")
        self.code = code
        self.message = message
        self.position = position


def loads(data: bytes | bytearray | str, *, max_bytes: int = DEFAULT_MAX_BYTES,
          max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Parse one strict I-JSON text (UTF-8 bytes, or an already-decoded ``str``) or raise StrictJSONError."""
    text = _decode(data, max_bytes)
    _check_depth(text, max_depth)
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant,
                           parse_int=_int, parse_float=_float)
    except StrictJSONError:
        raise
    except json.JSONDecodeError as exc:
        raise StrictJSONError("invalid_json", "is not valid JSON", exc.pos) from None
    except (ValueError, RecursionError):  # pragma: no cover - guarded by the checks above
        raise StrictJSONError("invalid_json", "is not valid JSON") from None
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value)
    return value


def _decode(data: bytes | bytearray | str, max_bytes: int) -> str:
    if isinstance(data, str):
        if len(data) > max_bytes:
            raise StrictJSONError("too_large", f"is larger than {max_bytes} bytes", max_bytes)
        try:
            size = len(data.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise StrictJSONError("lone_surrogate", "contains a lone surrogate", exc.start) from None
        if size > max_bytes:
            raise StrictJSONError("too_large", f"is larger than {max_bytes} bytes", max_bytes)
        if data.startswith("\ufeff"):
            raise StrictJSONError("invalid_utf8", "starts with a byte order mark", 0)
        return data
    if not isinstance(data, bytes | bytearray):
        raise TypeError("loads() takes bytes or str")
    if len(data) > max_bytes:
        raise StrictJSONError("too_large", f"is larger than {max_bytes} bytes", max_bytes)
    if data.startswith(b"\xef\xbb\xbf"):
        raise StrictJSONError("invalid_utf8", "starts with a byte order mark", 0)
    try:
        # Python's strict UTF-8 codec refuses overlong forms, encoded surrogates and bytes above U+10FFFF.
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StrictJSONError("invalid_utf8", "is not valid UTF-8", exc.start) from None


def _check_depth(text: str, max_depth: int) -> None:
    """Depth of brackets outside strings, in C-speed passes (flat memory, no recursion, no per-char loop)."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than the number of opening brackets
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode("ascii").translate(_STEP)
    if max(accumulate(map(operator.sub, brackets, repeat(1))), default=0) <= max_depth:
        return
    depth = 0  # too deep: find where, for the error position (stops at the first offending bracket)
    for match in _TOKEN.finditer(text):
        ch = match.group()
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                raise StrictJSONError("too_deep", f"nests deeper than {max_depth}", match.start())
        elif ch in "]}":
            depth -= 1
    raise StrictJSONError("too_deep", f"nests deeper than {max_depth}")  # pragma: no cover


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError("duplicate_key", "has an object with a duplicate key")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise StrictJSONError("bad_number", "uses NaN or Infinity, which JSON does not allow")


def _int(literal: str) -> int:
    # Cheap length test first: int() of a million digits is slow, and Python caps it at 4300 digits anyway.
    if len(literal) > 17:
        raise StrictJSONError("bad_number", "has an integer outside +-(2**53-1)")
    value = int(literal)
    if abs(value) > MAX_SAFE_INT:
        raise StrictJSONError("bad_number", "has an integer outside +-(2**53-1)")
    return value


def _float(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):
        raise StrictJSONError("bad_number", "has a number too large for a double")
    if MAX_SAFE_INT < abs(value) < JCS_EXPONENT_FROM:
        # JCS would write it as a plain integer beyond 2**53, which this parser refuses: keep the round trip closed
        raise StrictJSONError("bad_number", "has a number between 2**53 and 1e21")
    if value == 0.0:
        mantissa = re.split(r"[eE]", literal, maxsplit=1)[0]
        if _NONZERO_DIGIT.search(mantissa):
            raise StrictJSONError("bad_number", "has a non-zero number that underflows to zero")
    return value


def _check_surrogates(value: Any) -> None:
    """Escaped lone surrogates (``"\\ud800"``) survive json.loads; find them with an explicit stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            strings = []
            stack.extend(item)
        else:
            continue
        for s in strings:
            try:
                s.encode("utf-8")
            except UnicodeEncodeError:
                raise StrictJSONError("lone_surrogate", "contains a lone surrogate") from None
