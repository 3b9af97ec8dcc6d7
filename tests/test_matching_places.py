"""Birth place feature (matching/places.py): cross-script and spelling variants, levels, record and model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import model
from matching.model import FEATURES
from matching.places import PLACE_LEVELS, Place, compare_birth_places, prepare_birth_place
from matching.record import prepare
from matching.types import MISSING

CASES = [  # (a, b, level): each checked both ways round
    ("Phnom Penh", "Phnom Penh", "exact"),
    ("Phnom Penh", "ភ្នំពេញ", "exact"),                       # Khmer script, no spaces
    ("phnom  penh", "PHNOM-PENH", "exact"),
    ("ខេត្តកំពត", "Kampot Province", "exact"),               # "province" in Khmer script and in English
    ("Takeo", "តាកែវ", "exact"),                              # an alias: the rules romanise it "takaev"
    ("จังหวัดสระแก้ว", "Sa Kaeo", "exact"),                   # Thai script with the word for province
    ("เชียงใหม่", "Chiang Mai", "exact"),
    ("กรุงเทพฯ", "Bangkok", "exact"),
    ("Thành phố Hồ Chí Minh", "Ho Chi Minh City", "exact"),   # Vietnamese with diacritics, "thanh pho"
    ("Saigon", "TP. Hồ Chí Minh", "exact"),
    ("Châu Đốc", "Chau Doc", "exact"),
    ("Thanh Hóa", "Thanh Hoa", "exact"),                      # "thanh" alone is a place word, not dropped
    ("Phnom Penh", "Phnum Penh", "similar"),                  # a clerk's spelling
    ("Siem Reap", "សៀមរាប", "similar"),                       # script gives "siemreab"
    ("Battambang", "បាត់ដំបង", "similar"),
    ("อรัญประเทศ", "Aranyaprathet", "similar"),
    ("Kampong", "Kampong Cham", "similar"),                   # one contains the other
    ("Takeo", "Sa Kaeo", "different"),                        # the closest different places of the generator
    ("Kampot", "Kampong Cham", "different"),
    ("Phnom Penh", "Kandal", "different"),
    ("Ha Tien", "Ha Noi", "different"),
    ("Phnom Penh", None, MISSING),
    ("Phnom Penh", "", MISSING),
    ("Phnom Penh", "  ", MISSING),
    ("Phnom Penh", "!!! 123", MISSING),
    ("Phnom Penh", 12, MISSING),
    ("Phnom Penh", ["Phnom Penh"], MISSING),
]


@pytest.mark.parametrize(("a", "b", "level"), CASES, ids=[f"{c[0]}|{c[1]}" for c in CASES])
def test_levels_both_ways(a: object, b: object, level: str) -> None:
    assert compare_birth_places(a, b).level == level
    assert compare_birth_places(b, a).level == level
    assert level in PLACE_LEVELS


def test_detail_names_the_folded_places_and_the_similarity() -> None:
    result = compare_birth_places("Phnom Penh", "Phnum Penh")
    assert "phnom penh" in result.detail and "phnum penh" in result.detail and "%" in result.detail
    assert "differ" in compare_birth_places("Kampot", "Trat").detail
    assert compare_birth_places("Kampot", "Trat").score is not None
    assert compare_birth_places("x" * 500, "Kampot").level == "different"   # long input is cut, still compared


def test_prepared_place_is_reused_and_admin_words_alone_are_kept() -> None:
    place = prepare_birth_place("Kampot Province")
    assert isinstance(place, Place) and place.joined == "kampot"
    assert prepare_birth_place(place) is place
    assert compare_birth_places(place, "កំពត").level == "exact"
    # a place that is only an administrative word is still a place (nothing else remains to compare)
    only = prepare_birth_place("Province")
    assert only is not None and only.joined == "province"


def test_record_reads_birth_place_and_reports_garbage_without_the_value() -> None:
    base = {"id": "a", "names": [{"full": "Sok Dara"}], "birth_place": "ភ្នំពេញ"}
    p = prepare(base)
    assert p.birth_place is not None and p.birth_place.joined == "phnompenh"
    assert not any("birth_place" in x for x in p.problems)
    for bad in (7, "?!", ["Phnom Penh"]):
        q = prepare({**base, "birth_place": bad})
        assert q.birth_place is None
        assert "birth_place unreadable" in q.problems
    assert prepare({"id": "a", "names": [{"full": "Sok Dara"}]}).birth_place is None


def test_model_uses_birth_place_to_separate_namesakes() -> None:
    """Same name and year, no document: the birth place moves the pair up when it agrees, down when not."""
    assert "birth_place" in [f.name for f in FEATURES]
    a = prepare({"id": "a", "names": [{"full": "Sok Dara"}], "birth_date": "1979", "sex": "male",
                 "birth_place": "Phnom Penh"})
    same = prepare({"id": "b", "names": [{"full": "Sok Dara"}], "birth_date": "1979-04-12", "sex": "male",
                    "birth_place": "ភ្នំពេញ"})
    other = prepare({"id": "c", "names": [{"full": "Sok Dara"}], "birth_date": "1979-04-12", "sex": "male",
                     "birth_place": "Battambang"})
    unknown = prepare({"id": "d", "names": [{"full": "Sok Dara"}], "birth_date": "1979-04-12", "sex": "male"})
    p_same, p_other, p_unknown = (model.score(a, x) for x in (same, other, unknown))
    assert p_same.probability > p_unknown.probability > p_other.probability
    place = {f.name: f for f in p_same.features}["birth_place"]
    assert place.level == "exact" and place.weight > 0
    assert {f.name: f for f in p_unknown.features}["birth_place"].weight == 0.0   # missing is neutral
    assert {f.name: f for f in p_other.features}["birth_place"].weight < 0


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=60), st.integers()), st.text(max_size=60))
def test_never_raises_and_is_symmetric(a: object, b: str) -> None:
    first, second = compare_birth_places(a, b), compare_birth_places(b, a)
    assert first.level == second.level and first.level in PLACE_LEVELS
