"""Reproducible training of the Fellegi-Sunter weights (``model_weights.json``).

How the shipped weights are made (``python -m matching train``; commands and figures in docs/matching.md):

1. Split every labelled data set by *person* (connected components of its links, hashed with a fixed
   salt) into a training half and a held-out half, so no person is both trained on and evaluated on.
2. Candidate pairs: blocking runs on the training halves exactly as it does in service.
3. m, u and the prior, by one of ``METHODS``: "labelled-random-u" (shipped) takes m and the prior from
   the labelled candidate pairs (m as the mean of each data set's estimate, so every set counts equally)
   and u from random pairs, as Splink does; "labelled" counts u on the
   non-matching candidate pairs instead; "em" estimates everything without labels by Fellegi-Sunter EM
   over the candidate pairs (u started from random pairs); "em-fixed-u" is Splink's EM (u from random
   pairs, held fixed, m and the prior by EM).
4. Calibration: a two-parameter logistic (slope, intercept on the total log2 weight) fitted on the labelled
   training candidate pairs, because the independence assumption makes raw weights over-confident.
5. Report on the held-out halves: precision, recall, F1 and a reliability table (predicted vs observed).

Everything is seeded and iterated in a fixed order, so the same inputs give the same JSON.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import magic
from .evaluate import Pair, metrics, normalise_links, reliability
from .link import candidate_pairs
from .model import FEATURES, Model, compare_all
from .record import Prepared, prepare
from .types import MISSING

Pattern = tuple[str, ...]


@dataclass
class Dataset:
    """A labelled set: left and right records (right is None for a deduplication set) and the true links."""

    name: str
    left: list[dict[str, Any]]
    right: list[dict[str, Any]] | None
    links: list[tuple[str, str]]


def split_by_person(ds: Dataset, salt: str, heldout_share: float = 0.5) -> tuple[Dataset, Dataset]:
    """Split into (train, held-out) so that all records of one person (linked component) fall on one side."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in ds.links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def heldout(record_id: str) -> bool:
        digest = hashlib.sha256(f"{salt}:{find(record_id)}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < heldout_share

    def part(records: list[dict[str, Any]] | None, keep: bool) -> list[dict[str, Any]] | None:
        if records is None:
            return None
        return [r for r in records if heldout(str(r.get("id", ""))) == keep]

    sides = []
    for keep in (False, True):
        links = [(a, b) for a, b in ds.links if heldout(a) == keep]
        sides.append(Dataset(f"{ds.name}-{'heldout' if keep else 'train'}", part(ds.left, keep) or [],
                             part(ds.right, keep), links))
    return sides[0], sides[1]


def levels(a: Prepared, b: Prepared) -> Pattern:
    return tuple(r.level for r in compare_all(a, b, FEATURES))


def random_pair_levels(left: Sequence[Prepared], right: Sequence[Prepared] | None, n: int,
                       rng: random.Random) -> list[Pattern]:
    """Comparison patterns of ``n`` random pairs (distinct records for a deduplication set)."""
    other = right if right is not None else left
    out: list[Pattern] = []
    while len(out) < n:
        i, j = rng.randrange(len(left)), rng.randrange(len(other))
        if right is None and i == j:
            continue
        out.append(levels(left[i], other[j]))
    return out


def estimate_u(patterns: Iterable[Pattern], table: dict[str, list[str]]) -> dict[str, dict[str, float]]:
    counts = [Counter[str]() for _ in FEATURES]
    for pattern in patterns:
        for k, level in enumerate(pattern):
            if level != MISSING:
                counts[k][level] += 1
    return {f.name: _smooth(counts[k], table[f.name], magic.U_PSEUDO_COUNT, f.groups) for k, f in enumerate(FEATURES)}


def _smooth(counts: Counter[str] | dict[str, float], levels: list[str], alpha: float,
            groups: tuple[tuple[str, ...], ...] = ()) -> dict[str, float]:
    """Smoothed shares of ``levels``. A refining feature (``Feature.groups``) is normalised within each group
    of levels, so each level's m and u are conditional on the coarser level the group refines (P(sub | strong)):
    the refinement's weight then adds exactly what the finer case says beyond its parent level."""
    out: dict[str, float] = {}
    rest = [level for level in levels if not any(level in g for g in groups)]
    for group in [*(tuple(lv for lv in g if lv in levels) for g in groups), tuple(rest)]:
        total = sum(counts.get(level, 0) for level in group) + alpha * len(group)
        out.update({level: (counts.get(level, 0) + alpha) / total for level in group})
    return {level: out[level] for level in levels}


def em(patterns: Counter[Pattern], u: dict[str, dict[str, float]], table: dict[str, list[str]],
       fix_u: bool = True, max_iter: int = 500,
       tol: float = 1e-9) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]], float, int]:
    """Fellegi-Sunter EM over candidate-pair patterns. Returns (m, u, prior, iterations).

    ``fix_u=True`` is Splink's way (u from random pairs, held fixed); ``fix_u=False`` re-estimates u over
    the candidate pairs too (Winkler's EM), which suits candidate pairs whose non-matches look nothing like
    random pairs (blocking on names makes non-matching candidates share names far more often).
    """
    names = [f.name for f in FEATURES]
    m = {}
    for name in names:  # start from "better levels are likelier for matches": 2^-k, normalised
        raw = {level: 2.0 ** -k for k, level in enumerate(table[name])}
        m[name] = {level: v / sum(raw.values()) for level, v in raw.items()}
    prior = magic.EM_START_PRIOR
    items = sorted(patterns.items())
    total = sum(patterns.values())
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        m_sums: list[dict[str, float]] = [dict.fromkeys(table[n], 0.0) for n in names]
        u_sums: list[dict[str, float]] = [dict.fromkeys(table[n], 0.0) for n in names]
        matched = 0.0
        for pattern, count in items:
            lm, lu = prior, 1.0 - prior
            for k, level in enumerate(pattern):
                if level != MISSING:
                    lm *= m[names[k]][level]
                    lu *= u[names[k]][level]
            p = lm / (lm + lu) if lm + lu > 0 else 0.0
            matched += p * count
            for k, level in enumerate(pattern):
                if level != MISSING:
                    m_sums[k][level] += p * count
                    u_sums[k][level] += (1.0 - p) * count
        new_m = {n: _smooth(m_sums[k], table[n], magic.M_PSEUDO_COUNT, FEATURES[k].groups) for k, n in enumerate(names)}
        new_u = u if fix_u else {n: _smooth(u_sums[k], table[n], magic.U_PSEUDO_COUNT, FEATURES[k].groups)
                                 for k, n in enumerate(names)}
        new_prior = min(max(matched / total, 1e-6), 1 - 1e-6)
        delta = max(abs(new_prior - prior),
                    max(abs(new_m[n][lv] - m[n][lv]) for n in names for lv in table[n]),
                    max(abs(new_u[n][lv] - u[n][lv]) for n in names for lv in table[n]))
        m, u, prior = new_m, new_u, new_prior
        if delta < tol:
            break
    return m, u, prior, iteration


def balanced_estimates(parts: Sequence[Iterable[tuple[Pattern, int]]], table: dict[str, list[str]]
                       ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """m and u counted on each data set's labelled pairs, then averaged: every set counts equally, as in u
    from random pairs (``U_RANDOM_PAIRS`` per set). Pooled counts would let the set with the most true pairs
    (febrl3: four times the cross-border set) decide alone how much a name level says in every register.

    A set counts for a feature (for a group of a refining feature) only if its pairs of that label show it
    at all: febrl3 has no sex and no birth place, and its pseudo-counts must not pass for evidence.
    """
    counts: list[list[list[Counter[str]]]] = []  # [set][feature][label]
    for pairs in parts:
        c = [[Counter[str](), Counter[str]()] for _ in FEATURES]
        for pattern, y in pairs:
            for k, level in enumerate(pattern):
                if level != MISSING:
                    c[k][y][level] += 1
        counts.append(c)
    out: list[dict[str, dict[str, float]]] = [{}, {}]
    for y, alpha in ((0, magic.U_PSEUDO_COUNT), (1, magic.M_PSEUDO_COUNT)):
        for k, f in enumerate(FEATURES):
            levels = table[f.name]
            groups = [[lv for lv in g if lv in levels] for g in f.groups]
            groups.append([lv for lv in levels if not any(lv in g for g in groups)])
            shares: dict[str, float] = {}
            for group in groups:
                seen = [c[k][y] for c in counts if any(c[k][y][lv] for lv in group)] or [Counter[str]()]
                smoothed = [_smooth(cnt, group, alpha) for cnt in seen]
                shares.update({lv: sum(sm[lv] for sm in smoothed) / len(smoothed) for lv in group})
            out[y][f.name] = {lv: shares[lv] for lv in levels}
    return out[1], out[0]


def fit_calibration(points: Sequence[tuple[float, int]], iterations: int = 100) -> tuple[float, float]:
    """Logistic regression of the label on the total log2 weight; returns (slope, intercept) in log2-odds
    units, so that ``p = 1 / (1 + 2 ** -(slope * W + intercept))``.

    Newton's method from zero (where the Hessian is well conditioned) with step halving, so the loss never
    goes up; a tiny ridge keeps the step finite when the classes separate perfectly.
    """
    a = b = 0.0
    loss = _log_loss(points, a, b)
    for _ in range(iterations):
        ga = gb = haa = hab = hbb = 0.0
        for w, y in points:
            p = _sigmoid(a * w + b)
            r, s = p - y, p * (1.0 - p)
            ga, gb = ga + r * w, gb + r
            haa, hab, hbb = haa + s * w * w, hab + s * w, hbb + s
        haa, hbb = haa + 1e-6, hbb + 1e-6
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        step = 1.0
        while step > 1e-6:
            new_loss = _log_loss(points, a - step * da, b - step * db)
            if new_loss <= loss:
                break
            step /= 2
        else:
            break
        a, b, loss = a - step * da, b - step * db, new_loss
        if abs(step * da) < 1e-9 and abs(step * db) < 1e-9:
            break
    return a / math.log(2), b / math.log(2)


def _sigmoid(z: float) -> float:
    z = max(-35.0, min(35.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def _log_loss(points: Sequence[tuple[float, int]], a: float, b: float) -> float:
    total = 0.0
    for w, y in points:
        p = min(max(_sigmoid(a * w + b), 1e-15), 1.0 - 1e-15)
        total -= math.log(p if y else 1.0 - p)
    return total


def _rounded(x: float) -> float:
    return float(f"{x:.6g}")


METHODS = ("labelled", "labelled-random-u", "em", "em-fixed-u")


def train(datasets: Sequence[Dataset], seed: int = 20261128, method: str = "labelled-random-u",
          progress: Callable[[str], None] | None = None,
          random_pairs: int = magic.U_RANDOM_PAIRS) -> tuple[dict[str, Any], dict[str, Any]]:
    """Train on the training halves of ``datasets``; returns (weights JSON object, held-out report).

    ``method``: "labelled-random-u" counts m on the labelled candidate pairs and u on random pairs;
    "labelled" counts m and u on the labelled candidate pairs; "em" estimates them by EM
    without labels (u started from random pairs); "em-fixed-u" keeps u from random pairs (Splink's way).
    The calibration always uses the labels of the training halves.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    say = progress or (lambda _msg: None)
    rng = random.Random(seed)
    table: dict[str, list[str]] = {f.name: list(f.levels) for f in FEATURES}
    splits = [split_by_person(ds, salt=f"{seed}:{ds.name}") for ds in datasets]
    labelled: list[tuple[Prepared, Prepared, Pattern, int]] = []
    random_patterns: list[Pattern] = []
    starts = []  # where each data set's pairs begin in ``labelled``
    for train_ds, _ in splits:
        starts.append(len(labelled))
        left = [prepare(r, check_names=False) for r in train_ds.left]
        right = [prepare(r, check_names=False) for r in train_ds.right] if train_ds.right is not None else None
        other = right if right is not None else left
        truth = normalise_links(train_ds.links, dedup=right is None)
        pairs = 0
        for i, j in candidate_pairs(left, right):
            a, b = left[i], other[j]
            labelled.append((a, b, levels(a, b), int(Pair.of(a.id, b.id, right is None) in truth)))
            pairs += 1
        if method != "labelled":  # only the other methods take u from random pairs
            random_patterns.extend(random_pair_levels(left, right, random_pairs, rng))
        say(f"{train_ds.name}: {len(left)} records, {pairs} candidate pairs")
    for pattern in [*(x[2] for x in labelled), *random_patterns]:  # levels returned but not declared
        for k, level in enumerate(pattern):
            if level != MISSING and level not in table[FEATURES[k].name]:
                table[FEATURES[k].name].append(level)
    if method.startswith("labelled"):
        prior = sum(x[3] for x in labelled) / max(1, len(labelled))  # labels are 1 (same person) or 0
        parts = [labelled[lo:hi] for lo, hi in zip(starts, [*starts[1:], len(labelled)], strict=True)]
        m, u = balanced_estimates([[(x[2], x[3]) for x in part] for part in parts], table)
        if method == "labelled-random-u":
            u = estimate_u(random_patterns, table)
    else:
        blocked = Counter(x[2] for x in labelled)
        m, u, prior, iterations = em(blocked, estimate_u(random_patterns, table), table,
                                     fix_u=method == "em-fixed-u")
        say(f"EM converged after {iterations} iterations, prior {prior:.4f}")
    params: dict[str, Any] = {
        "name": "fs",
        "method": method,
        "seed": seed,
        "trained_on": [ds.name for ds, _ in splits],
        "prior": _rounded(min(max(prior, 1e-6), 1 - 1e-6)),
        "features": {name: {lv: {"m": _rounded(m[name][lv]), "u": _rounded(u[name][lv])} for lv in table[name]}
                     for name in table},
        "calibration": {"slope": 1.0, "intercept": 0.0},
    }
    raw = Model(params)
    points = [(raw.score(a, b).weight, y) for a, b, _, y in labelled]
    slope, intercept = fit_calibration(points)
    params["calibration"] = {"slope": _rounded(slope), "intercept": _rounded(intercept)}
    say(f"calibration slope {slope:.3f} intercept {intercept:+.3f}")
    return params, heldout_report(Model(params), [h for _, h in splits])


def heldout_report(model: Model, heldout: Sequence[Dataset]) -> dict[str, Any]:
    """Precision/recall/F1 at 0.5 and a reliability table for each held-out half."""
    from .evaluate import evaluate

    report: dict[str, Any] = {}
    for ds in heldout:
        result = evaluate(ds.left, ds.right, ds.links, model=model, thresholds=(0.001, 0.5))
        report[ds.name] = {"records": len(ds.left), "links": len(ds.links), **metrics(result, 0.5),
                           "blocking_recall": result.blocking_recall,
                           "reliability": reliability(result)}
    return report
