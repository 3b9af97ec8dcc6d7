"""Batch linking of two lists of records (or one list with itself): blocking, then scoring.

The right side (or the only side, for deduplication) goes into a ``CandidateIndex``; every left record is
looked up in it and each candidate pair is scored once. For deduplication self-pairs are skipped and each
unordered pair is produced once (the one whose left position comes first).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from . import magic
from .index import CandidateIndex
from .model import Match, Model, default_model
from .record import Prepared, prepare

Progress = Callable[[int, int], None]


class Link(NamedTuple):
    left_id: str
    right_id: str
    probability: float


def _index_of(records: Sequence[Prepared], model: Model) -> CandidateIndex:
    index = CandidateIndex(model=model)
    for p in records:
        index.add_prepared(p, unique_id=False)
    return index


def candidate_pairs(left: Sequence[Prepared], right: Sequence[Prepared] | None,
                    progress: Progress | None = None) -> Iterator[tuple[int, int]]:
    """Positions (i, j) of the blocked pairs; j indexes ``right`` (or ``left`` when right is None)."""
    index = _index_of(right if right is not None else left, default_model())
    yield from _pairs(index, left, dedup=right is None, progress=progress)


def _pairs(index: CandidateIndex, left: Sequence[Prepared], dedup: bool,
           progress: Progress | None) -> Iterator[tuple[int, int]]:
    last = time.monotonic()
    for i, p in enumerate(left):
        for j in sorted(index.candidates(p, magic.LINK_MAX_CANDIDATES)):
            if dedup and j <= i:
                continue
            yield i, j
        if progress is not None and time.monotonic() - last >= magic.PROGRESS_SECONDS:
            last = time.monotonic()
            progress(i + 1, len(left))
    if progress is not None:
        progress(len(left), len(left))


def scored_pairs(left: Sequence[Prepared], right: Sequence[Prepared] | None, threshold: float = 0.5,
                 model: Model | None = None, progress: Progress | None = None
                 ) -> Iterator[tuple[Prepared, Prepared, Match | None]]:
    """Every candidate pair with its match, or None when it provably falls below ``threshold``."""
    model = model or default_model()
    other = right if right is not None else left
    index = _index_of(other, model)
    tf = index.token_frequency
    for i, j in _pairs(index, left, dedup=right is None, progress=progress):
        a, b = left[i], other[j]
        yield a, b, model.score_above(a, b, threshold, tf)


def link_prepared(left: Sequence[Prepared], right: Sequence[Prepared] | None, threshold: float = 0.5,
                  model: Model | None = None, progress: Progress | None = None) -> Iterator[Link]:
    """Yield (left_id, right_id, probability) for every candidate pair at or above ``threshold``."""
    for a, b, match in scored_pairs(left, right, threshold, model, progress):
        if match is not None and match.probability >= threshold:
            yield Link(a.id, b.id, match.probability)


def link(left: Sequence[Any], right: Sequence[Any] | None = None, threshold: float = 0.5,
         model: Model | None = None, progress: Progress | None = None) -> Iterator[Link]:
    """Link raw person records; ``right=None`` deduplicates ``left``. Messy records are read leniently."""
    lp = [prepare(r, check_names=False) for r in left]
    rp = [prepare(r, check_names=False) for r in right] if right is not None else None
    yield from link_prepared(lp, rp, threshold, model, progress)
