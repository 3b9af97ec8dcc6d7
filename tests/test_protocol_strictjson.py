"""Strict I-JSON parser and the JCS wrapper: every refusal has its code, nothing echoes the input."""

from __future__ import annotations

import json
import resource

import pytest

from protocols.canonical import CanonicalError, canonical_bytes
from protocols.strictjson import CODES, StrictJSONError, loads

SECRET = "Sokha1979"  # stands for personal data that must never appear in an error message


@pytest.mark.parametrize(("data", "code"), [
    (b'{"a": 1, "a": 2}', "duplicate_key"),
    (b'{"x": [{"b": 1, "c": {"d": 0, "d": 0}}]}', "duplicate_key"),
    (b'[NaN]', "bad_number"),
    (b'[Infinity]', "bad_number"),
    (b'{"n": -Infinity}', "bad_number"),
    (b'[1e400]', "bad_number"),
    (b'[-1e400]', "bad_number"),
    (b'[1e-400]', "bad_number"),
    (b'[9007199254740992]', "bad_number"),
    (b'[-9007199254740992]', "bad_number"),
    (b'[' + b'9' * 5000 + b']', "bad_number"),
    (b'[1e16]', "bad_number"),  # JCS would write it as an integer beyond 2**53
    (b'[100000000000000000000]', "bad_number"),
    (b'["\\ud800"]', "lone_surrogate"),
    (b'["\\udc00\\ud800"]', "lone_surrogate"),
    (b'{"\\ud83d": 1}', "lone_surrogate"),
    (b'"\xed\xa0\x80"', "invalid_utf8"),  # a surrogate encoded raw in UTF-8
    (b'"\xff"', "invalid_utf8"),
    (b'"\xc0\xaf"', "invalid_utf8"),  # overlong "/"
    (b'\xef\xbb\xbf{}', "invalid_utf8"),  # byte order mark
    (b'[' * 100_000, "too_deep"),
    (b'{"a":' * 100_000, "too_deep"),
    (b'', "invalid_json"),
    (b'{"a": 1,}', "invalid_json"),
    (b'{"a": 1} x', "invalid_json"),
    (b'["tab\there"]', "invalid_json"),
    (b"{'a': 1}", "invalid_json"),
])
def test_refuses_with_code(data: bytes, code: str) -> None:
    with pytest.raises(StrictJSONError) as info:
        loads(data)
    assert info.value.code == code
    assert info.value.code in CODES
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(("data", "expected"), [
    (b'{"a": [1, 2.5, "x", null, true, false, {}]}', {"a": [1, 2.5, "x", None, True, False, {}]}),
    (b'[9007199254740991, -9007199254740991, 0, -0]', [2**53 - 1, -(2**53 - 1), 0, 0]),
    (b'[1e308, 0.0, 0e10, 1.5e-300, 1e21, 9007199254740991.0]', [1e308, 0.0, 0.0, 1.5e-300, 1e21, 2.0**53 - 1]),
    (b'["\\ud83d\\ude00", "\\u00e9", "\xe1\x9e\x9f"]', ["😀", "é", "ស"]),
    (b'["\\\\ud800"]', ["\\ud800"]),  # an escaped backslash, not a surrogate escape
    (b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', {"a": "[" * 44}),  # brackets inside strings
    (b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', {"a": '"' + "[" * 38}),
    (b' \n{"a": 1}\t', {"a": 1}),
])
def test_accepts_valid_i_json(data: bytes, expected: object) -> None:
    assert loads(data) == expected
    assert loads(data.decode("utf-8")) == expected


def test_depth_limit_is_exact_and_configurable() -> None:
    assert loads(b"[" * 32 + b"]" * 32) is not None
    with pytest.raises(StrictJSONError) as info:
        loads(b"[" * 33 + b"]" * 33)
    assert (info.value.code, info.value.position) == ("too_deep", 32)
    assert loads(b"[" * 40 + b"]" * 40, max_depth=40) is not None
    with pytest.raises(StrictJSONError):
        loads(b'{"a": [[{"b": 1}]]}', max_depth=3)


def test_size_limit_before_any_parsing() -> None:
    big = b" " * (20 * 1024 * 1024)  # 20 MB
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(StrictJSONError) as info:
        loads(big)
    assert info.value.code == "too_large"
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 10_000  # KiB: no copy of the input
    with pytest.raises(StrictJSONError) as info:
        loads(b'{"a": "' + b"x" * 100 + b'"}', max_bytes=64)
    assert info.value.code == "too_large"
    with pytest.raises(StrictJSONError) as info:
        loads("é" * 40, max_bytes=64)  # 40 characters but 80 UTF-8 bytes
    assert info.value.code == "too_large"


def test_str_input_with_raw_surrogate_or_bom() -> None:
    with pytest.raises(StrictJSONError) as info:
        loads('["\ud800"]')
    assert info.value.code == "lone_surrogate"
    with pytest.raises(StrictJSONError) as info:
        loads("\ufeff{}")
    assert info.value.code == "invalid_utf8"


def test_errors_never_echo_content() -> None:
    cases = [f'{{"{SECRET}": 1, "{SECRET}": 2}}', f'["{SECRET}", NaN]', f'["{SECRET}\\ud800"]',
             f'{{"{SECRET}": 1e999}}', f'["{SECRET}"', f'"{SECRET}' + "\\x"]
    for text in cases:
        with pytest.raises(StrictJSONError) as info:
            loads(text.encode())
        assert SECRET not in str(info.value) and SECRET not in repr(info.value.args)


def test_position_points_at_invalid_json() -> None:
    with pytest.raises(StrictJSONError) as info:
        loads(b'{"a": 1, "b": }')
    assert info.value.code == "invalid_json" and info.value.position == 14
    with pytest.raises(StrictJSONError) as info:
        loads(b'["ok", "\xff"]')
    assert info.value.code == "invalid_utf8" and info.value.position == 8


def test_rejects_non_text_types() -> None:
    with pytest.raises(TypeError):
        loads(123)  # type: ignore[arg-type]


# ---- canonical.py ---------------------------------------------------------------------------------------

def test_canonical_bytes_sorts_keys_by_utf16_and_minimises() -> None:
    obj = {"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\U0001f600": 5, "\u0080": 6, "\u00f6": 7}
    out = canonical_bytes(obj).decode()
    keys = list(json.loads(out))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    assert canonical_bytes({"b": [1.0, 2.5, -0.0, 1e21], "a": "é\n"}) == '{"a":"é\\n","b":[1,2.5,0,1e+21]}'.encode()
    assert canonical_bytes((1, "x")) == b'[1,"x"]'


@pytest.mark.parametrize(("value", "code"), [
    (float("nan"), "bad_number"),
    ([float("inf")], "bad_number"),
    ({"a": 2**53}, "bad_number"),
    ([2.0**60], "bad_number"),
    (["\ud800"], "lone_surrogate"),
    ({"\udfff": 1}, "lone_surrogate"),
    ({1: "x"}, "bad_key"),
    ({"a": b"bytes"}, "bad_type"),
    ({"a": {1, 2}}, "bad_type"),
    ([[[[]]]], "too_deep"),
])
def test_canonical_refuses_what_jcs_cannot_carry(value: object, code: str) -> None:
    with pytest.raises(CanonicalError) as info:
        canonical_bytes(value, max_depth=3) if code == "too_deep" else canonical_bytes(value)
    assert info.value.code == code


def test_canonical_deep_input_does_not_recurse() -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CanonicalError) as info:
        canonical_bytes(deep)
    assert info.value.code == "too_deep"


def test_parse_then_canonicalise_round_trips() -> None:
    text = b'{"z": [1, 2.5, "\\u00e9"], "a": {"k": null}}'
    canon = canonical_bytes(loads(text))
    assert canon == '{"a":{"k":null},"z":[1,2.5,"é"]}'.encode()
    assert canonical_bytes(loads(canon)) == canon
