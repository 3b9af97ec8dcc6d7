"""The name-parts refinement (matching/name_parts.py), its place in the model, and grouped, balanced training."""

from __future__ import annotations

from collections import Counter

import pytest

from matching import magic, train
from matching.model import FEATURES, compare_all, default_model
from matching.name_parts import (
    CLOSE_ONLY,
    CONTAINED,
    EXTRA_PART,
    NAME_PART_GROUPS,
    PART_DIFFERS,
    SAME_PARTS,
    compare_name_parts,
)
from matching.names import compare_names, name_key
from matching.record import prepare
from matching.types import MISSING

CASES = [
    # (name a, name b, name level, refinement)
    ("Somchai Jaidee", "Somchay Jaidee", "strong", SAME_PARTS),
    ("Kim San", "Kim San Pich", "strong", EXTRA_PART),          # one more given name
    ("Nguyen Van Duc", "Nguyen Duc", "strong", EXTRA_PART),     # a dropped middle name
    ("Dara", "Sok Dara", "weak", CONTAINED),                    # a one-part name inside the other
    ("Yi Vichhea", "Yi Pich", "weak", PART_DIFFERS),            # siblings: same family, other given name
    ("Chan Dara", "Sok Dara", "weak", PART_DIFFERS),
    ("Nguyen Van An", "Nguyen Van Anh", "weak", PART_DIFFERS),  # An and Anh are different names
    ("Sok Dara", "Dara Sok", "exact", MISSING),                 # clear levels are not refined
    ("Sokhom", "Sokhon", "fuzzy", MISSING),
    ("Sok Dara", "Nguyen Van Minh", "disagree", MISSING),
]


def keys(text: str) -> list:
    key = name_key({"full": text})
    assert key is not None
    return [key]


@pytest.mark.parametrize(("a", "b", "name_level", "expected"), CASES, ids=[f"{c[0]}/{c[1]}" for c in CASES])
def test_refines_only_strong_and_weak(a: str, b: str, name_level: str, expected: str) -> None:
    ka, kb = keys(a), keys(b)
    assert compare_names(ka, kb).level == name_level
    result = compare_name_parts(ka, kb)
    assert result.level == expected
    assert compare_name_parts(kb, ka).level == expected  # symmetric
    assert compare_name_parts(ka, kb, name_level).level == expected  # the level given is the level computed


def test_close_spellings_without_a_shared_sound_are_close_only() -> None:
    # given "weak" by the caller, names with no part that sounds the same are only spelled closely
    assert compare_name_parts(keys("Sophal"), keys("Sopheap"), "weak").level == CLOSE_ONLY


def test_the_level_given_decides_whether_to_refine() -> None:
    # the model passes the name level it computed: no second comparison, and a clear level is not refined
    assert compare_name_parts(keys("Yi Vichhea"), keys("Yi Pich"), "exact").level == MISSING
    assert compare_name_parts([], keys("Yi Pich")).level == MISSING


def test_details_never_quote_the_names() -> None:
    for a, b, _, _ in CASES:
        detail = compare_name_parts(keys(a), keys(b)).detail
        for word in (a + " " + b).lower().split():
            assert word not in detail.lower().split()


def test_groups_partition_the_levels() -> None:
    feature = next(f for f in FEATURES if f.name == "name_parts")
    assert feature.refines == "name"
    assert sorted(lv for g in NAME_PART_GROUPS for lv in g) == sorted(feature.levels)


# --- in the model ---------------------------------------------------------------------------------------------

TWIN = {"id": "t", "names": [{"family": "Yi", "given": "Pich", "full": "Yi Pich"}], "sex": "male",
        "birth_date": "1984-06-21", "nationalities": ["KH"],
        "addresses": [{"line": "House 12, Street 271", "locality": "Phnom Penh", "country": "KH"}]}


def test_model_passes_the_name_level_and_explains_the_refinement() -> None:
    a = prepare(TWIN)
    b = prepare({**TWIN, "id": "u", "names": [{"family": "Yi", "given": "Vichhea", "full": "Yi Vichhea"}]})
    match = default_model().score(a, b)
    levels = {f.name: f.level for f in match.features}
    assert levels["name"] == "weak" and levels["name_parts"] == PART_DIFFERS
    assert [r.level for r in compare_all(a, b, FEATURES)] == [levels[f.name] for f in FEATURES]
    assert "name_parts" in match.explain()


def test_shipped_weights_say_an_extra_name_counts_less_than_the_same_parts() -> None:
    weights = default_model().weights["name_parts"]
    assert weights[EXTRA_PART] < weights[SAME_PARTS]
    assert weights[CONTAINED] > weights[PART_DIFFERS]
    assert min(weights.values()) >= magic.NAME_PARTS_MIN_WEIGHT  # the floor holds


# --- training: conditional (grouped) and balanced estimates ------------------------------------------------------

def test_grouped_levels_are_normalised_within_their_group() -> None:
    counts = Counter({"a": 30, "b": 10, "c": 5, "d": 5, "e": 0})
    shares = train._smooth(counts, ["a", "b", "c", "d", "e"], 0.0, (("a", "b"), ("c", "d", "e")))
    assert shares["a"] == pytest.approx(0.75) and shares["b"] == pytest.approx(0.25)
    assert shares["c"] == pytest.approx(0.5) and shares["e"] == 0.0
    plain = train._smooth(counts, ["a", "b", "c", "d", "e"], 0.0)
    assert plain["a"] == pytest.approx(0.6)


def test_balanced_estimates_let_every_data_set_count_equally() -> None:
    n = len(FEATURES)
    sex = next(k for k, f in enumerate(FEATURES) if f.name == "sex")

    def pattern(sex_level: str) -> tuple[str, ...]:
        return tuple(sex_level if k == sex else MISSING for k in range(n))

    table = {f.name: list(f.levels) for f in FEATURES}
    big = [(pattern("same"), 1)] * 90 + [(pattern("different"), 1)] * 10   # 90 % same among true pairs
    small = [(pattern("same"), 1)] * 5 + [(pattern("different"), 1)] * 5     # 50 %
    m, _ = train.balanced_estimates([big, small], table)
    assert m["sex"]["same"] == pytest.approx(0.7, abs=0.01)  # not 95 / 110 = 0.86 as pooled counts give
    # a set that never shows a feature does not count for it: its pseudo-counts are not evidence
    blind = [(tuple(MISSING for _ in range(n)), 1)] * 100
    m, _ = train.balanced_estimates([big, blind], table)
    assert m["sex"]["same"] == pytest.approx(0.9, abs=0.01)
