"""Fuzzing in the suite (SECURITY.md F7), bounded: a short coverage-guided atheris pass over each target of
bench/fuzz_long.py (envelope, strict JSON, canonical JSON, names, MRZ, dates: only the declared errors may come
out), and hypothesis properties that tests/test_protocol_properties.py and tests/test_matching_* do not cover:
arbitrary Python values into the canonicaliser, arbitrary JSON into every message schema and the person record.
The long runs are ``python bench/fuzz_long.py --all --seconds N``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocols import errors
from protocols.canonical import CanonicalError, canonical_bytes
from protocols.messages import MESSAGE_TYPES, validate_body
from protocols.person import validate_person
from protocols.validation import ValidationError

FUZZ = Path(__file__).resolve().parents[1] / "bench" / "fuzz_long.py"
TARGETS = ("envelope", "strictjson", "canonical", "names", "mrz", "dates")
BOUNDED = settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.binary(max_size=8) |
    st.sampled_from([float("nan"), float("inf"), 2**53, -(2**53), 1e300, object(), ("t",), {1, 2}]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6) | st.integers(), inner,
                                                                 max_size=4),
    max_leaves=15)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["names", "family", "given", "full", "birth_date", "sex", "documents", "number", "kind",
                         "country", "record_id", "version", "person", "query_id", "result", "items", "sequence",
                         "reason", "accepted", "rejected", "id", "keys", "x"]), inner, max_size=5),
    max_leaves=25)


@pytest.mark.parametrize("target", TARGETS)
def test_atheris_pass_finds_only_declared_errors(target, tmp_path):
    pytest.importorskip("atheris")
    done = subprocess.run([sys.executable, str(FUZZ), target, "-runs=4000", "-max_total_time=4", "-timeout=10",
                           "-seed=7", f"-artifact_prefix={tmp_path}/"], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Done" in done.stderr
    assert not list(tmp_path.glob("crash-*"))


@BOUNDED
@given(anything)
def test_canonicaliser_raises_only_canonical_error(value):
    try:
        out = canonical_bytes(value)
    except CanonicalError as exc:
        assert exc.code in {"bad_type", "bad_number", "too_deep", "bad_key", "lone_surrogate"}
    else:
        assert isinstance(out, bytes) and out.decode("utf-8")


@BOUNDED
@given(st.sampled_from(MESSAGE_TYPES), json_like)
def test_every_message_schema_raises_only_declared_errors(message_type, body):
    try:
        validate_body(message_type, body, sender="KH", recipient="TH")
    except (ValidationError, errors.ProtocolError):
        pass


@BOUNDED
@given(json_like)
def test_person_validation_raises_only_validation_error(value):
    try:
        person = validate_person(value)
    except ValidationError as exc:
        assert exc.field.startswith("person") and exc.message
    else:
        assert person["names"]
