"""Types shared by every comparison feature.

A feature is a plain synchronous function ``compare_x(a, b) -> FeatureResult`` over two prepared
records (see ``matching.record``). ``level`` is one of the agreement levels the scoring model knows for
that feature (``matching.model``); ``MISSING`` means at least one side had nothing usable and the model
treats it as neutral (weight 0). ``detail`` says in words why, e.g. "birth years 1965 vs 1980".
"""

from __future__ import annotations

from typing import NamedTuple

MISSING = "missing"


class FeatureResult(NamedTuple):
    """Immutable (results are cached and shared); a named tuple because scoring makes millions of them and a
    tuple is built more than twice as fast as a frozen dataclass."""

    level: str
    score: float | None
    detail: str

    @classmethod
    def missing(cls, detail: str) -> FeatureResult:
        return cls(MISSING, None, detail)
