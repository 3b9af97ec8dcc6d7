"""Checks shared by the matching tests."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence

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


def namesakes(seed: int, n: int, year_only: float, passports: float | None = None
              ) -> Iterator[tuple[str, str, dict]]:
    """``n`` Cambodian namesakes and relatives: (family, given, extra fields) from four family and five given
    names, a birth date in the 1970s (a share ``year_only`` with the year alone) and, when ``passports`` is
    given, that share with one of four passport numbers. The same seed gives the same people."""
    rng = random.Random(seed)
    families, givens = ["Yi", "Sok", "Chea", "Kim"], ["Pich", "Dara", "Vichhea", "Sophal", "Rith"]
    for _ in range(n):
        fam, giv = rng.choice(families), rng.choice(givens)
        extra: dict = {"birth_date": f"19{rng.randint(70, 80)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"}
        if rng.random() < year_only:
            extra["birth_date"] = f"19{rng.randint(70, 80)}"
        if passports is not None and rng.random() < passports:
            extra["documents"] = [{"kind": "passport", "number": f"N{rng.randint(1000000, 1000003)}", "country": "KH"}]
        yield fam, giv, extra
