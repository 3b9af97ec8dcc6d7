"""Batch linking of two lists of records (or one list with itself): blocking, then scoring.

The right side (or the only side, for deduplication) goes into a ``CandidateIndex``; every left record is
looked up in it and each candidate pair is scored once. For deduplication self-pairs are skipped and each
unordered pair is produced once (the one whose left position comes first).

``link(..., workers=N)`` scores with N processes (forked, so the index built here is shared copy-on-write
and never pickled): the left records are cut into chunks, each worker prepares, blocks and scores its chunks,
and the rows come back in the serial order, so the output is the same for every N.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
           progress: Progress | None, start: int = 0) -> Iterator[tuple[int, int]]:
    """(i, j) of the blocked pairs, i counted from ``start`` (the position of ``left[0]`` in the whole list)."""
    last = time.monotonic()
    for i, p in enumerate(left, start):
        for j in sorted(index.candidates(p, magic.LINK_MAX_CANDIDATES)):
            if dedup and j <= i:
                continue
            yield i, j
        if progress is not None and time.monotonic() - last >= magic.PROGRESS_SECONDS:
            last = time.monotonic()
            progress(i + 1 - start, len(left))
    if progress is not None:
        progress(len(left), len(left))


def scored_pairs(left: Sequence[Prepared], right: Sequence[Prepared] | None, threshold: float = 0.5,
                 model: Model | None = None, progress: Progress | None = None
                 ) -> Iterator[tuple[Prepared, Prepared, Match | None]]:
    """Every candidate pair with its match, or None when it provably falls below ``threshold``."""
    other = right if right is not None else left
    index = _index_of(other, model or default_model())
    yield from _scored(index, left, other, right is None, threshold, progress)


def _scored(index: CandidateIndex, left: Sequence[Prepared], other: Sequence[Prepared], dedup: bool,
            threshold: float, progress: Progress | None = None, start: int = 0
            ) -> Iterator[tuple[Prepared, Prepared, Match | None]]:
    """``scored_pairs`` over a built index; ``left`` starts at position ``start`` of the whole left list."""
    model, tf = index.model, index.token_frequency
    for i, j in _pairs(index, left, dedup, progress, start):
        a, b = left[i - start], other[j]
        yield a, b, model.score_above(a, b, threshold, tf)


def _above(scored: Iterator[tuple[Prepared, Prepared, Match | None]], threshold: float) -> Iterator[Link]:
    for a, b, match in scored:
        if match is not None and match.probability >= threshold:
            yield Link(a.id, b.id, match.probability)


def link_prepared(left: Sequence[Prepared], right: Sequence[Prepared] | None, threshold: float = 0.5,
                  model: Model | None = None, progress: Progress | None = None) -> Iterator[Link]:
    """Yield (left_id, right_id, probability) for every candidate pair at or above ``threshold``."""
    yield from _above(scored_pairs(left, right, threshold, model, progress), threshold)


def best_per_right(links: Iterable[Link]) -> list[Link]:
    """The many-to-one rule, for partner records linked against a register that holds each person once: each
    right record keeps only its most probable left record (all of them on an exact tie, which nothing in the
    records can break); a left record may keep several right records (one person seen by two partners).
    The links keep their order. Namesakes and relatives that score above the threshold beside the true
    person are dropped; a true pair is lost only when a look-alike outscores it (docs/matching.md)."""
    rows = list(links)
    best: dict[str, float] = {}
    for row in rows:
        if row.probability > best.get(row.right_id, -1.0):
            best[row.right_id] = row.probability
    return [row for row in rows if row.probability == best[row.right_id]]


def default_workers() -> int:
    """Processes for a batch link: every core this process may use, at most ``LINK_MAX_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, magic.LINK_MAX_WORKERS))


def link(left: Sequence[Any], right: Sequence[Any] | None = None, threshold: float = 0.5,
         model: Model | None = None, progress: Progress | None = None, workers: int = 1) -> Iterator[Link]:
    """Link raw person records; ``right=None`` deduplicates ``left``. Messy records are read leniently.

    ``workers > 1`` scores in that many forked processes (where ``fork`` exists); the links and their order
    are the same as with one.
    """
    if workers > 1 and len(left) >= 2 * _CHUNK and "fork" in multiprocessing.get_all_start_methods():
        yield from _link_parallel(left, right, threshold, model or default_model(), progress, workers)
        return
    lp = [prepare(r, check_names=False) for r in left]
    rp = [prepare(r, check_names=False) for r in right] if right is not None else None
    yield from link_prepared(lp, rp, threshold, model, progress)


_CHUNK = 250  # left records per task: small enough to balance the workers and report progress often

# What the forked workers read: set just before the pool forks, cleared after (copy-on-write, never pickled).
_SHARED: dict[str, Any] = {}


def _link_parallel(left: Sequence[Any], right: Sequence[Any] | None, threshold: float, model: Model,
                   progress: Progress | None, workers: int) -> Iterator[Link]:
    dedup = right is None
    other = [prepare(r, check_names=False) for r in (left if dedup else right)]  # type: ignore[union-attr]
    index = _index_of(other, model)
    _SHARED.update(index=index, left=other if dedup else left, other=other, threshold=threshold, dedup=dedup)
    starts = range(0, len(left), _CHUNK)
    last, done = time.monotonic(), 0
    try:
        with multiprocessing.get_context("fork").Pool(min(workers, len(starts))) as pool:
            for rows in pool.imap(_link_chunk, starts):  # in order: the serial output order
                yield from rows
                done = min(done + _CHUNK, len(left))
                if progress is not None and time.monotonic() - last >= magic.PROGRESS_SECONDS:
                    last = time.monotonic()
                    progress(done, len(left))
    finally:
        _SHARED.clear()
    if progress is not None:
        progress(len(left), len(left))


def _link_chunk(start: int) -> list[Link]:
    """In a worker: the links of the left records from ``start`` (prepared here, unless deduplicating)."""
    index: CandidateIndex = _SHARED["index"]
    raw = _SHARED["left"][start:start + _CHUNK]
    chunk = raw if _SHARED["dedup"] else [prepare(r, check_names=False) for r in raw]
    threshold = _SHARED["threshold"]
    return list(_above(_scored(index, chunk, _SHARED["other"], _SHARED["dedup"], threshold, None, start), threshold))
