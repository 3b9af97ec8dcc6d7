"""Sex, nationality and address features: levels, leniency and speed."""

from __future__ import annotations

import pytest

from matching.other import (
    ADDRESS_LEVELS,
    NATIONALITY_LEVELS,
    SEX_LEVELS,
    Address,
    compare_addresses,
    compare_nationalities,
    compare_sex,
    prepare_addresses,
    prepare_nationalities,
)
from matching.types import MISSING


@pytest.mark.parametrize(("a", "b", "level"), [
    ("male", "male", "same"), ("female", "F", "same"), ("M", " male ", "same"),
    ("male", "female", "different"),
    ("male", "unknown", MISSING), (None, "male", MISSING), ("", "male", MISSING), (1, "male", MISSING),
    ("ชาย", "male", MISSING),
])
def test_sex(a: object, b: object, level: str) -> None:
    assert compare_sex(a, b).level == compare_sex(b, a).level == level
    assert level in SEX_LEVELS


@pytest.mark.parametrize(("a", "b", "level"), [
    (["KH"], ["KH"], "same"),
    (["kh"], ["KHM"], "same"),                 # lower case and alpha-3 read leniently
    (["KH", "TH"], ["TH", "KH"], "same"),
    (["KH", "VN"], ["VN"], "overlap"),         # dual nationality on one side
    (["KH"], ["TH"], "disjoint"),
    ([], ["KH"], MISSING), (None, ["KH"], MISSING), (["XYZ", 7, None], ["KH"], MISSING),
    ("KH", ["KH"], "same"),
])
def test_nationalities(a: object, b: object, level: str) -> None:
    result = compare_nationalities(a, b)
    assert result.level == compare_nationalities(b, a).level == level
    assert level in NATIONALITY_LEVELS
    if level == "overlap":
        assert "dual nationality" in result.detail


def test_prepared_nationalities_are_reused() -> None:
    prepared = prepare_nationalities(["KH", "THA"])
    assert prepared == frozenset({"KH", "TH"})
    assert prepare_nationalities(prepared) is prepared


PHNOM_PENH = {"line": "House 12, Street 271, Sangkat Toul Tumpung", "locality": "Phnom Penh", "postcode": "120408",
              "country": "KH"}


@pytest.mark.parametrize(("a", "b", "level"), [
    (PHNOM_PENH, {"line": "street 271 house 12 sangkat toul tumpung", "locality": "PHNOM PENH", "country": "KH"},
     "line"),
    (PHNOM_PENH, {"line": "Phum Kandal, Khum Prek", "postcode": "120408"}, "locality"),
    (PHNOM_PENH, {"line": "Phum Kandal", "locality": "Phnom Pehn"}, "locality"),          # one typo
    (PHNOM_PENH, {"locality": "Battambang", "region": "Battambang", "country": "KH"}, "different"),
    ({"region": "Takeo"}, {"region": "takeo", "locality": "Bati"}, "region"),
    (PHNOM_PENH, {"line": "House 12, Street 271", "locality": "Bangkok", "country": "TH"}, MISSING),
    (PHNOM_PENH, {"country": "KH"}, MISSING),                                              # nothing comparable
    ({"line": "12 Sukhumvit Soi 11"}, {"line": "12 sukhumvit soi 11"}, "line"),
    ({"line": "House 12, Street 271", "locality": "Kampot"}, {"line": "No. 12, St. 271", "locality": "kampot"},
     "line"),                                                                               # abbreviations
    ({"line": "House 12, Street 271"}, {"line": "House 21, Street 217"}, "different"),
])
def test_addresses(a: dict, b: dict, level: str) -> None:
    result = compare_addresses([a], [b])
    assert result.level == compare_addresses([b], [a]).level == level
    assert level in ADDRESS_LEVELS


def test_address_leniency_and_best_pair() -> None:
    assert compare_addresses(None, [PHNOM_PENH]).level == MISSING
    assert compare_addresses(["junk", {}, {"line": 5}], [PHNOM_PENH]).level == MISSING
    several = [{"locality": "Battambang", "country": "KH"}, PHNOM_PENH]
    assert compare_addresses(several, [PHNOM_PENH]).level == "line"


def test_prepared_addresses() -> None:
    prepared = prepare_addresses([PHNOM_PENH, {"line": "  "}])
    assert prepared == (Address("12 street 271 sangkat toul tumpung", "phnom penh", "120408", "", "KH"),)
    assert prepare_addresses(prepared) is prepared
    thai = prepare_addresses([{"line": "ถนนสุขุมวิท ซอย 11", "country": "TH"}])[0]
    assert thai.line == "ถนนสุขุมวิท ซอย 11"          # Thai vowel marks survive normalisation
