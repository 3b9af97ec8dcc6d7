"""The candidate index: blocking keys and posting lists for online queries and batch linking.

A record is indexed under every blocking key it yields (``blocking_keys``):

    n:<token>          every name blocking token (folded spelling, phonetic code, transliterations: names.py)
    doc:/docd:<number> document numbers, OCR-folded, and their digits alone (documents.py)
    ds:<digits>        a document number's characters sorted (a transposition still meets)
    b:<y>:<lo>:<hi>    a full birth date with day and month sorted, so a day/month swap still meets
    a:<postcode>:<c>   a postcode with the initial of a name token
    y:<token>:<year>   a token of the first name with the birth year  } compound keys: small even when a
    p:<token>:<token>  two tokens of the first name                   } token alone is common ("nguyen")

A query takes every record of the short posting lists of its keys (at most ``SMALL_BLOCK`` entries: a
document number, a birth date, a rare name pair), skips lists longer than ``BLOCK_CAP`` (a common token
alone; its compound keys, which need two things to agree, cover it) and, from the lists in between, takes
the ``budget`` records that share the most keys with the query (``QUERY_MAX_CANDIDATES`` online,
``LINK_MAX_CANDIDATES`` per record in a batch link). Recall matters more than speed here: a true match
blocking misses is a missed abuser, so the caps are set by measured blocking recall (docs/matching.md).

Memory: records get dense int ids; a key is filed under its stable 64-bit hash (``key_hash``: xxh3, so a
saved index reads the same in another process), a posting list is one int while it has one entry and an
``array('i')`` after, and a record keeps its ``Prepared`` form so nothing is read twice.

Bulk loads (``add_many``) can compute the keys in forked worker processes (``workers=N``): a worker reads
chunks of records and returns only their ids and key hashes (numpy arrays, cheap to send), and the index
files them all at once, sorted. The records themselves stay as their JSON text (``Unprepared``) and are
prepared on first use, by a query that scores them, ``get`` or ``remove``: sending a prepared record back
from a worker costs as much as preparing it.
"""

from __future__ import annotations

import gc
import itertools
import json
import multiprocessing
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any, NamedTuple

import numpy as np
import orjson
import xxhash

from . import magic
from .documents import document_blocking_keys
from .frequency import frequency_keys
from .model import Match, Model, default_model
from .names import blocking_tokens
from .record import Prepared, prepare

Posting = int | array

_xxh3 = xxhash.xxh3_64_intdigest


def key_hash(key: str) -> int:
    """The stable 64-bit hash a blocking key or a counted name value is filed under (xxh3 of its UTF-8).

    Two different keys sharing a hash (about one chance in 10^6 among ten million keys) only merge two posting
    lists or two counts: more candidates, never fewer."""
    return _xxh3(key.encode("utf-8", "surrogatepass"))


def _hashes(keys: list[str]) -> np.ndarray:
    """``key_hash`` of each key, as uint64 (strict UTF-8 first: the same bytes, a third faster, for any key
    without a lone surrogate)."""
    try:
        return np.fromiter(map(_xxh3, map(str.encode, keys)), np.uint64, len(keys))
    except UnicodeEncodeError:
        return np.fromiter(map(key_hash, keys), np.uint64, len(keys))


class Unprepared(NamedTuple):
    """A record filed by a bulk load in worker processes, prepared on first use: its id and JSON text."""

    id: str
    text: str


def blocking_keys(p: Prepared) -> set[str]:
    """Every key ``p`` is filed under (see the module docstring)."""
    keys: set[str] = set()
    for name in p.names:
        keys |= blocking_tokens(name, "n:")
    for doc in p.documents:
        keys.update(document_blocking_keys(doc))
    bd = p.birth_date
    if bd is not None and bd.month is not None and bd.day is not None:
        lo, hi = (bd.month, bd.day) if bd.month <= bd.day else (bd.day, bd.month)
        keys.add(f"b:{bd.year}:{lo}:{hi}")
    for doc in p.documents:  # two neighbouring digits swapped still meet
        if len(doc.folded) >= magic.DOC_SORTED_MIN:
            keys.add("ds:" + "".join(sorted(doc.folded)))
    if not p.names:
        return keys
    tokens, pairs = _compound(p.names[0].sorted_tokens)
    keys.update(pairs)
    if p.addresses:
        initials = {t[0] for t in tokens}
        for postcode in {a.postcode for a in p.addresses if a.postcode}:
            keys.update(f"a:{postcode}:{i}" for i in initials)
    if bd is not None:
        keys.update(f"y:{t}:{bd.year}" for t in tokens)
    return keys


@lru_cache(maxsize=1 << 16)
def _compound(sorted_tokens: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The first name's distinct tokens used for compound keys (at most COMPOUND_MAX_TOKENS, sorted) and the
    ``p:`` keys of their pairs; cached by the name's sorted tokens, which a population repeats."""
    tokens = tuple(sorted(set(sorted_tokens))[: magic.COMPOUND_MAX_TOKENS])
    return tokens, tuple(f"p:{a}:{b}" for a, b in combinations(tokens, 2))


# From this many posting entries on, ``candidates`` counts with numpy (same result, 2-3 times faster).
_VECTOR_FROM = 256


def _most_shared(larger: list[tuple[int, str, array | np.ndarray]], budget: int | None) -> set[int]:
    """The ``budget`` ids occurring most often in the postings, ties to the one seen first (the order of
    ``larger``): exactly ``Counter.most_common``, whose sort is stable, computed with numpy."""
    buf = array("i")  # a private copy: a numpy view of a live posting would block its growth
    for _, _, posting in larger:
        if isinstance(posting, array):
            buf.extend(posting)
        else:
            buf.frombytes(posting.tobytes())
    ids, first, counts = np.unique(np.frombuffer(buf, dtype=np.int32), return_index=True, return_counts=True)
    if budget is not None and len(ids) > budget:
        ids = ids[np.lexsort((first, -counts))[:budget]]
    return set(ids.tolist())


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load of acyclic objects (reference counting still frees
    garbage); it is re-enabled afterwards only if it was enabled before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True, repr=False)
class Base:
    """Posting lists filed by bulk loads, as three numpy arrays (compressed sparse rows): ``keys`` the distinct
    key hashes in ascending order (uint64), ``starts`` where each key's ids begin in ``ids`` (int64, one more
    entry than ``keys``, the last ``len(ids)``), ``ids`` the internal ids (int32, ascending within a key).
    A million records' lists take about 100 MB this way, against 500 MB as a dict of ints and arrays."""

    keys: np.ndarray
    starts: np.ndarray
    ids: np.ndarray

    @classmethod
    def build(cls, hashes: np.ndarray, iids: np.ndarray) -> Base:
        """From (key hash, internal id) pairs, ids ascending within each key in the given order: sorted by hash
        (stable, so that order stays; a merge where the pairs come as sorted runs)."""
        order = np.argsort(hashes, kind="stable")
        hashes, iids = hashes[order], iids[order]
        del order
        cut = np.flatnonzero(hashes[1:] != hashes[:-1]) + 1
        first = np.concatenate(([0], cut)) if len(hashes) else cut
        return cls(hashes[first], np.append(first, len(hashes)).astype(np.int64), iids.astype(np.int32))

    def find(self, h: int) -> np.ndarray | None:
        """The ids filed under key hash ``h`` (a read-only view), or None."""
        j = int(self.keys.searchsorted(np.uint64(h)))
        if j < len(self.keys) and int(self.keys[j]) == h:
            return self.ids[self.starts[j]:self.starts[j + 1]]
        return None

    def pairs(self, without: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every (key hash, id) pair, in order, but those of the keys in ``without`` (uint64)."""
        keep = ~np.isin(self.keys, without)
        per_entry = np.repeat(keep, np.diff(self.starts))
        return np.repeat(self.keys, np.diff(self.starts))[per_entry], self.ids[per_entry]


@dataclass(frozen=True, slots=True, repr=False)  # a repr would print every record
class IndexState:
    """Everything a ``CandidateIndex`` holds besides its model, for saving it and building it again without
    preparing any record (``CandidateIndex.export_state`` / ``from_state``). ``records`` is indexed by internal
    id, with ``None`` where a record was removed and an ``Unprepared`` record where a bulk load left it as text;
    ``base`` holds the posting lists filed by bulk loads (``Base``), and ``postings`` those changed or added
    since, each of which replaces the base's list of its key: it maps a key's ``key_hash`` to an int while the
    list has one entry, else an ``array('i')`` of internal ids in ascending order (empty where every id of a
    base list was removed); ``token_counts`` counts, by ``key_hash``, the records holding each folded name token
    and each whole name (``frequency.frequency_keys``)."""

    records: list[Prepared | Unprepared | None]
    postings: dict[int, Posting]
    token_counts: Counter[int]
    base: Base | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    probability: float
    match: Match


class CandidateIndex:
    """Records by id with their blocking keys; ``query`` returns scored, explained candidates."""

    def __init__(self, model: Model | None = None) -> None:
        self._model = model
        self._records: list[Prepared | Unprepared | None] = []
        self._by_id: dict[str, int] = {}
        self._postings: dict[int, Posting] = {}  # changed or added since the base; each replaces its base list
        self._base: Base | None = None
        self._token_counts: Counter[int] = Counter()
        self._live = 0

    def __len__(self) -> int:
        return self._live

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._by_id

    @property
    def model(self) -> Model:
        if self._model is None:
            self._model = default_model()
        return self._model

    def add(self, record: Any) -> Prepared:
        """Index a raw person record; its id must be new (use ``replace`` for a new version)."""
        return self._add(prepare(record, check_names=False))

    def add_many(self, records: Iterable[Any], workers: int = 1,
                 progress: Callable[[int], None] | None = None) -> int:
        """Index many records whose ids are new (loading a register); returns how many were added.

        A record is a person record object or its JSON text. All or nothing: a record without an id, or with an
        id already indexed or given twice, raises (ValueError, KeyError) and adds none of them. The keys are
        computed ``_BULK_CHUNK`` (2,000) records at a time, with ``workers > 1`` in that many forked processes (where
        ``fork`` exists), which leave each record as its JSON text until first used (``Unprepared``); then all
        are filed at once. Either way the index holds the same keys, postings and counts as after ``add`` one by
        one. ``progress`` is called with the number of records read so far after each chunk.

        Python's cyclic garbage collector is paused meanwhile: loading creates millions of objects and no
        reference cycles, and each full collection would walk all of them (it cost a fifth of the build time).
        Collection resumes, as it was, when the load ends or fails.
        """
        with gc_paused():
            batch = _Batch(len(self._records))
            forked = workers > 1 and "fork" in multiprocessing.get_all_start_methods()
            parts = chunks(records, _BULK_CHUNK)
            if forked:
                results: Iterable[tuple[list[Any], _ChunkKeys]] = _keys_in_workers(parts, workers)
            else:
                results = ((chunk, _chunk_keys(chunk, keep=True)) for chunk in parts)
            for chunk, keys in results:
                batch.take(chunk, keys)
                if progress is not None:
                    progress(batch.count)
            self._commit(batch)
        return batch.count

    def _commit(self, batch: _Batch) -> None:
        """File a bulk load's records, keys and counts, or raise before changing anything."""
        ids = batch.ids
        by_id = dict(zip(ids, range(batch.base, batch.base + len(ids)), strict=True))
        if "" in by_id:
            raise ValueError(f"record {ids.index('')} has no id")
        if len(by_id) < len(ids) or not self._by_id.keys().isdisjoint(by_id):
            raise KeyError("id already indexed or given twice; use replace()")
        self._records.extend(batch.records)
        self._by_id.update(by_id)
        self._live += len(ids)
        if batch.key_hashes:
            self._rebase(batch.key_hashes, batch.key_iids)
            values, counts = np.unique(np.concatenate(batch.freq_hashes), return_counts=True)
            self._token_counts.update(dict(zip(values.tolist(), counts.tolist(), strict=True)))

    def _rebase(self, hashes: list[np.ndarray], iids: list[np.ndarray]) -> None:
        """Make one base of the lists filed so far and the (key hash, id) pairs of a bulk load, whose ids are
        all above those filed: the old base's pairs (but of keys changed since), then the changed lists', then
        the new ones, so every list stays in ascending order. Empties ``hashes`` and ``iids`` (the batch's
        arrays: their memory goes as soon as they are joined)."""
        first_h: list[np.ndarray] = []
        first_i: list[np.ndarray] = []
        if self._base is not None:
            old_h, old_i = self._base.pairs(np.fromiter(self._postings, np.uint64, len(self._postings)))
            first_h.append(old_h)
            first_i.append(old_i)
        if self._postings:
            changed_h: list[int] = []
            changed_i: list[int] = []
            for h, cur in self._postings.items():
                ids = (cur,) if isinstance(cur, int) else cur
                changed_h.extend(itertools.repeat(h, len(ids)))
                changed_i.extend(ids)
            first_h.append(np.array(changed_h, np.uint64))
            first_i.append(np.array(changed_i, np.int32))
        all_h, all_i = np.concatenate(first_h + hashes), np.concatenate(first_i + iids)
        hashes.clear()
        iids.clear()
        self._base, self._postings = Base.build(all_h, all_i), {}

    def _posting(self, h: int) -> Posting | np.ndarray | None:
        """The ids filed under key hash ``h``: its changed list, else its base list, else None."""
        cur = self._postings.get(h)
        if cur is None and self._base is not None:
            return self._base.find(h)
        return cur

    def _own(self, h: int) -> Posting | None:
        """The list of ``h`` to change: the changed one, or a copy of the base list (int if one id)."""
        cur = self._postings.get(h)
        if cur is not None or self._base is None:
            return cur
        found = self._base.find(h)
        if found is None or len(found) == 0:
            return None
        if len(found) == 1:
            return int(found[0])
        copy = array("i")
        copy.frombytes(found.tobytes())
        return copy

    def _add(self, p: Prepared) -> Prepared:
        if not p.id:
            raise ValueError("record has no id")
        if p.id in self._by_id:
            raise KeyError("id already indexed; use replace()")
        self.add_prepared(p)
        return p

    def add_prepared(self, p: Prepared, unique_id: bool = True) -> int:
        """Index an already prepared record and return its internal int id.

        ``unique_id=False`` is for batch linking, where a file may repeat an id: every row is indexed and
        the id map keeps the last one.
        """
        if unique_id and p.id in self._by_id:
            raise KeyError("id already indexed; use replace()")
        iid = len(self._records)
        self._records.append(p)
        self._by_id[p.id] = iid
        self._live += 1
        postings = self._postings
        for key in blocking_keys(p):
            h = key_hash(key)
            cur = self._own(h)
            if cur is None or (isinstance(cur, array) and not cur):  # new, or a base list emptied by removals
                postings[h] = iid
            elif isinstance(cur, int):
                postings[h] = array("i", (cur, iid))
            else:
                cur.append(iid)
                postings[h] = cur
        self._token_counts.update(map(key_hash, frequency_keys(p)))
        return iid

    def replace(self, record: Any) -> Prepared:
        """Index a new version of a record, dropping the old one (adds it if the id is new)."""
        p = prepare(record, check_names=False)
        if p.id in self._by_id:
            self.remove(p.id)
        return self._add(p)

    def remove(self, record_id: str) -> bool:
        """Forget a record; returns False if the id was not indexed."""
        iid = self._by_id.pop(record_id, None)
        if iid is None:
            return False
        p = self._prepared(iid)
        assert p is not None
        self._records[iid] = None
        self._live -= 1
        for key in blocking_keys(p):
            h = key_hash(key)
            cur = self._own(h)
            if isinstance(cur, int):
                if cur != iid:
                    continue
                if self._base is not None and self._base.find(h) is not None:
                    self._postings[h] = array("i")  # emptied: the base list must not show through
                else:
                    del self._postings[h]
            elif cur is not None:
                cur.remove(iid)
                self._postings[h] = cur[0] if len(cur) == 1 else cur
        for token in frequency_keys(p):
            h = key_hash(token)
            left = self._token_counts[h] - 1
            if left > 0:
                self._token_counts[h] = left
            else:
                del self._token_counts[h]
        return True

    def _prepared(self, iid: int) -> Prepared | None:
        """The record of internal id ``iid`` (None if removed), prepared now if a bulk load left it as text."""
        item = self._records[iid]
        if item is None or isinstance(item, Prepared):
            return item
        p = prepare(_parse(item.text), check_names=False)
        self._records[iid] = p
        return p

    def export_state(self) -> IndexState:
        """The index's contents, by reference (no copy): the caller must not change them, and must read them
        before the index changes (a forked child process sees them as they were at the fork)."""
        return IndexState(self._records, self._postings, self._token_counts, self._base)

    @classmethod
    def from_state(cls, state: IndexState, model: Model | None = None) -> CandidateIndex:
        """An index holding ``state`` (from ``export_state``), as it was: same internal ids, same postings, so
        the same candidates and scores. The id map is rebuilt from the records; ``state`` is adopted, not
        copied. Raises ValueError if two live records share an id (only a batch link's index may hold such
        rows, and it is never saved)."""
        index = cls(model)
        by_id = {p.id: iid for iid, p in enumerate(state.records) if p is not None}
        live = len(state.records) - state.records.count(None)
        if len(by_id) != live:
            raise ValueError("state holds two live records with one id")
        index._records, index._postings, index._token_counts = state.records, state.postings, state.token_counts
        index._base = state.base
        index._by_id, index._live = by_id, live
        return index

    def get(self, record_id: str) -> Prepared | None:
        iid = self._by_id.get(record_id)
        return None if iid is None else self._prepared(iid)

    def token_frequency(self, token: str) -> float:
        """Share of indexed records whose names contain ``token``, a folded name token or a whole name
        (``frequency.WHOLE_NAME`` and its sorted tokens); 0 while the index is too small to tell."""
        if self._live < magic.TF_MIN_RECORDS:
            return 0.0
        return self._token_counts.get(key_hash(token), 0) / self._live

    def candidates(self, p: Prepared, budget: int | None = None) -> set[int]:
        """Internal ids of the records sharing a usable blocking key with ``p``.

        Every record from a small block (at most ``SMALL_BLOCK`` entries: a document number, a birth date
        with a name) is kept. From the larger blocks (up to ``BLOCK_CAP``) at most ``budget`` more are kept:
        those sharing the most keys with ``p``, ties going to the rarer keys. ``budget=None`` keeps all.
        """
        sure: set[int] = set()
        larger: list[tuple[int, str, array | np.ndarray]] = []
        for key in blocking_keys(p):
            cur = self._posting(key_hash(key))
            if cur is None:
                continue
            if isinstance(cur, int):
                sure.add(cur)
            elif len(cur) <= magic.SMALL_BLOCK:
                sure.update(cur if isinstance(cur, array) else cur.tolist())
            elif len(cur) <= magic.BLOCK_CAP:
                larger.append((len(cur), key, cur))
        if not larger:
            return sure
        larger.sort(key=lambda x: x[:2])  # rarest first; by key on ties, so runs are reproducible
        if sum(size for size, _, _ in larger) < _VECTOR_FROM:
            counts: Counter[int] = Counter()
            for _, _, posting in larger:
                counts.update(posting if isinstance(posting, array) else posting.tolist())
            if budget is None or len(counts) <= budget:
                return sure | counts.keys()
            return sure | {iid for iid, _ in counts.most_common(budget)}
        return sure | _most_shared(larger, budget)

    def query(self, record: Any, limit: int = 10, threshold: float = magic.QUERY_THRESHOLD) -> list[Candidate]:
        """The best ``limit`` indexed records at or above ``threshold``, most probable first, explained.

        A record in the index with the same id as the query is not its own candidate.
        """
        p = record if isinstance(record, Prepared) else prepare(record, check_names=False)
        return self._score(p, self.candidates(p, magic.QUERY_MAX_CANDIDATES), limit, threshold)

    def _score(self, p: Prepared, ids: Iterable[int], limit: int, threshold: float) -> list[Candidate]:
        model, tf = self.model, self.token_frequency
        found = []
        for iid in ids:
            other = self._records[iid]
            if other is None or (p.id and other.id == p.id):
                continue
            if not isinstance(other, Prepared):
                other = self._prepared(iid)
                assert other is not None
            match = model.score_above(p, other, threshold, tf)
            if match is not None and match.probability >= threshold:
                found.append(Candidate(other.id, match.probability, match))
        found.sort(key=lambda c: (-c.probability, c.id))
        return found[:limit]


# Records a bulk load reads at a time: a worker's task, and the unit of ``progress``.
_BULK_CHUNK = 2000


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items (the last shorter), taken as they come: no copy of the whole input."""
    it = iter(items)
    while part := list(itertools.islice(it, size)):
        yield part


def _parse(text: str) -> Any:
    """A record's JSON text read back; what is not JSON becomes None (prepared as "record is not an object").

    orjson reads it two to three times faster than the standard library; what orjson refuses and the standard
    library reads (NaN, integers beyond 64 bits, escaped lone surrogates) is read by the latter, the same way."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _as_text(record: Any) -> str:
    """The JSON text a worker is sent and an ``Unprepared`` record keeps: a string is taken as it is; values
    JSON cannot hold become null (``prepare`` reads them as absent rather than unreadable) and keys it cannot
    hold are left out (``prepare`` reads only text keys)."""
    if isinstance(record, str):
        return record
    try:
        return json.dumps(dict(record) if isinstance(record, Mapping) and not isinstance(record, dict) else record,
                          ensure_ascii=False, separators=(",", ":"), default=lambda _: None, skipkeys=True)
    except (ValueError, RecursionError):  # a reference cycle, nesting too deep
        return "null"


class _ChunkKeys(NamedTuple):
    """The keys of a chunk of records, as a worker returns them: the records' ids; the hashes of their blocking
    keys, sorted (stable), with the position in the chunk of the record each belongs to; the hashes of their
    counted name values; and, in process, the prepared records. Sorted runs make the final sort cheap."""

    ids: list[str]
    key_hashes: np.ndarray
    key_rows: np.ndarray
    freq_hashes: np.ndarray
    prepared: list[Prepared] | None


def _chunk_keys(items: list[Any], keep: bool) -> _ChunkKeys:
    """Prepare a chunk and hash its keys. Each step runs over the whole chunk before the next (a fifth faster
    than record by record here: each loop stays in one part of the code)."""
    raws = [_parse(x) if isinstance(x, str) else x for x in items]
    ps = [prepare(r, check_names=False, keys_only=not keep) for r in raws]
    keys = [blocking_keys(p) for p in ps]
    freq = [k for p in ps for k in frequency_keys(p)]
    hashes = _hashes([k for ks in keys for k in ks])
    rows = np.repeat(np.arange(len(ps), dtype=np.int32), np.fromiter(map(len, keys), np.int64, len(keys)))
    order = np.argsort(hashes, kind="stable")
    return _ChunkKeys([p.id for p in ps], hashes[order], rows[order], _hashes(freq), ps if keep else None)


def _worker_chunk(texts: list[str]) -> _ChunkKeys:
    return _chunk_keys(texts, keep=False)


def _keys_in_workers(chunks: Iterator[list[Any]], workers: int) -> Iterator[tuple[list[Any], _ChunkKeys]]:
    """(texts, keys) of each chunk, in order, the keys computed by ``workers`` forked processes. The chunks are
    read and turned into text by the pool's feeder thread as the workers ask for them."""
    sent: dict[int, list[str]] = {}

    def texts() -> Iterator[list[str]]:
        for n, chunk in enumerate(chunks):
            sent[n] = [_as_text(r) for r in chunk]
            yield sent[n]

    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for n, keys in enumerate(pool.imap(_worker_chunk, texts())):
            yield sent.pop(n), keys


class _Batch:
    """What a bulk load has read so far, filed all at once by ``CandidateIndex._commit``."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.ids: list[str] = []
        self.records: list[Prepared | Unprepared] = []
        self.key_hashes: list[np.ndarray] = []
        self.key_iids: list[np.ndarray] = []
        self.freq_hashes: list[np.ndarray] = []

    @property
    def count(self) -> int:
        return len(self.ids)

    def take(self, chunk: list[Any], keys: _ChunkKeys) -> None:
        self.key_iids.append(keys.key_rows + (self.base + len(self.ids)))
        self.ids.extend(keys.ids)
        if keys.prepared is not None:
            self.records.extend(keys.prepared)
        else:
            self.records.extend(map(Unprepared, keys.ids, chunk))
        self.key_hashes.append(keys.key_hashes)
        self.freq_hashes.append(keys.freq_hashes)
