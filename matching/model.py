"""The Fellegi-Sunter scoring model: one declarative feature table, weights from package data.

Each feature compares one aspect of two prepared records and answers an agreement *level*. For every
feature and level the model knows two probabilities, estimated by ``matching.train``:

    m = P(level | the records are the same person)      u = P(level | they are not)

and the level's weight is the log2 Bayes factor ``log2(m / u)``. A level of ``MISSING`` (one side had
nothing usable) weighs 0: absence is not evidence. The total weight of a pair is

    W = log2(prior / (1 - prior)) + sum of the feature weights

(``prior`` is the share of matches among the candidate pairs that blocking produces), and the match
probability is the calibrated logistic ``p = 1 / (1 + 2 ** -(slope * W + intercept))``; ``slope`` and
``intercept`` are fitted on labelled training pairs because the independence assumption of Fellegi-Sunter
makes raw weights over-confident (see docs/matching.md for the reliability check on held-out pairs).

Common names agree by chance far more often than rare ones; when the caller gives frequencies (the index and
the linker do), an exact name agreement is adjusted both ways by how common the shared *whole* name is
(Splink's term-frequency adjustment, ``matching.frequency``, bounded by ``TF_MAX_BOOST`` and
``TF_MAX_DISCOUNT``), and a weak one (one part agrees) is discounted by how common the shared token is.
How the adjustment is made is part of the model's version (``TERM_FREQUENCY``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from . import magic
from .dates import DATE_LEVELS, compare_birth_dates
from .documents import DOCUMENT_LEVELS, compare_documents
from .frequency import whole_name_adjustment
from .name_parts import NAME_PART_GROUPS, NAME_PART_LEVELS, compare_name_parts
from .names import NAME_LEVELS, compare_names
from .other import (
    ADDRESS_LEVELS,
    NATIONALITY_LEVELS,
    SEX_LEVELS,
    compare_addresses,
    compare_nationalities,
    compare_sex,
)
from .places import PLACE_LEVELS, compare_birth_places
from .record import Prepared
from .types import MISSING, FeatureResult

WEIGHTS_RESOURCE = "model_weights.json"

TokenFrequency = Callable[[str], float]


_NO_LEVELS: frozenset[str] = frozenset()

# How the term-frequency adjustment is made, declared once: it changes scores without changing a trained weight,
# so it is part of the model's version. "exact": by the shared whole name's frequency, both ways, bounded; by the
# rarest shared token (discount only) when that frequency is unknown. "weak": by the rarest shared token.
TERM_FREQUENCY = {"exact": "whole-name", "weak": "rarest-token", "min_records": magic.TF_MIN_RECORDS,
                  "min_frequency": magic.TF_MIN_FREQUENCY, "max_discount": magic.TF_MAX_DISCOUNT,
                  "max_boost": magic.TF_MAX_BOOST}

# The order in which score_above compares: features that can add the most weight first (so that the bound
# on the rest falls fast), the costly name comparison last.
_ORDER = {"document": 0, "birth_date": 1, "address": 2, "birth_place": 3, "sex": 4, "nationality": 5, "name": 9,
          "name_parts": 10}


@dataclass(frozen=True, slots=True)
class Feature:
    """One row of the model table: a name, the ``Prepared`` field it reads, the comparison of the two
    fields' values and its levels (best first, MISSING excluded)."""

    name: str
    field: str
    compare_values: Callable[..., FeatureResult]  # (value_a, value_b) or, refining, (value_a, value_b, level)
    levels: tuple[str, ...]
    floor: float | None = None  # no level of this feature may weigh less (a judgement the data cannot make)
    # A feature that refines another one's levels names it in ``refines`` (its compare_values then takes that
    # feature's level as a third argument, so nothing is compared twice) and puts its levels in ``groups``,
    # one group per level refined; training estimates m and u within each group (conditional on the refined
    # level), so the refinement adds exactly what the finer case says beyond the coarse level.
    refines: str | None = None
    groups: tuple[tuple[str, ...], ...] = ()

    def compare(self, a: Prepared, b: Prepared, parent_level: str | None = None) -> FeatureResult:
        if self.refines is not None:
            return self.compare_values(getattr(a, self.field), getattr(b, self.field), parent_level)
        return self.compare_values(getattr(a, self.field), getattr(b, self.field))


def compare_all(a: Prepared, b: Prepared, features: tuple[Feature, ...]) -> list[FeatureResult]:
    """Every feature's result for a pair, in table order (a refining feature after the one it refines)."""
    seen: dict[str, str] = {}
    out = []
    for feature in features:
        result = feature.compare(a, b, seen.get(feature.refines) if feature.refines else None)
        seen[feature.name] = result.level
        out.append(result)
    return out


def _levels(levels: Any) -> tuple[str, ...]:
    return tuple(level for level in levels if level != MISSING)


# The model. Order matters only for the printed explanation.
FEATURES: tuple[Feature, ...] = (
    Feature("name", "names", compare_names, _levels(NAME_LEVELS)),
    Feature("birth_date", "birth_date", compare_birth_dates, _levels(DATE_LEVELS)),
    Feature("document", "documents", compare_documents, _levels(DOCUMENT_LEVELS)),
    Feature("sex", "sex", compare_sex, _levels(SEX_LEVELS)),
    Feature("nationality", "nationalities", compare_nationalities, _levels(NATIONALITY_LEVELS)),
    Feature("address", "addresses", compare_addresses, _levels(ADDRESS_LEVELS)),
    Feature("birth_place", "birth_place", compare_birth_places, _levels(PLACE_LEVELS),
            floor=magic.BIRTH_PLACE_MIN_WEIGHT),
    Feature("name_parts", "names", compare_name_parts, _levels(NAME_PART_LEVELS), refines="name",
            groups=NAME_PART_GROUPS, floor=magic.NAME_PARTS_MIN_WEIGHT),
)


class FeatureScore(NamedTuple):
    name: str
    level: str
    weight: float
    detail: str


class Match(NamedTuple):
    """A scored pair: calibrated probability, total log2 weight, one line per feature, model version."""

    probability: float
    weight: float
    features: tuple[FeatureScore, ...]
    model_version: str

    def explain(self) -> str:
        lines = [f"{f.name:<12} {f.level:<17} {f.weight:+7.2f}  {f.detail}" for f in self.features]
        lines.append(f"{'total':<12} {'':<17} {self.weight:+7.2f}  probability {self.probability:.4f}")
        lines.append(f"model {self.model_version}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {"probability": round(self.probability, 6), "weight": round(self.weight, 3),
                "model_version": self.model_version,
                "features": [{"name": f.name, "level": f.level, "weight": round(f.weight, 3), "detail": f.detail}
                             for f in self.features]}


def weight_of(m: float, u: float) -> float:
    """log2 Bayes factor of one level, clipped so that one feature can never decide alone."""
    w = math.log2(max(m, magic.MIN_PROBABILITY) / max(u, magic.MIN_PROBABILITY))
    return max(-magic.MAX_LEVEL_WEIGHT, min(magic.MAX_LEVEL_WEIGHT, w))


class Model:
    """The feature table with its trained parameters; ``score`` is pure and thread-safe."""

    def __init__(self, params: Mapping[str, Any], features: tuple[Feature, ...] = FEATURES) -> None:
        self.params = params
        self.features = features
        self.prior = float(params["prior"])
        self.prior_weight = math.log2(self.prior / (1.0 - self.prior))
        calibration = params.get("calibration", {})
        self.slope = float(calibration.get("slope", 1.0))
        if not self.slope > 0.0:
            raise ValueError("calibration slope must be positive")
        self.intercept = float(calibration.get("intercept", 0.0))
        self.weights: dict[str, dict[str, float]] = {}
        for feature in features:
            table = params["features"].get(feature.name, {})
            floor = -magic.MAX_LEVEL_WEIGHT if feature.floor is None else feature.floor
            self.weights[feature.name] = {level: max(floor, weight_of(mu["m"], mu["u"]))
                                          for level, mu in table.items()}
        # best_rest[k]: the most the features compared after feature k could still add (before the term-frequency
        # boost of an exact name); boost_ahead[k]: whether the name is compared after feature k
        order = sorted(range(len(features)), key=lambda k: _ORDER.get(features[k].name, 5))
        best_rest: dict[int, float] = {}
        boost_ahead: dict[int, bool] = {}
        rest, name_ahead = 0.0, False
        for k in reversed(order):
            best_rest[k], boost_ahead[k] = rest, name_ahead
            rest += max([0.0, *self.weights[features[k].name].values()])
            name_ahead = name_ahead or features[k].name == "name"
        # What score_above needs of each feature, in comparison order, looked up once here (it runs millions of
        # times): position, name, field, comparison, the feature it refines, its weights, the best rest, and
        # whether its level must be kept (another feature refines it) or term-frequency adjusted, and whether the
        # name is still to come.
        refined = {f.refines for f in features if f.refines}
        self._steps = tuple(
            (k, f.name, f.field, f.compare_values, f.refines, self.weights[f.name], best_rest[k],
             f.name in refined, magic.TF_NAME_LEVELS if f.name == "name" else _NO_LEVELS, boost_ahead[k])
            for k, f in ((k, features[k]) for k in order))
        # u of an exact name agreement: the average the whole-name frequency is compared with
        self.u_exact = float(params["features"].get("name", {}).get("exact", {}).get("u", 0.0))
        floors = {f.name: f.floor for f in features if f.floor is not None}
        digest = hashlib.sha256(json.dumps([params, floors, TERM_FREQUENCY], sort_keys=True).encode()).hexdigest()[:10]
        self.version = f"{params.get('name', 'fs')}-{digest}"

    def probability(self, weight: float) -> float:
        z = self.slope * weight + self.intercept
        if z < -60:
            return 0.0
        return 1.0 / (1.0 + 2.0 ** -z)

    def score(self, a: Prepared, b: Prepared, tf: TokenFrequency | None = None) -> Match:
        """Score a pair: every feature, its level, weight and detail, the total and the probability."""
        match = self.score_above(a, b, 0.0, tf)
        assert match is not None
        return match

    def score_above(self, a: Prepared, b: Prepared, threshold: float,
                    tf: TokenFrequency | None = None) -> Match | None:
        """``score``, or None as soon as the pair provably cannot reach ``threshold``.

        Features are compared cheapest first (the name, the costliest, last); after each one the best
        weight the remaining features could still add bounds the total from above, so no pair at or above
        the threshold is lost. Before the name, that bound includes what a rare whole name would add to an
        exact agreement: ``TF_MAX_BOOST`` at most, and, for a pair within that margin of the threshold, the
        pair's own boost (0 unless the two records share a whole name), so the bound stays tight.
        """
        total = self.prior_weight
        floor = self.weight_floor(threshold)
        found: list[tuple[int, str, float, str]] = []
        kept: dict[str, str] = {}
        boost: float | None = None  # what a shared rare whole name would add, computed only when needed
        for k, name, field, compare, refines, table, rest, keep, tf_levels, boost_ahead in self._steps:
            if refines is None:
                level, _, detail = compare(getattr(a, field), getattr(b, field))
            else:
                level, _, detail = compare(getattr(a, field), getattr(b, field), kept.get(refines))
            if keep:
                kept[name] = level
            if level == MISSING:
                w = 0.0
            else:
                w = table.get(level)  # type: ignore[assignment]
                if w is None:  # a level the weights file does not know: neutral, and say so
                    w = 0.0
                    detail = f"{detail} (level not in model, neutral)"
                if tf is not None and level in tf_levels:
                    w, detail = self._term_frequency(a, b, level, w, detail, tf)
            total += w
            found.append((k, level, w, detail))
            if total + rest < floor:
                if not boost_ahead or tf is None or total + rest + magic.TF_MAX_BOOST < floor:
                    return None
                if boost is None:
                    boost = max(0.0, whole_name_adjustment(a, b, self.u_exact, tf)[0])
                if total + rest + boost < floor:
                    return None
        found.sort()
        features = self.features
        scores = tuple(FeatureScore(features[k].name, level, w, detail) for k, level, w, detail in found)
        return Match(self.probability(total), total, scores, self.version)

    def _term_frequency(self, a: Prepared, b: Prepared, level: str, w: float, detail: str,
                        tf: TokenFrequency) -> tuple[float, str]:
        """The name weight and detail after the term-frequency adjustment (``TERM_FREQUENCY``)."""
        if level == "exact":
            bits, why = whole_name_adjustment(a, b, self.u_exact, tf)
            if why:
                return w + bits, f"{detail}; {why}"
        discount, why = tf_discount(a, b, w, tf)
        if discount:
            return w - discount, f"{detail}; {why}"
        return w, detail

    def weight_floor(self, threshold: float) -> float:
        """The total weight below which the probability is below ``threshold`` (-inf for 0)."""
        if threshold <= 0.0:
            return -math.inf
        if threshold >= 1.0:
            return math.inf
        return (math.log2(threshold / (1.0 - threshold)) - self.intercept) / self.slope

    def explain(self) -> str:
        """The model table: for every feature and level, m, u and the weight."""
        lines = [f"model {self.version}: prior {self.prior:.4g} (weight {self.prior_weight:+.2f}), "
                 f"calibration slope {self.slope:.3f} intercept {self.intercept:+.3f}"]
        for feature in self.features:
            table = self.params["features"].get(feature.name, {})
            lines.append(f"{feature.name}:")
            for level in feature.levels:
                mu = table.get(level)
                if mu is None:
                    lines.append(f"  {level:<16} (not trained: neutral)")
                else:
                    lines.append(f"  {level:<16} m={mu['m']:.5f} u={mu['u']:.6f} "
                                 f"weight={self.weights[feature.name][level]:+.2f}")
            lines.append(f"  {MISSING:<16} weight=+0.00")
        return "\n".join(lines)


def tf_discount(a: Prepared, b: Prepared, weight: float, tf: TokenFrequency) -> tuple[float, str]:
    """Discount a weak name agreement (or an exact one whose whole-name frequency is unknown) when every shared
    token is common.

    The trained u of a name level is an average over all names; a pair sharing only very common tokens
    agrees by chance more often. Following Splink, the adjusted weight uses the frequency of the *rarest*
    shared token: ``log2(u_avg / freq)`` (only ever a discount here, at most ``TF_MAX_DISCOUNT`` bits). For
    "weak" (one part agrees) the discount may take the weight below zero: a common family name shared and
    nothing else is what brothers, sisters and strangers have in common.
    """
    shared = a.name_tokens & b.name_tokens
    if not shared:
        return 0.0, ""
    rarest = min(tf(tok) for tok in shared)
    if rarest <= magic.TF_MIN_FREQUENCY:
        return 0.0, ""
    discount = min(magic.TF_MAX_DISCOUNT, math.log2(rarest / magic.TF_MIN_FREQUENCY))
    if discount <= 0.0 or weight <= 0.0:
        return 0.0, ""
    return discount, f"common name tokens (-{discount:.1f})"


def load_params(path: str | None = None) -> dict[str, Any]:
    if path is None:
        text = resources.files(__package__).joinpath(WEIGHTS_RESOURCE).read_text(encoding="utf-8")
    else:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    params: dict[str, Any] = json.loads(text)
    return params


@cache
def default_model() -> Model:
    """The shipped model (weights from package data), loaded once."""
    return Model(load_params())


def score(a: Prepared, b: Prepared, tf: TokenFrequency | None = None) -> Match:
    return default_model().score(a, b, tf)


def explain() -> str:
    return default_model().explain()


def __getattr__(name: str) -> str:
    # MODEL_VERSION is derived from the shipped weights, so it is computed on first use.
    if name == "MODEL_VERSION":
        return default_model().version
    raise AttributeError(name)
