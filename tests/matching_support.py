"""Checks shared by the matching tests."""

from __future__ import annotations

import json
from collections.abc import Sequence

from matching.model import Model, TokenFrequency
from matching.record import Prepared


def check_pruning(model: Model, lefts: Sequence[Prepared], rights: Sequence[Prepared], tf: TokenFrequency,
                  thresholds: Sequence[float] = (0.1, 0.5, 0.9)) -> tuple[int, int]:
    """``score_above`` against ``score`` for every pair and threshold: a pair it drops scores below the threshold
    in full, a pair it keeps scores exactly the same (weights, levels, details). Returns (checked, dropped)."""
    checked = dropped = 0
    for a in lefts:
        for b in rights:
            full = model.score(a, b, tf)
            for threshold in thresholds:
                pruned = model.score_above(a, b, threshold, tf)
                if pruned is None:
                    assert full.probability < threshold
                    dropped += 1
                else:
                    assert json.dumps(pruned.as_dict()) == json.dumps(full.as_dict())
                checked += 1
    return checked, dropped
