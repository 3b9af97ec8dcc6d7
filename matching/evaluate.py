"""Evaluation against known links: precision, recall and F1 at thresholds, blocking recall, reliability.

``evaluate`` scores every candidate pair that blocking yields, so one run gives the figures at every
threshold (pairs that provably fall below the lowest threshold are kept with probability 0). Blocking
recall is the share of true links that blocking put in front of the scorer at all: a link missed there is
missed whatever the model says. For a deduplication set (right is None) the links are unordered pairs and
self-pairs are ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .link import Link, best_per_right, scored_pairs
from .model import Model, default_model
from .record import prepare

DEFAULT_THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9, 0.99)


class Pair(NamedTuple):
    left: str
    right: str

    @classmethod
    def of(cls, a: str, b: str, dedup: bool) -> Pair:
        return cls(min(a, b), max(a, b)) if dedup else cls(a, b)


def normalise_links(links: Iterable[tuple[str, str]], dedup: bool) -> set[Pair]:
    return {Pair.of(a, b, dedup) for a, b in links if not (dedup and a == b)}


@dataclass
class EvalResult:
    truth: set[Pair]
    scored: dict[Pair, float] = field(default_factory=dict)  # every candidate pair and its probability
    dedup: bool = False  # one list against itself: pairs are unordered, there is no left and right

    @property
    def blocking_recall(self) -> float:
        if not self.truth:
            return 1.0
        return sum(1 for p in self.truth if p in self.scored) / len(self.truth)


def evaluate(left: Sequence[Any], right: Sequence[Any] | None, links: Iterable[tuple[str, str]],
             model: Model | None = None, thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
             progress: Callable[[int, int], None] | None = None) -> EvalResult:
    """Score all candidate pairs of ``left`` x ``right`` (or left with itself) and keep them with the truth."""
    dedup = right is None
    result = EvalResult(normalise_links(links, dedup), dedup=dedup)
    lp = [prepare(r, check_names=False) for r in left]
    rp = [prepare(r, check_names=False) for r in right] if right is not None else None
    floor = min(thresholds, default=0.0)
    for a, b, match in scored_pairs(lp, rp, threshold=floor, model=model or default_model(), progress=progress):
        # pairs pruned below the lowest threshold count as candidates (blocking recall) with probability 0
        result.scored[Pair.of(a.id, b.id, dedup)] = 0.0 if match is None else match.probability
    return result


def metrics(result: EvalResult, threshold: float, one_per_right: bool = False) -> dict[str, float]:
    """Precision, recall and F1 of the pairs at or above ``threshold``; ``one_per_right`` first keeps only each
    right record's most probable left record(s) (``link.best_per_right``; two files only)."""
    if one_per_right and result.dedup:
        raise ValueError("one_per_right needs a left and a right list, not one list deduplicated")
    predicted = {p for p, prob in result.scored.items() if prob >= threshold}
    if one_per_right:
        kept = best_per_right(Link(p.left, p.right, result.scored[p]) for p in predicted)
        predicted = {Pair(row.left_id, row.right_id) for row in kept}
    tp = len(predicted & result.truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(result.truth) if result.truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": threshold, "precision": round(precision, 5), "recall": round(recall, 5),
            "f1": round(f1, 5), "predicted": len(predicted), "true_positives": tp}


def reliability(result: EvalResult, bins: int = 10) -> list[dict[str, Any]]:
    """Calibration check: per probability bin, the mean predicted probability vs the observed match rate."""
    sums = [[0, 0.0, 0] for _ in range(bins)]
    for pair, prob in result.scored.items():
        k = min(int(prob * bins), bins - 1)
        sums[k][0] += 1
        sums[k][1] += prob
        sums[k][2] += pair in result.truth
    return [{"bin": f"{k / bins:.1f}-{(k + 1) / bins:.1f}", "pairs": n, "predicted": round(s / n, 4),
             "observed": round(t / n, 4)} for k, (n, s, t) in enumerate(sums) if n]


def report_lines(result: EvalResult, thresholds: Sequence[float] = DEFAULT_THRESHOLDS) -> list[str]:
    lines = [f"true links {len(result.truth)}, candidate pairs {len(result.scored)}, "
             f"blocking recall {result.blocking_recall:.4f}",
             f"{'threshold':>9} {'precision':>9} {'recall':>7} {'f1':>7} {'predicted':>9}"]
    lines += _rows(result, thresholds, one_per_right=False)
    if not result.dedup:
        lines.append("each right record linked to its most probable left record only (link --one-per-right):")
        lines += _rows(result, thresholds, one_per_right=True)
    return lines


def _rows(result: EvalResult, thresholds: Sequence[float], one_per_right: bool) -> list[str]:
    return [f"{m['threshold']:>9.2f} {m['precision']:>9.4f} {m['recall']:>7.4f} {m['f1']:>7.4f} {m['predicted']:>9}"
            for m in (metrics(result, t, one_per_right) for t in thresholds)]
