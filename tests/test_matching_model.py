"""Record preparation, the Fellegi-Sunter model, EM and calibration (matching/record.py, model.py, train.py)."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import magic, model, train
from matching.model import FEATURES, Model, default_model, weight_of
from matching.record import prepare
from matching.types import MISSING

FEBRL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "febrl3"  # shared/ beside the clone

BASE = {"id": "a1", "names": [{"family": "Sok", "given": "Dara", "full": "Sok Dara", "script": "Latn"}],
        "sex": "male", "birth_date": "1979-04-12", "nationalities": ["KH"],
        "documents": [{"kind": "passport", "number": "N0123456", "country": "KH"}],
        "addresses": [{"line": "12 street 271", "locality": "Phnom Penh", "country": "KH"}]}


def rec(**changes: object) -> dict:
    out = json.loads(json.dumps(BASE))
    out.update(changes)
    return out


# --- prepare: lenient, never raises, says what it could not read without repeating it ---------------------

MESSY = [
    ("not an object", ["x"], "record is not an object"),
    ("names not a list", {"id": "m1", "names": "Sok Dara"}, "names is not a list"),
    ("name not an object", {"id": "m2", "names": ["Sok Dara"]}, "names[0] is not an object"),
    ("empty name", {"id": "m3", "names": [{"full": ""}, {"full": "Sok Dara"}]}, "names[0] empty"),
    ("impossible date", rec(birth_date="1979-02-31"), "birth_date"),
    ("date of wrong type", rec(birth_date=19790412), "birth_date"),
    ("documents garbage", rec(documents=[7, {"kind": "passport", "number": "??"}]), "documents[0] is not an object"),
    ("document without number", rec(documents=[{"kind": "passport", "number": "n/a"}]), "documents[0] has no usable"),
    ("sex wrong type", rec(sex=["male"]), "sex unreadable"),
    ("no id", {"names": [{"full": "Sok Dara"}]}, "id missing"),
    ("nationalities not a list", rec(nationalities="KH"), "nationalities is not a list"),
]


@pytest.mark.parametrize(("label", "record", "problem"), MESSY, ids=[m[0] for m in MESSY])
def test_prepare_is_lenient_and_reports(label: str, record: object, problem: str) -> None:
    p = prepare(record)
    assert any(problem in x for x in p.problems), p.problems
    for text in p.problems:  # problems never carry the personal data itself
        assert "Dara" not in text and "1979" not in text and "N0123456" not in text


def test_prepare_reads_a_clean_record_fully() -> None:
    p = prepare(BASE)
    assert p.id == "a1" and len(p.names) == 1 and p.birth_date is not None and len(p.documents) == 1
    assert p.sex == "male" and p.nationalities == frozenset({"KH"}) and len(p.addresses) == 1
    assert p.problems == []
    assert "sok" in p.name_tokens and "dara" in p.name_tokens


def test_prepare_keeps_partial_birth_date() -> None:
    p = prepare(rec(birth_date="1979-02-31"))
    assert p.birth_date is not None and p.birth_date.year == 1979 and p.birth_date.day is None


# --- scoring ------------------------------------------------------------------------------------------------

def test_same_person_scores_high_and_explains_every_feature() -> None:
    m = model.score(prepare(BASE), prepare(rec(id="b1")))
    assert m.probability > 0.99
    assert [f.name for f in m.features] == [f.name for f in FEATURES]
    assert m.model_version == model.MODEL_VERSION
    text = m.explain()
    for f in FEATURES:
        assert f.name in text
    assert "probability" in text


def test_different_person_scores_low() -> None:
    other = {"id": "z", "names": [{"full": "Nguyen Van Minh"}], "sex": "female", "birth_date": "1990-11-30",
             "nationalities": ["VN"], "documents": [{"kind": "passport", "number": "C7654321", "country": "VN"}]}
    assert model.score(prepare(BASE), prepare(other)).probability < 0.01


def test_missing_values_are_neutral() -> None:
    bare = {"id": "b", "names": BASE["names"]}
    m = model.score(prepare(BASE), prepare(bare))
    for f in m.features:
        if f.name != "name":
            assert f.level == MISSING and f.weight == 0.0
    total = default_model().prior_weight + sum(f.weight for f in m.features)
    assert m.weight == pytest.approx(total, abs=0.01)


CASES = [  # (label, changes to a copy of BASE, same person?)
    ("day and month swapped", {"birth_date": "1979-12-04"}, True),
    ("passport with separators", {"documents": [{"kind": "passport", "number": "n 012-3456", "country": "KH"}]}, True),
    ("birth year only", {"birth_date": "1979"}, True),
    ("family name typo", {"names": [{"full": "Sokh Dara"}]}, True),
    ("same name, other date and passport", {"birth_date": "1990-06-01", "sex": "female", "addresses": [],
                                            "documents": [{"kind": "passport", "number": "N9999876",
                                                           "country": "KH"}]}, False),
]


@pytest.mark.parametrize(("label", "changes", "same"), CASES, ids=[c[0] for c in CASES])
def test_table_of_pairs_against_the_default_threshold(label: str, changes: dict, same: bool) -> None:
    p = model.score(prepare(BASE), prepare(rec(id="b", **changes))).probability
    assert (p >= 0.5) == same, p


def test_weights_are_log2_bayes_factors_and_clipped() -> None:
    assert weight_of(0.9, 0.009) == pytest.approx(math.log2(100))
    assert weight_of(1.0, 0.0) == magic.MAX_LEVEL_WEIGHT
    assert weight_of(0.0, 1.0) == -magic.MAX_LEVEL_WEIGHT


def test_model_table_prints_every_level() -> None:
    text = model.explain()
    for f in FEATURES:
        for level in f.levels:
            assert level in text


def test_unknown_level_is_neutral_not_a_crash() -> None:
    params = json.loads(json.dumps(default_model().params))
    params["features"]["sex"] = {}
    m = Model(params).score(prepare(BASE), prepare(rec(id="b")))
    sex = next(f for f in m.features if f.name == "sex")
    assert sex.weight == 0.0 and "not in model" in sex.detail


def test_common_names_are_discounted_rare_ones_count_more() -> None:
    # an exact name agreement is adjusted by the frequency of the whole name, both ways, within the bounds
    a, b = prepare(BASE), prepare(rec(id="b"))
    plain = model.score(a, b)
    common = model.score(a, b, tf=lambda _key: 0.2)
    rare = model.score(a, b, tf=lambda _key: 1e-5)
    assert common.weight == pytest.approx(plain.weight - magic.TF_MAX_DISCOUNT)
    assert rare.weight == pytest.approx(plain.weight + magic.TF_MAX_BOOST)


# --- training -----------------------------------------------------------------------------------------------

def test_em_recovers_known_parameters() -> None:
    rng = random.Random(3)
    table = {f.name: list(f.levels) for f in FEATURES}
    true_m = {n: {lv: (0.8 if k == 0 else 0.2 / (len(lvs) - 1)) for k, lv in enumerate(lvs)}
              for n, lvs in table.items()}
    true_u = {n: {lv: (0.02 if k == 0 else 0.98 / (len(lvs) - 1)) for k, lv in enumerate(lvs)}
              for n, lvs in table.items()}
    patterns: Counter[tuple[str, ...]] = Counter()
    for _ in range(20000):
        probs = true_m if rng.random() < 0.3 else true_u
        patterns[tuple(rng.choices(table[f.name], [probs[f.name][lv] for lv in table[f.name]])[0]
                       for f in FEATURES)] += 1
    m, _, prior, _ = train.em(patterns, true_u, table)
    assert prior == pytest.approx(0.3, abs=0.02)
    for f in FEATURES:
        first = f.levels[0]
        # a refining feature's m is conditional on its group (the coarse level it refines)
        group = next((g for g in f.groups if first in g), table[f.name])
        expected = true_m[f.name][first] / sum(true_m[f.name][lv] for lv in group)
        assert m[f.name][first] == pytest.approx(expected, abs=0.03)


def test_calibration_recovers_a_known_logistic() -> None:
    rng = random.Random(5)
    points = []
    for _ in range(5000):
        w = rng.uniform(-10, 10)
        p = 1 / (1 + 2 ** -(0.5 * w - 1.0))
        points.append((w, int(rng.random() < p)))
    slope, intercept = train.fit_calibration(points)
    assert slope == pytest.approx(0.5, abs=0.06)
    assert intercept == pytest.approx(-1.0, abs=0.2)


def test_split_by_person_keeps_each_person_on_one_side() -> None:
    records = [{"id": f"r{i}-{k}"} for i in range(50) for k in range(3)]
    links = [(f"r{i}-0", f"r{i}-{k}") for i in range(50) for k in (1, 2)]
    tr, ho = train.split_by_person(train.Dataset("t", records, None, links), salt="x")
    side = {r["id"]: "t" for r in tr.left} | {r["id"]: "h" for r in ho.left}
    for i in range(50):
        assert len({side[f"r{i}-{k}"] for k in range(3)}) == 1
    assert 10 < len(tr.left) < 140 and len(tr.links) + len(ho.links) == len(links)


@pytest.mark.skipif(not FEBRL.exists(), reason="shared data not present")
def test_training_is_reproducible() -> None:
    from matching.__main__ import read_links, read_records

    records = read_records(str(FEBRL / "records.jsonl"))[:400]
    ids = {r["id"] for r in records}
    links = [(a, b) for a, b in read_links(str(FEBRL / "links.csv")) if a in ids and b in ids]
    ds = train.Dataset("febrl3-part", records, None, links)
    for method in ("labelled", "em"):
        first, report = train.train([ds], seed=11, method=method, random_pairs=1500)
        second, _ = train.train([ds], seed=11, method=method, random_pairs=1500)
        assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
        assert 0 < first["prior"] < 1 and first["calibration"]["slope"] > 0
        assert report["febrl3-part-heldout"]["f1"] > 0.9, report


# --- never raises on arbitrary partner data ----------------------------------------------------------------

_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
_json = st.recursive(_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                       max_size=3), max_leaves=8)
_field_values = {
    "id": _json, "names": st.lists(st.dictionaries(st.sampled_from(["full", "family", "given", "script", "kind"]),
                                                   _leaf | st.text(), max_size=4), max_size=3) | _json,
    "birth_date": _json | st.text(alphabet="0123456789-/. ", max_size=12), "sex": _json,
    "nationalities": _json, "documents": st.lists(st.dictionaries(
        st.sampled_from(["kind", "number", "country", "mrz"]), _leaf, max_size=4), max_size=2) | _json,
    "addresses": _json,
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=_field_values), st.fixed_dictionaries({}, optional=_field_values))
def test_prepare_and_score_never_raise_on_messy_records(a: dict, b: dict) -> None:
    pa, pb = prepare(a), prepare(b)
    m = model.score(pa, pb)
    assert 0.0 <= m.probability <= 1.0
    assert len(m.features) == len(FEATURES)
