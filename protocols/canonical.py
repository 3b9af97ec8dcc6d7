"""RFC 8785 (JCS) canonical bytes: what gets signed. A thin wrapper over the ``rfc8785`` package.

JCS sorts object keys by their UTF-16 code units, writes numbers the ECMAScript way and strings with the
minimal escapes, in UTF-8, with no whitespace. Before handing a value to ``rfc8785`` we refuse what JCS
cannot represent faithfully, with one error, :class:`CanonicalError`: non-string keys, integers outside
I-JSON's +-(2**53-1), NaN and infinities, floats from 2**53 to 1e21 (JCS writes them as integer literals
the strict parser would refuse), lone surrogates, other Python types (tuples are lists), and
nesting deeper than the strict parser accepts (``rfc8785`` recurses; we check depth first, iteratively).
"""

from __future__ import annotations

import math
from typing import Any

import rfc8785

from .strictjson import DEFAULT_MAX_DEPTH, JCS_EXPONENT_FROM, MAX_SAFE_INT


class CanonicalError(ValueError):
    """The value cannot be written as canonical JSON. ``code``: bad_type, bad_key, bad_number,
    lone_surrogate or too_deep."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


def canonical_bytes(obj: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``obj`` (dict/list/tuple/str/int/float/bool/None)."""
    check_canonicalizable(obj, max_depth=max_depth)
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError:  # pragma: no cover - the check above refuses the same inputs
        raise CanonicalError("bad_type", "cannot be canonicalised") from None


def check_canonicalizable(obj: Any, *, max_depth: int = DEFAULT_MAX_DEPTH) -> None:
    """Walk ``obj`` with an explicit stack and raise CanonicalError on the first value JCS cannot carry."""
    stack: list[tuple[Any, int]] = [(obj, 0)]
    while stack:
        value, depth = stack.pop()
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int):
            if type(value) is not int:
                raise CanonicalError("bad_type", "int subclasses (e.g. enums) are not allowed")
            if abs(value) > MAX_SAFE_INT:
                raise CanonicalError("bad_number", "integer outside +-(2**53-1)")
        elif isinstance(value, float):
            if math.isnan(value) or math.isinf(value):
                raise CanonicalError("bad_number", "NaN and infinities have no JSON form")
            if MAX_SAFE_INT < abs(value) < JCS_EXPONENT_FROM:
                raise CanonicalError("bad_number", "JCS writes this as an integer beyond 2**53")
        elif isinstance(value, str):
            _check_str(value)
        elif isinstance(value, dict | list | tuple):
            if depth + 1 > max_depth:
                raise CanonicalError("too_deep", f"nests deeper than {max_depth}")
            if isinstance(value, dict):
                for key in value:
                    if not isinstance(key, str):
                        raise CanonicalError("bad_key", "object keys must be strings")
                    _check_str(key)
                items = list(value.values())
            else:
                items = list(value)
            stack.extend((item, depth + 1) for item in items)
        else:
            raise CanonicalError("bad_type", f"{type(value).__name__} has no JSON form")


def _check_str(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise CanonicalError("lone_surrogate", "string contains a lone surrogate") from None
