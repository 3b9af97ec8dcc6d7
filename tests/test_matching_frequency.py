"""The whole-name term-frequency adjustment of an exact name agreement (matching/frequency.py, Model.score_above).

An exact name agreement weighs its trained weight plus log2(u_exact / f), f the share of indexed records holding
the shared whole name, bounded by TF_MAX_BOOST and TF_MAX_DISCOUNT; when f is unknown (an index that counts only
tokens, or names that agree only when joined), the rarest shared token's discount applies as before.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable

import pytest

from matching import magic, model
from matching.frequency import WHOLE_NAME, frequency_keys, whole_name_adjustment, whole_names
from matching.model import Model, default_model
from matching.record import Prepared, prepare
from tests.matching_support import check_pruning, namesakes


def person(rid: str, *names: str, **more: object) -> dict:
    out: dict = {"id": rid, "names": [{"full": n, "kind": "primary" if k == 0 else "alias"} for k, n in
                                      enumerate(names)], "sex": "male", "nationalities": ["KH"]}
    out.update(more)
    return out


def frequencies(records: list[Prepared]) -> Callable[[str], float]:
    """What an index answers once it counts ``frequency_keys`` of its records."""
    counts: Counter[str] = Counter()
    for p in records:
        counts.update(frequency_keys(p))
    return lambda key: counts.get(key, 0) / len(records)


def name_feature(match: model.Match) -> model.FeatureScore:
    return next(f for f in match.features if f.name == "name")


def test_whole_names_are_order_free_and_include_aliases() -> None:
    p = prepare(person("a", "Sok Dara", "Long Anu"))
    q = prepare(person("b", "Dara Sok"))
    assert whole_names(p.names) == {WHOLE_NAME + "dara sok", WHOLE_NAME + "anu long"}
    assert whole_names(q.names) == {WHOLE_NAME + "dara sok"}
    assert frequency_keys(p) == {"sok", "dara", "long", "anu", WHOLE_NAME + "dara sok", WHOLE_NAME + "anu long"}


@pytest.mark.parametrize(("f", "expected"), [
    (1e-9, magic.TF_MAX_BOOST),            # a name seen once in a huge register: bounded
    (2e-4, None),                          # between the bounds: log2(u_exact / f)
    (5e-3, None),
    (0.3, -magic.TF_MAX_DISCOUNT),         # a very common name: bounded
])
def test_adjustment_is_log_ratio_within_bounds(f: float, expected: float | None) -> None:
    a, b = prepare(person("a", "Sok Dara")), prepare(person("b", "Dara Sok"))
    u = default_model().u_exact
    bits, detail = whole_name_adjustment(a, b, u, lambda _key: f)
    want = math.log2(u / f) if expected is None else expected
    assert bits == pytest.approx(want)
    assert detail.startswith("rare whole name" if bits >= 0 else "common whole name")
    assert "sok" not in detail and "dara" not in detail  # the name itself is in the feature's detail, once


def test_rarest_shared_name_decides() -> None:
    a = prepare(person("a", "Sok Dara", "Long Anu"))
    b = prepare(person("b", "Long Anu", "Sok Dara"))
    freq = {WHOLE_NAME + "dara sok": 0.1, WHOLE_NAME + "anu long": 0.0004}
    bits, _ = whole_name_adjustment(a, b, 0.0005, lambda key: freq.get(key, 0.0))
    assert bits == pytest.approx(math.log2(0.0005 / 0.0004))


@pytest.mark.parametrize(("a", "b"), [
    ("Sokha Dara", "Sok Ha Dara"),   # exact only when joined: no shared whole name
    ("Sok Dara", "Sok Dara"),        # the frequency function does not know whole names (returns 0)
])
def test_unknown_whole_name_frequency_falls_back_to_the_token_discount(a: str, b: str) -> None:
    pa, pb = prepare(person("a", a)), prepare(person("b", b))
    m = default_model()
    assert name_feature(m.score(pa, pb)).level == "exact"
    tokens_only = lambda key: 0.0 if key.startswith(WHOLE_NAME) else 0.2  # noqa: E731
    assert whole_name_adjustment(pa, pb, m.u_exact, tokens_only) == (0.0, "")
    scored = m.score(pa, pb, tokens_only)
    assert scored.weight == pytest.approx(m.score(pa, pb).weight - magic.TF_MAX_DISCOUNT)
    assert "common name tokens" in name_feature(scored).detail


def test_a_rare_name_of_common_tokens_is_not_discounted() -> None:
    # "Long Anu": both tokens are common in the register, the whole name is held by one record. The token rule
    # took up to 4 bits off; by the whole name it counts at least as much as the average exact agreement.
    rng = random.Random(11)
    families, givens = ["Long", "Sok", "Chan", "Kim", "Yi"], ["Anu", "Dara", "Pich", "Rith", "Sophal"]
    names = [f"{rng.choice(families)} {rng.choice(givens)}" for _ in range(4000)]
    register = [prepare(person(f"r{k}", n)) for k, n in enumerate(names) if n != "Long Anu"]
    unique = prepare(person("u", "Anu Long"))
    register.append(unique)
    tf = frequencies(register)
    query = prepare(person("q", "Long Anu"))
    m = default_model()
    assert tf("long") > magic.TF_MIN_FREQUENCY and tf("anu") > magic.TF_MIN_FREQUENCY
    plain, adjusted = m.score(query, unique), m.score(query, unique, tf)
    assert adjusted.weight == pytest.approx(plain.weight + math.log2(m.u_exact * len(register)))
    assert adjusted.weight > plain.weight and "rare whole name" in name_feature(adjusted).detail
    tokens_only = m.score(query, unique, lambda key: 0.0 if key.startswith(WHOLE_NAME) else tf(key))
    assert tokens_only.weight < plain.weight  # what the token rule did to this pair
    # a name many records hold is discounted against the same query
    common = next(p for p in register if whole_names(p.names) == {WHOLE_NAME + "dara sok"})
    sok_dara = prepare(person("q2", "Sok Dara"))
    assert tf(WHOLE_NAME + "dara sok") > m.u_exact
    assert m.score(sok_dara, common, tf).weight < m.score(sok_dara, common).weight


def test_pruning_never_loses_a_pair_with_the_boost() -> None:
    # score_above stops on an upper bound that includes TF_MAX_BOOST for the name: every pair it drops must score
    # below the threshold in full, with names that are all rare (boosted) or all common (discounted)
    records = [prepare(person(f"r{k}", f"{fam} {giv}", **extra))
               for k, (fam, giv, extra) in enumerate(namesakes(7, 50, year_only=0.4, passports=0.3))]
    m = default_model()
    checked = dropped = 0
    for f in (1e-9, 0.05):
        counts = check_pruning(m, records[:15], records[15:], lambda _key, f=f: f)
        checked, dropped = checked + counts[0], dropped + counts[1]
    assert checked == 2 * 15 * 35 * 3 and dropped > 0


def test_the_adjustment_is_part_of_the_model_version(monkeypatch: pytest.MonkeyPatch) -> None:
    params = default_model().params
    before = Model(params).version
    monkeypatch.setitem(model.TERM_FREQUENCY, "max_boost", magic.TF_MAX_BOOST + 1)
    assert Model(params).version != before
