"""Document numbers written in messy real ways, OCR damage, issuers, MRZ fallback and blocking keys."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.documents import (
    DOCUMENT_LEVELS,
    DocKey,
    compare_documents,
    document_blocking_keys,
    document_key,
    document_keys,
    normalise_number,
)
from matching.mrz import check_digit
from matching.types import MISSING


def key(number: str, country: str | None = "KH", kind: str = "passport") -> DocKey:
    doc = {"kind": kind, "number": number}
    if country:
        doc["country"] = country
    result = document_key(doc)
    assert result is not None
    return result


@pytest.mark.parametrize(("raw", "expected"), [
    ("N1234567", "N1234567"),
    ("n1234567", "N1234567"),
    ("N 123-4567", "N1234567"),
    (" N.123/4567 ", "N1234567"),
    ("AA1234567", "AA1234567"),
    ("1-1017-00123-45-6", "1101700123456"),     # Thai national id as printed
    ("N1234567<<", "N1234567"),                 # MRZ fillers
])
def test_normalise_number(raw: str, expected: str) -> None:
    assert normalise_number(raw) == expected


@pytest.mark.parametrize("raw", [
    "N๑๒๓๔๕๖๗",        # Thai digits are not digits: refused, never silently dropped
    "N12345６7",        # a full-width digit
    "N1234567\x00", "N1234567#", "N1234_567", "", "   ", "123", "UNKNOWN", "none", "N/A", "0000000",
    "X" * 65, None, 1234567, ["N1234567"],
])
def test_unusable_numbers(raw: object) -> None:
    assert normalise_number(raw) is None
    assert document_key({"kind": "passport", "number": raw, "country": "KH"}) is None


def test_key_fields_and_leniency() -> None:
    k = key("N12345G7", "kh")
    assert (k.kind, k.number, k.folded, k.country) == ("passport", "N12345G7", "N1234567", "KH")
    assert document_key({"number": "N1234567"}) == DocKey("other", "N1234567", "N1234567", None)
    assert document_key({"kind": "passport", "number": "N1234567", "country": "Cambodia"}).country is None
    assert document_key("N1234567") is None and document_key(None) is None
    assert document_keys([{"kind": "passport", "number": "N1234567"}, "junk", {"number": "1"}, None]) == [
        DocKey("passport", "N1234567", "N1234567", None)]
    assert document_keys("not a list") == []


def test_key_from_mrz_when_number_missing() -> None:
    num, birth, expiry = "N01234567", "790412", "300101"
    body = f"{num}{check_digit(num)}KHM{birth}{check_digit(birth)}M{expiry}{check_digit(expiry)}" + "<" * 15
    line2 = body + check_digit(body[0:10] + body[13:20] + body[21:43])
    mrz = "P<KHMSOK<<DARA".ljust(44, "<") + "\n" + line2
    k = document_key({"kind": "other", "number": "??", "mrz": mrz})
    assert k == DocKey("passport", "N01234567", "N01234567", "KH")
    assert document_key({"kind": "passport", "number": "??", "mrz": "not an mrz"}) is None
    # a valid zone overrides a number typed wrong; a damaged zone does not override a typed number
    assert document_key({"kind": "passport", "number": "N0I234567", "mrz": mrz}).number == "N01234567"
    damaged = mrz[:-1] + str((int(mrz[-1]) + 1) % 10)
    assert document_key({"kind": "passport", "number": "N0I234567", "mrz": damaged}).number == "N0I234567"
    assert document_key({"kind": "passport", "number": "??", "mrz": damaged}).number == "N01234567"
    assert document_key({"kind": "passport", "number": "N01234567", "mrz": "not an mrz"}).number == "N01234567"


@pytest.mark.parametrize(("a", "b", "level"), [
    (("N1234567", "KH"), ("N1234567", "KH"), "exact"),
    (("N 123-4567", "KH"), ("n1234567", "KH"), "exact"),
    (("N1234567", "KH"), ("N1234567", None), "same_number"),
    (("N1234567", "KH"), ("N1234567", "TH"), "same_number"),     # equal numbers still count, flagged
    (("N1234567", "KH"), ("N12345G7", "KH"), "ocr"),
    (("N1234567", None), ("NI234S67", None), "ocr"),
    (("N1234567", "KH"), ("N1234568", "KH"), "near"),            # one character wrong
    (("N1234567", "KH"), ("N1243567", "KH"), "near"),            # neighbours swapped
    (("N1234567", "KH"), ("1234567", "KH"), "near"),             # prefix dropped
    (("N1234567", "KH"), ("N7654321", "KH"), "different"),       # another passport of the same country
    (("N1234567", "KH"), ("N12345G7", "TH"), MISSING),           # different issuers: never close unless equal
    (("N1234567", "KH"), ("N1234568", "VN"), MISSING),
    (("N1234567", None), ("N7654321", "KH"), MISSING),           # unknown issuer: no evidence against
    (("12345", "KH"), ("12346", "KH"), "different"),             # too short for "near"
])
def test_compare_levels(a: tuple[str, str | None], b: tuple[str, str | None], level: str) -> None:
    ka, kb = key(*a), key(*b)
    forward, backward = compare_documents([ka], [kb]), compare_documents([kb], [ka])
    assert forward.level == backward.level == level
    assert level in DOCUMENT_LEVELS


def test_kinds() -> None:
    passport, national = key("123456789", kind="passport"), key("123456789", kind="national_id")
    assert compare_documents([passport], [national]).level == "exact"        # equal numbers always count
    near_id = key("123456780", kind="national_id")
    assert compare_documents([passport], [near_id]).level == MISSING          # different number spaces
    other = key("123456780", kind="other")
    assert compare_documents([passport], [other]).level == "near"


def test_best_pair_wins_and_detail() -> None:
    left = [key("N7654321"), key("123456789", kind="national_id")]
    right = [key("N1234567"), key("123456789", kind="national_id")]
    result = compare_documents(left, right)
    assert result.level == "exact" and result.score == 1.0
    assert result.detail == "national_id KH 123456789 = 123456789"
    different = compare_documents([key("N7654321")], [key("N1234567")])
    assert different.detail.startswith("passport KH N7654321 != N1234567")
    assert compare_documents([], right).level == MISSING
    assert compare_documents(left, []).score is None


def test_blocking_keys_meet_for_ocr_and_dropped_prefix() -> None:
    clean, ocr, bare = key("N1234567"), key("N12345G7", "TH"), key("1234567")
    assert document_blocking_keys(clean) & document_blocking_keys(ocr)
    assert document_blocking_keys(clean) & document_blocking_keys(bare)
    assert not document_blocking_keys(clean) & document_blocking_keys(key("N7654321"))
    assert document_blocking_keys(key("AK12345")) == {"doc:AK12345"}   # five digits: no digits-only key


_values = st.one_of(st.none(), st.integers(), st.text(max_size=20),
                    st.from_regex(r"[A-Za-z0-9 .\-/]{5,12}", fullmatch=True))


@settings(max_examples=300, deadline=None, database=None)
@given(st.dictionaries(st.sampled_from(["kind", "number", "country", "mrz", "expires"]), _values),
       st.dictionaries(st.sampled_from(["kind", "number", "country", "mrz", "expires"]), _values))
def test_keys_and_comparison_never_raise(a: dict, b: dict) -> None:
    ka, kb = document_keys([a]), document_keys([b])
    result = compare_documents(ka, kb)
    assert result.level in DOCUMENT_LEVELS
    assert result.level == compare_documents(kb, ka).level
    for k in ka:
        assert k.number.isascii() and k.number.isalnum() and k.number.upper() == k.number
        assert document_blocking_keys(k)
