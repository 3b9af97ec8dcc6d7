"""Property tests (bounded, derandomised): round trips hold, and hostile bytes only ever raise declared errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import errors, strictjson
from protocols.canonical import canonical_bytes
from protocols.envelope import open_envelope, seal
from protocols.fixtures import NODE_KEYS, NOW, keyring, sample_bodies
from protocols.messages import validate_body

KH, TH = NODE_KEYS["KH"], NODE_KEYS["TH"]
LATER = NOW + dt.timedelta(seconds=10)
FAST = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)
name_text = st.text(st.characters(categories=("L", "M", "Nd", "Zs"), exclude_characters="\u2028\u2029"),
                    min_size=1, max_size=30).filter(lambda s: s.strip() != "")
finite = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not 2**53 - 1 < abs(f) < 1e21)
json_scalars = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | finite | \
    st.text(st.characters(exclude_categories=("Cs",)))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4) |
                           st.dictionaries(st.text(st.characters(exclude_categories=("Cs",)), max_size=8), inner,
                                           max_size=4), max_leaves=20)


def _open(data: bytes, now: dt.datetime = LATER):
    return open_envelope(data, me="TH", keyring=keyring(), my_box_key=TH.box_private, now=now)


def _seal(message_type: str, body: dict[str, Any]) -> bytes:
    return seal(message_type, body, sender="KH", recipient="TH", signing_key=KH.signing_key, kid=KH.kid,
                recipient_box_key=TH.box_private.public_key, now=NOW)


bodies = st.one_of(
    st.builds(lambda rid, v, reason: ("record_withdrawal", {"record_id": rid, "version": v, "reason": reason}),
              ids, st.integers(1, 2**53 - 1), st.sampled_from(["expungement", "death", "error", "other"])),
    st.builds(lambda qid, ref, band: ("match_result", {"query_id": qid, "result": "hit", "reference": ref,
                                                       "band": band}),
              ids, ids, st.sampled_from(["high", "medium", "low"])),
    st.builds(lambda family, given, rid: ("record_upsert", {
        **sample_bodies()["record_upsert"], "record_id": rid,
        "person": {"names": [{"family": family, "given": given}], "birth_date": "1980"}}), name_text, name_text, ids),
    st.builds(lambda acc: ("receipt", {"message_id": "00000000-0000-4000-8000-000000000009", "accepted": acc,
                                       "rejected": []}), st.lists(ids, max_size=20, unique=True)),
)


@FAST
@given(bodies)
def test_seal_open_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    message_type, body = case
    message = _open(_seal(message_type, body))
    assert message.type == message_type and message.sender == "KH"
    assert message.body == validate_body(message_type, body, sender="KH", recipient="TH")


@FAST
@given(json_values)
def test_canonical_round_trip_through_the_strict_parser(value: Any) -> None:
    canon = canonical_bytes(value)
    parsed = strictjson.loads(canon)
    assert canonical_bytes(parsed) == canon
    assert parsed == json.loads(canon)


@FAST
@given(st.binary(max_size=300))
def test_strict_parser_only_raises_declared_errors_on_random_bytes(data: bytes) -> None:
    try:
        value = strictjson.loads(data)
    except strictjson.StrictJSONError as exc:
        assert exc.code in strictjson.CODES
    else:
        canonical_bytes(value)  # whatever it accepts is representable


@FAST
@given(json_values, st.data())
def test_strict_parser_on_mutated_json(value: Any, data: st.DataObject) -> None:
    text = bytearray(json.dumps(value, ensure_ascii=data.draw(st.booleans())).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        if not text:
            break
        i = data.draw(st.integers(0, len(text) - 1))
        text[i] = data.draw(st.sampled_from(b'[]{}",:\\0e-.NIu\xff\xed \x00'))
    try:
        strictjson.loads(bytes(text))
    except strictjson.StrictJSONError as exc:
        assert exc.code in strictjson.CODES


ORIGINAL = _seal("record_upsert", sample_bodies()["record_upsert"])


@FAST
@given(st.data())
def test_open_envelope_on_mutated_bytes_only_declared_errors_never_accepted(data: st.DataObject) -> None:
    wire = bytearray(ORIGINAL)
    kind = data.draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
    i = data.draw(st.integers(0, len(wire) - 1))
    if kind == "flip":
        wire[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "set":
        wire[i] = data.draw(st.integers(0, 255))
    elif kind == "insert":
        wire[i:i] = data.draw(st.binary(min_size=1, max_size=4))
    elif kind == "delete":
        del wire[i:i + data.draw(st.integers(1, 4))]
    else:
        del wire[i:]
    try:
        message = _open(bytes(wire))
    except errors.ProtocolError as exc:
        assert exc.code in set(errors.ErrorCode) and 200 <= exc.status < 600
    else:  # only a mutation that leaves the same JSON object (e.g. inserted whitespace) may still verify
        assert json.loads(bytes(wire)) == json.loads(ORIGINAL) and message.sender == "KH"


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_open_envelope_on_random_bytes(data: bytes) -> None:
    try:
        _open(data)
    except errors.ProtocolError as exc:
        assert exc.code in set(errors.ErrorCode)
    else:
        raise AssertionError("random bytes were accepted")
