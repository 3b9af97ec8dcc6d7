"""The candidate index (matching/index.py) and the batch linker (matching/link.py)."""

from __future__ import annotations

import json
from array import array

import pytest

from matching import index as index_module
from matching import magic
from matching.frequency import WHOLE_NAME
from matching.index import CandidateIndex, blocking_keys, key_hash
from matching.link import link
from matching.record import Prepared, prepare


def person(pid: str, family: str, given: str, dob: str | None = "1980-03-14", doc: str | None = None,
           sex: str = "male") -> dict:
    rec: dict = {"id": pid, "names": [{"family": family, "given": given, "full": f"{family} {given}"}], "sex": sex}
    if dob:
        rec["birth_date"] = dob
    if doc:
        rec["documents"] = [{"kind": "passport", "number": doc, "country": "KH"}]
    return rec


CROWD = [person(f"c{i}", fam, giv, f"19{50 + i % 45}-{1 + i % 12:02d}-{1 + i % 28:02d}")
         for i, (fam, giv) in enumerate((f, g) for f in ("sok", "chan", "heng", "meas", "keo")
                                        for g in ("dara", "sophea", "vanna", "rithy", "bopha", "chenda",
                                                  "piseth", "visal", "sreymom", "kosal"))]


@pytest.fixture
def index() -> CandidateIndex:
    idx = CandidateIndex()
    for r in CROWD:
        idx.add(r)
    idx.add(person("target", "Nguyen", "Van Minh", "1975-08-21", "C1234567"))
    return idx


def test_query_finds_a_noisy_copy_first_with_an_explanation(index: CandidateIndex) -> None:
    found = index.query(person("q", "Nguyen", "Van Mihn", "1975-08-21"), limit=3)
    assert found and found[0].id == "target"
    assert found[0].probability >= 0.5
    assert {f.name for f in found[0].match.features} >= {"name", "birth_date"}


def test_query_by_document_number_alone_despite_a_different_spelling(index: CandidateIndex) -> None:
    q = person("q", "Nguyễn", "Minh", None, "c 123-4567")
    assert "target" in {c.id for c in index.query(q, limit=5, threshold=0.0)}


def test_limit_threshold_and_order(index: CandidateIndex) -> None:
    found = index.query(person("q", "sok", "dara", "1950-01-01"), limit=4, threshold=0.0)
    assert 0 < len(found) <= 4
    assert [c.probability for c in found] == sorted((c.probability for c in found), reverse=True)
    assert all(c.probability >= 0.3 for c in index.query(person("q", "sok", "dara"), threshold=0.3))


def test_a_record_is_not_its_own_candidate(index: CandidateIndex) -> None:
    assert all(c.id != "c0" for c in index.query(CROWD[0], threshold=0.0))


def test_replace_and_remove(index: CandidateIndex) -> None:
    n = len(index)
    index.replace(person("target", "Tran", "Thi Lan", "1991-01-02"))
    assert len(index) == n
    assert all(c.id != "target" for c in index.query(person("q", "Nguyen", "Van Minh", "1975-08-21")))
    assert index.query(person("q", "Tran", "Thi Lan", "1991-01-02"))[0].id == "target"
    assert index.remove("target") and not index.remove("target")
    assert "target" not in index and len(index) == n - 1
    assert index.query(person("q", "Tran", "Thi Lan", "1991-01-02")) == []
    index.replace(person("new", "Ly", "Sovann"))  # replace of an unknown id adds it
    assert "new" in index


def test_add_refuses_a_duplicate_id(index: CandidateIndex) -> None:
    with pytest.raises(KeyError):
        index.add(person("target", "x", "y"))
    with pytest.raises(ValueError, match="no id"):
        index.add({"names": [{"full": "Sok Dara"}]})


def test_postings_stay_compact_through_add_and_remove() -> None:
    idx = CandidateIndex()
    idx.add(person("a", "Sok", "Dara"))
    key = key_hash(sorted(t for t in blocking_keys(prepare(person("a", "Sok", "Dara"))) if t.startswith("n:"))[0])
    assert isinstance(idx._postings[key], int)
    idx.add(person("b", "Sok", "Dara"))
    assert isinstance(idx._postings[key], array)
    idx.remove("b")
    assert isinstance(idx._postings[key], int)
    idx.remove("a")
    assert idx._postings == {}


def test_oversized_blocks_are_skipped_but_compound_keys_keep_recall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "BLOCK_CAP", 5)
    idx = CandidateIndex()
    for i in range(40):  # 40 "Sok" with various given names and dates: the "sok" block is over the cap
        idx.add(person(f"s{i}", "Sok", f"name{chr(97 + i % 26)}{chr(97 + i // 26)}", f"19{60 + i % 30}-05-06"))
    idx.add(person("t", "Sok", "Kosal", "1984-02-09"))
    q = prepare(person("q", "Sok", "Kosal", None))  # no date: only the name pair key can find it
    cands = idx.candidates(q)
    assert len(cands) < 10
    assert idx._by_id["t"] in cands


def test_online_query_scores_at_most_the_candidate_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(magic, "SMALL_BLOCK", 2)
    idx = CandidateIndex()
    for r in CROWD:
        idx.add(r)
    q = prepare(person("q", "sok", "dara", "1950-01-01"))
    capped = idx.candidates(q, budget=3)
    everything = idx.candidates(q)
    assert len(capped) == 3 and capped < everything
    assert idx._by_id["c0"] in capped  # "sok dara" shares the most keys with the query


def test_token_frequency_needs_enough_records(index: CandidateIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    assert index.token_frequency("sok") == 0.0
    monkeypatch.setattr(magic, "TF_MIN_RECORDS", 10)
    assert index.token_frequency("sok") == pytest.approx(10 / len(index))


def test_whole_names_are_counted_and_uncounted(monkeypatch: pytest.MonkeyPatch) -> None:
    # the exact-name adjustment reads these counts (matching/frequency.py): add, replace and remove keep them true
    monkeypatch.setattr(magic, "TF_MIN_RECORDS", 1)
    idx = CandidateIndex()
    for i in range(3):
        idx.add(person(f"d{i}", "Sok", "Dara", f"19{70 + i}-01-02"))
    idx.add(person("k", "Kim", "Dara", "1980-01-02"))
    whole = WHOLE_NAME + "dara sok"
    assert idx.token_frequency(whole) == pytest.approx(3 / 4) and idx.token_frequency("dara") == 1.0
    idx.replace(person("d0", "Sok", "Pisey", "1970-01-02"))
    assert idx.token_frequency(whole) == pytest.approx(2 / 4)
    assert idx.token_frequency(WHOLE_NAME + "pisey sok") == pytest.approx(1 / 4)
    assert idx.remove("d1") and idx.remove("d0")
    assert idx.token_frequency(whole) == pytest.approx(1 / 2)
    assert idx.token_frequency(WHOLE_NAME + "pisey sok") == 0.0
    assert key_hash(WHOLE_NAME + "pisey sok") not in idx.export_state().token_counts  # no zero counts are left


def test_link_two_lists_and_dedup_each_pair_once() -> None:
    left = [person("l1", "Nguyen", "Van Minh", "1975-08-21"), person("l2", "Sok", "Dara", "1988-02-03")]
    right = [person("r1", "Nguyen", "Van Minh", "1975-08-21"), person("r2", "Heng", "Bopha", "1960-10-10")]
    assert [(x.left_id, x.right_id) for x in link(left, right)] == [("l1", "r1")]
    rows = list(link([*left, *right], None))
    assert [(x.left_id, x.right_id) for x in rows] == [("l1", "r1")]
    assert all(0.5 <= x.probability <= 1.0 for x in rows)


def test_link_survives_messy_records_and_reports_progress() -> None:
    seen: list[tuple[int, int]] = []
    messy = [{"id": "m1", "names": "oops"}, {"id": "m2"}, json.loads('{"id": "m3", "names": [null]}'),
             person("m4", "Sok", "Dara")]
    rows = list(link(messy, [person("x", "Sok", "Dara")], progress=lambda d, t: seen.append((d, t))))
    assert [(r.left_id, r.right_id) for r in rows] == [("m4", "x")]
    assert seen[-1] == (4, 4)


# --- speed work must not change which records meet ----------------------------------------------------
def golden_records() -> list[dict]:
    """3,020 records over the names of test_matching_names.golden_names, with dates, documents, addresses and
    aliases drawn so that keys collide often (shared dates, numbers, postcodes)."""
    import random

    from tests.test_matching_names import GOLDEN_SYLLABLES, golden_names

    rng = random.Random(5)
    out = []
    for i, x in enumerate(golden_names()):
        r: dict = {"id": f"r{i}", "names": [{"full": x}]}
        if rng.random() < 0.7:
            r["birth_date"] = rng.choice(["1980-03-14", "1980-14-03", "1980", "1975-08-21", "1975-21-08", "1979-04"])
        if rng.random() < 0.5:
            r["documents"] = [{"kind": "passport", "number": rng.choice(["N1234567", "N 123-4567", "C7654321",
                                                                          "123456789"]), "country": "KH"}]
        if rng.random() < 0.3:
            postcode = rng.choice(["12000", "10110"])
            r["addresses"] = [{"line": "12 street", "locality": "Phnom Penh", "postcode": postcode,
                               "country": "KH"}]
        if rng.random() < 0.3:
            r["names"].append({"family": rng.choice(GOLDEN_SYLLABLES), "given": rng.choice(GOLDEN_SYLLABLES),
                               "kind": "alias"})
        out.append(r)
    return out


def test_blocking_keys_and_candidates_equal_those_before_the_speed_work() -> None:
    """Digests computed by the code before the speed work (commit cce952b: no cached key parts, Counter
    only); they do not depend on the model's weights. Change them only on purpose (see test_matching_names)."""
    from tests.test_matching_names import digest

    recs = golden_records()
    assert digest([sorted(blocking_keys(prepare(r, check_names=False))) for r in recs]) == "87750ff774a8b1f7"
    idx = CandidateIndex()
    assert idx.add_many(recs) == len(recs)
    cands = [sorted(idx.candidates(prepare(r, check_names=False), 50)) for r in recs[:400]]
    assert digest(cands) == "b658e8de1f5e22ad"


def test_vectorised_candidate_count_equals_counter_most_common() -> None:
    """``_most_shared`` (numpy) must pick exactly what Counter.most_common picks, ties included."""
    import random
    from collections import Counter

    from matching.index import _most_shared

    rng = random.Random(2)
    for _ in range(300):
        larger = [(0, "", array("i", (rng.randrange(60) for _ in range(rng.randint(11, 200)))))
                  for _ in range(rng.randint(1, 6))]
        budget = rng.choice([None, 1, 5, 20, 50])
        counts: Counter[int] = Counter()
        for _, _, posting in larger:
            counts.update(posting)
        expected = set(counts) if budget is None else {i for i, _ in counts.most_common(budget)}
        assert _most_shared(larger, budget) == expected


def test_add_many_equals_add_one_by_one_and_restores_the_collector() -> None:
    import gc

    one, many = CandidateIndex(), CandidateIndex()
    for r in CROWD:
        one.add(r)
    gc.disable()
    try:
        many.add_many(CROWD)
        assert not gc.isenabled()   # left as it was
    finally:
        gc.enable()
    many2 = CandidateIndex()
    many2.add_many(iter(CROWD))
    assert gc.isenabled()
    assert posting_lists(one) == posting_lists(many) == posting_lists(many2)
    q = person("q", "sok", "dara", "1950-01-01")
    assert [(c.id, c.probability) for c in one.query(q, threshold=0.0)] == \
        [(c.id, c.probability) for c in many.query(q, threshold=0.0)]
    with pytest.raises(KeyError):   # a repeated id fails as add does, and collection is back on
        many2.add_many([CROWD[0]])
    assert gc.isenabled()


@pytest.mark.parametrize("dedup", [False, True])
def test_link_with_workers_gives_the_serial_rows_in_the_serial_order(dedup: bool) -> None:
    """Forked scoring (``workers``) must not change a single row, its probability or the order: 3,020 records
    whose keys collide often, cut into many chunks, linked left against right and deduplicated."""
    records = golden_records()
    left, right = (records, None) if dedup else (records[::2], records[1::2])
    seen: list[tuple[int, int]] = []
    serial = list(link(left, right, threshold=0.3))
    forked = list(link(left, right, threshold=0.3, workers=3, progress=lambda d, t: seen.append((d, t))))
    assert len(serial) > 100
    assert forked == serial
    assert seen[-1] == (len(left), len(left))


def posting_lists(idx: CandidateIndex) -> dict[int, tuple[int, ...]]:
    """The list of ids under each key hash as queries see it: the base's (bulk loads), unless changed since."""
    state = idx.export_state()
    out = {}
    if state.base is not None:
        b = state.base
        for j, h in enumerate(b.keys.tolist()):
            out[h] = tuple(b.ids[b.starts[j]:b.starts[j + 1]].tolist())
    for h, cur in state.postings.items():
        ids = (cur,) if isinstance(cur, int) else tuple(cur)
        if ids:
            out[h] = ids
        else:
            out.pop(h, None)
    return out


def _contents(idx: CandidateIndex) -> tuple:
    """Everything an index files, records compared by their prepared form (prepared now where still text)."""
    state = idx.export_state()
    records = [idx.get(p.id) if p is not None else None for p in state.records]
    return records, posting_lists(idx), dict(state.token_counts), len(idx)


def _answers(idx: CandidateIndex, queries: list[dict]) -> list[list[tuple]]:
    return [[(c.id, c.probability, c.match.features) for c in idx.query(q, limit=20, threshold=0.05)]
            for q in queries]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bulk_load_files_what_adding_one_by_one_files(workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """3,020 records whose keys collide often, loaded in bulk (in process or in forked workers, as objects or
    as JSON text, in more than one chunk) then added to: the same postings in the same order, the same counts,
    the same records and the same answers as ``add`` one by one."""
    monkeypatch.setattr(index_module, "_BULK_CHUNK", 400)
    records = golden_records()
    queries = [{**r, "id": f"q{i}"} for i, r in enumerate(records[::37])]
    one = CandidateIndex()
    for r in records:
        one.add(r)
    seen: list[int] = []
    bulk = CandidateIndex()
    half = len(records) // 2
    assert bulk.add_many(records[:half], workers=workers, progress=seen.append) == half
    assert bulk.add_many((json.dumps(r) for r in records[half:]), workers=workers) == len(records) - half
    assert seen[-1] == half and len(seen) > 1  # more than one chunk
    lazy = sum(not isinstance(p, Prepared) for p in bulk.export_state().records)
    assert lazy == (len(records) if workers > 1 else 0)  # worker loads leave records as text until used
    multi = [p for p in posting_lists(one).values() if len(p) > 1]
    assert len(multi) > 100 and max(map(len, multi)) > 50  # the second load merged into long postings
    assert bulk.export_state().base is not None and not bulk.export_state().postings
    assert _answers(bulk, queries) == _answers(one, queries)
    assert _contents(bulk) == _contents(one)
    for r in records[:200:7]:  # removal and replacement of records still held as text
        assert bulk.remove(r["id"]) and one.remove(r["id"])
    bulk.replace({**records[300], "names": [{"full": "Sok Dara"}]})
    one.replace({**records[300], "names": [{"full": "Sok Dara"}]})
    assert _contents(bulk) == _contents(one)


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("bad", ["no id", "twice", "indexed", "not json"])
def test_a_bulk_load_with_a_bad_record_adds_nothing(workers: int, bad: str) -> None:
    idx = CandidateIndex()
    idx.add_many(CROWD[:10], workers=workers)
    before = _contents(idx)
    batch: list = [json.dumps(r) for r in CROWD[10:]]
    if bad == "no id":
        batch.insert(7, {"names": [{"full": "Sok Dara"}]})
    elif bad == "twice":
        batch.append(CROWD[12])
    elif bad == "indexed":
        batch.append(CROWD[3])
    else:
        batch.insert(2, '{"id": "x", "names": [')
    with pytest.raises(ValueError if bad in ("no id", "not json") else KeyError) as err:
        idx.add_many(batch, workers=workers)
    assert "Sok" not in str(err.value) and "Dara" not in str(err.value)
    assert _contents(idx) == before


def test_key_hashes_are_stable_and_take_any_text() -> None:
    """The hash is the file format of saved indexes: it must not change between processes or versions."""
    assert (key_hash("n:j:sokdara"), key_hash("=dara sok")) == (0xbca130a9047b5c38, 0x8cc5c13188aa3523)
    assert key_hash("n:p:\ud800x") != key_hash("n:p:x")  # a lone surrogate is hashed, not an error
    keys = ["n:p:x", "n:p:\ud800x", "doc:123", "n:p:đa"]
    assert index_module._hashes(keys).tolist() == [key_hash(k) for k in keys] != []
    assert index_module._hashes(keys[::2]).tolist() == [key_hash(k) for k in keys[::2]]
    assert len({key_hash(f"doc:{i}") for i in range(100_000)}) == 100_000


def test_a_record_that_json_cannot_hold_is_loaded_as_far_as_it_can_be_read() -> None:
    import datetime as dt

    rec = {**CROWD[0], "id": "odd", "birth_place": dt.date(2000, 1, 1)}
    bulk, one = CandidateIndex(), CandidateIndex()
    bulk.add_many([rec], workers=2)
    one.add({**rec, "birth_place": None})
    assert _contents(bulk) == _contents(one)
    # a key JSON cannot hold (not text) is left out, as prepare never reads it, instead of failing the load
    odd_key = {**CROWD[1], "id": "odd-key", "extra": {(1, 2): "x"}, (3, 4): "y"}
    bulk.add_many([odd_key], workers=2)
    one.add(odd_key)
    assert _contents(bulk) == _contents(one)


@pytest.mark.parametrize("workers", [1, 2])
def test_changes_after_a_bulk_load_read_as_changes_to_an_index_built_one_by_one(workers: int) -> None:
    """Random adds, removals and replacements over a bulk-loaded index (lists in the base, changes beside it,
    base lists emptied and filled again), then a second bulk load on top (one base again): at every step the
    same lists and answers as the same changes made to an index built one record at a time."""
    import random

    rng = random.Random(9)
    records = golden_records()[:900]
    queries = [{**r, "id": f"q{i}"} for i, r in enumerate(records[::45])]
    bulk, one = CandidateIndex(), CandidateIndex()
    bulk.add_many(records[:600], workers=workers)
    for r in records[:600]:
        one.add(r)
    live = [r["id"] for r in records[:600]]
    twins = [r for r in records[:600] if r.get("documents")][:3]
    for _ in range(3):
        for _ in range(60):
            op = rng.random()
            if op < 0.4:
                rid = live.pop(rng.randrange(len(live)))
                assert bulk.remove(rid) and one.remove(rid)
            elif op < 0.7:
                other = rng.choice(records)
                new = {**rng.choice(records[:600]), "id": rng.choice(live), "names": other["names"]}
                bulk.replace(new)
                one.replace(new)
            else:
                new = {**rng.choice(records), "id": f"n{rng.randrange(10**9)}"}
                bulk.add(new)
                one.add(new)
                live.append(new["id"])
        assert posting_lists(bulk) == posting_lists(one)
        assert _answers(bulk, queries) == _answers(one, queries)
    for r in twins:  # every record under a document key removed, then one filed again: an emptied base list
        if r["id"] in live:
            assert bulk.remove(r["id"]) and one.remove(r["id"])
            live.remove(r["id"])
    emptied = [p for p in bulk.export_state().postings.values() if isinstance(p, array) and not p]
    assert emptied
    again = {**twins[0], "id": "again"}
    bulk.add(again)
    one.add(again)
    assert posting_lists(bulk) == posting_lists(one)
    bulk.add_many(records[600:], workers=workers)
    for r in records[600:]:
        one.add(r)
    assert not bulk.export_state().postings  # everything in one base again
    assert posting_lists(bulk) == posting_lists(one)
    assert _answers(bulk, queries) == _answers(one, queries)
    assert _contents(bulk) == _contents(one)
