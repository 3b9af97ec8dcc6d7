"""Benchmark of the matching engine against a plain rapidfuzz baseline, measured in the same run.

    .venv/bin/python bench/bench_matching.py [--records N] [--link-records N] [--queries N] [--json PATH]

(a) link two sets of 5,000 records end to end (prepare, block, score) vs brute-force Jaro-Winkler
    best-match on full name plus birth-date equality (rapidfuzz ``process.cdist``, both cores);
(b) build a ``CandidateIndex`` of N synthetic records (default 1,000,000) from their JSON lines, the form a
    register export or the database gives, with ``add_many(workers=W)`` (default: one per core): time, CPU of
    all its processes and peak RSS, measured in a child process so that nothing else counts; and, in the same
    child, 200,000 records built in one process and in W, for the ratio on the same machine at the same hour;
    and, in four more children right after, each a fresh process, the same 200,000 in one process compiled and
    in plain Python (``MATCHING_PURE=1``), alternately, twice: the ratio of the compiled modules
    (matching/compiled.py) to the source they are compiled from, the faster of each two (the machine is shared);
(c) online query latency against that index (p50/p95/p99) vs the brute-force baseline over the same names.

Records come from a seeded generator (below): Khmer, Thai and Vietnamese names written in Latin letters with
realistic token frequencies (a third of Vietnamese people are Nguyen), birth dates, national ids; the second
copy of a person carries the clerical noise partners produce (typos, day/month swaps, dropped fields,
separators in numbers). Everything is bounded: fixed record counts, fixed query counts.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VI_FAMILY = ["nguyen"] * 38 + ["tran"] * 11 + ["le"] * 9 + ["pham"] * 7 + ["hoang", "huynh", "phan", "vu", "vo",
             "dang", "bui", "do", "ho", "ngo", "duong", "ly", "dinh", "truong", "mai", "cao", "lam", "trinh"] * 2
VI_MIDDLE = ["van", "thi", "huu", "duc", "minh", "ngoc", "thanh", "quoc", "xuan", "kim", "anh", "gia"]
VI_SYLL = ["an", "anh", "bao", "binh", "chau", "chi", "cuong", "dung", "duy", "giang", "ha", "hai", "hanh", "hieu",
           "hoa", "hung", "huong", "khanh", "lan", "linh", "long", "mai", "minh", "nam", "nga", "nhung", "phong",
           "phuong", "quang", "son", "tam", "thao", "thu", "trang", "trung", "tuan", "tung", "van", "viet", "yen"]
KH_FAMILY = ["sok"] * 8 + ["chan", "kim", "heng", "meas", "chea", "keo", "prak", "ouk", "sam", "lim", "seng", "touch",
                           "nhem", "mao", "pich", "hang", "ly", "sun", "yim", "srey", "van", "khieu", "nuon", "phan"]
KH_SYLL = ["da", "ra", "so", "phea", "van", "na", "ri", "thy", "kha", "bo", "pha", "chen", "pi", "seth", "vi",
           "sal", "mom", "rath", "sa", "rin", "vuth", "chan", "tha", "ny", "leak", "ka", "nika", "ro", "tana"]
TH_FAMILY_SYLL = ["sae", "tang", "sri", "suk", "wong", "sa", "chai", "ya", "porn", "boon", "mee", "rat", "tana",
                  "korn", "kit", "ti", "pong", "jaroen", "siri", "wat", "thong", "kham", "in", "prasert", "sombat"]
TH_GIVEN_SYLL = ["som", "chai", "sak", "su", "da", "ma", "lee", "ni", "ran", "a", "nan", "pra", "sert", "kit",
                 "ti", "wi", "nat", "ta", "pong", "sirin", "thon", "kan", "ya", "porn", "rat", "na", "thep"]


def _given(rng: random.Random, syll: list[str], lo: int, hi: int) -> str:
    return "".join(rng.choice(syll) for _ in range(rng.randint(lo, hi)))


def person(rng: random.Random, pid: int) -> dict[str, Any]:
    """One synthetic person in canonical record form."""
    nat = rng.choice(["VN", "VN", "KH", "KH", "TH"])
    if nat == "VN":
        family, given = rng.choice(VI_FAMILY), f"{rng.choice(VI_MIDDLE)} {_given(rng, VI_SYLL, 1, 1)}"
        if rng.random() < 0.5:
            given += " " + _given(rng, VI_SYLL, 1, 1)
    elif nat == "KH":
        family, given = rng.choice(KH_FAMILY), _given(rng, KH_SYLL, 2, 3)
    else:
        family, given = _given(rng, TH_FAMILY_SYLL, 2, 4), _given(rng, TH_GIVEN_SYLL, 2, 3)
    y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    rec: dict[str, Any] = {
        "id": f"p{pid}", "names": [{"family": family, "given": given, "full": f"{family} {given}",
                                   "script": "Latn", "kind": "primary"}],
        "sex": rng.choice(["male", "female"]), "birth_date": f"{y:04d}-{m:02d}-{d:02d}", "nationalities": [nat]}
    if rng.random() < 0.7:
        rec["documents"] = [{"kind": "national_id", "number": f"{rng.randrange(10**8, 10**9)}", "country": nat}]
    return rec


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.random()
    if op < 0.4:
        return word[:i] + word[i + 1:]
    if op < 0.7:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice("aeiouhny") + word[i + 1:]


def noisy_copy(rng: random.Random, rec: dict[str, Any], new_id: str) -> dict[str, Any]:
    """The same person as another clerk would write them."""
    out = json.loads(json.dumps(rec))
    out["id"] = new_id
    name = out["names"][0]
    if rng.random() < 0.4:
        parts = name["given"].split()
        k = rng.randrange(len(parts))
        parts[k] = _typo(rng, parts[k])
        name["given"] = " ".join(parts)
    if rng.random() < 0.2:
        name["family"] = _typo(rng, name["family"])
    if rng.random() < 0.3:  # written given-name first
        name["full"] = f"{name['given']} {name['family']}"
    else:
        name["full"] = f"{name['family']} {name['given']}"
    r = rng.random()
    if r < 0.1:
        y, m, d = out["birth_date"].split("-")
        if int(d) <= 12:
            out["birth_date"] = f"{y}-{d}-{m}"
    elif r < 0.2:
        out["birth_date"] = out["birth_date"][:4]
    elif r < 0.25:
        del out["birth_date"]
    if "documents" in out:
        if rng.random() < 0.3:
            del out["documents"]
        elif rng.random() < 0.3:
            n = out["documents"][0]["number"]
            out["documents"][0]["number"] = f"{n[:3]} {n[3:6]}-{n[6:]}"
    if rng.random() < 0.3:
        out.pop("sex", None)
    return out


def records(n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for pid in range(n):
        yield person(rng, pid)


RATIO_RECORDS = 200_000    # records built both in one process and in W, in the same child, for the ratio
QUERY_COST_SAMPLE = 200    # queries whose scoring alone is timed, for the cost per candidate
# The index child stops here at the latest: 1M records took 30 min of wall time (2.5 min of CPU) on the shared
# 2 cores at load average 11-21.
CHILD_TIMEOUT = 3600


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _f1(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0, 4)}


def interpreter_seconds(loops: int = 10_000_000) -> float:
    """CPU seconds of a plain Python loop of ``loops`` additions: how fast this machine runs CPython now, the
    yardstick for the build (pure Python) on a shared machine whose speed varies from run to run."""
    c0, x = time.process_time(), 0
    for i in range(loops):
        x += i
    return time.process_time() - c0


def _children_cpu() -> float:
    """CPU seconds of this process's finished (and reaped) children: the link's scoring workers."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_link(n: int, seed: int) -> dict[str, Any]:
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    from matching.link import best_per_right, default_workers, link

    rng = random.Random(seed + 1)
    people = list(records(int(n * 1.25), seed))
    left = people[:n]
    right = [noisy_copy(rng, r, "r" + r["id"]) for r in people[len(people) - n:]]
    truth = {(r["id"], "r" + r["id"]) for r in people[len(people) - n:n]}
    t0, c0 = time.perf_counter(), time.process_time() + _children_cpu()
    workers = default_workers()  # as `python -m matching link` does by default; the baseline uses every core too
    rows = list(link(left, right, threshold=0.5, workers=workers))
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() + _children_cpu() - c0
    found = {(x.left_id, x.right_id) for x in rows}
    one_per_right = {(x.left_id, x.right_id) for x in best_per_right(rows)}
    t0 = time.perf_counter()
    lnames = [r["names"][0]["full"].lower() for r in left]
    rnames = [r["names"][0]["full"].lower() for r in right]
    sims = process.cdist(lnames, rnames, scorer=JaroWinkler.normalized_similarity, workers=-1)
    base = set()
    for i, row in enumerate(sims):
        j = int(row.argmax())
        if row[j] >= 0.9 and left[i].get("birth_date") == right[j].get("birth_date"):
            base.add((left[i]["id"], right[j]["id"]))
    baseline = time.perf_counter() - t0
    return {"records": n, "true_links": len(truth), "workers": workers, "seconds": round(ours, 2),
            "cpu_seconds": round(ours_cpu, 2),
            **_f1(found, truth), "one_per_right": _f1(one_per_right, truth),
            "baseline_seconds": round(baseline, 2), "baseline": _f1(base, truth)}


def _write_jsonl(path: Path, n: int, seed: int) -> Path:
    """The ``n`` records of ``seed`` as JSON lines at ``path`` (outside the clock: the generator is not the
    index), with the collector paused: the generator's dicts hold no cycles."""
    from matching.index import gc_paused

    with gc_paused(), path.open("w", encoding="utf-8") as fh:
        for rec in records(n, seed):
            fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    return path


def _ratio_records(tmp: Path, n: int, seed: int) -> Path:
    """The records of the ratio builds (``RATIO_RECORDS``, another seed than the big build's)."""
    return _write_jsonl(tmp / "ratio.jsonl", min(RATIO_RECORDS, n), seed + 5)


def _children_rusage() -> tuple[float, float]:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _timed_build(path: Path, workers: int) -> tuple[Any, float, float]:
    """An index built from the JSON lines at ``path``: (index, seconds, CPU seconds of this process and its
    workers). Reading the file is inside the clock, as a load reads its source."""
    from matching.index import CandidateIndex

    index = CandidateIndex()
    index.model  # noqa: B018 - load the weights before timing
    t0, c0, k0 = time.perf_counter(), time.process_time(), _children_rusage()[0]
    with path.open(encoding="utf-8") as fh:
        index.add_many(fh, workers=workers)
    return index, time.perf_counter() - t0, time.process_time() - c0 + _children_rusage()[0] - k0


def bench_index(n: int, queries: int, seed: int, workers: int, tmp: Path) -> dict[str, Any]:
    """Runs in a child process: the build, the queries, then the ratio builds. Returns timings and peak RSS."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    from matching import magic
    from matching.record import prepare

    before = rss_mb()
    t0 = time.perf_counter()
    big = _write_jsonl(tmp / "records.jsonl", n, seed)
    generate = time.perf_counter() - t0
    index, build, build_cpu = _timed_build(big, workers)  # first: no cache is warm from another build
    big.unlink()
    peak = rss_mb()
    rng = random.Random(seed + 2)
    picks = sorted(rng.sample(range(n), queries))
    wanted = set(picks)
    originals = [r for i, r in enumerate(records(max(picks) + 1, seed)) if i in wanted]
    latencies, hits, scored = [], 0, 0
    cpu0 = time.process_time()
    for rec in originals:
        q = noisy_copy(rng, rec, "q" + rec["id"])
        t = time.perf_counter()
        found = index.query(q, limit=10)
        latencies.append((time.perf_counter() - t) * 1000)
        hits += any(c.id == rec["id"] for c in found)
    query_cpu = time.process_time() - cpu0
    score_cpu = 0.0
    for rec in originals[:QUERY_COST_SAMPLE]:  # what scoring costs per candidate (CPU), apart from the rest
        p = prepare(noisy_copy(rng, rec, "q" + rec["id"]), check_names=False)
        ids = index.candidates(p, magic.QUERY_MAX_CANDIDATES)
        c0 = time.process_time()
        index._score(p, ids, 10, magic.QUERY_THRESHOLD)
        score_cpu += time.process_time() - c0
        scored += len(ids)
    names = [r["names"][0]["full"] for r in records(n, seed)]
    base_lat = []
    for rec in originals[: min(20, len(originals))]:
        t = time.perf_counter()
        process.extract(rec["names"][0]["full"], names, scorer=JaroWinkler.normalized_similarity, limit=10)
        base_lat.append((time.perf_counter() - t) * 1000)
    del index, names
    small, ratio = _ratio_records(tmp, n, seed), {}
    for w in (1, workers):  # after the big one: both equally warm
        ratio[w] = round(_timed_build(small, w)[1], 1)
    return {"records": n, "workers": workers, "build_seconds": round(build, 1),
            "build_cpu_seconds": round(build_cpu, 1), "worker_peak_rss_mb": round(_children_rusage()[1]),
            "ratio_records": min(RATIO_RECORDS, n), "ratio_one_process_seconds": ratio[1],
            "ratio_workers_seconds": ratio[workers],
            "generator_seconds": round(generate, 1), "peak_rss_mb": round(peak), "rss_before_mb":
            round(before), "queries": queries, "query_ms_p50": round(pct(latencies, 0.5), 2),
            "query_ms_p95": round(pct(latencies, 0.95), 2), "query_ms_p99": round(pct(latencies, 0.99), 2),
            "query_top10_recall": round(hits / queries, 4), "query_cpu_ms_mean": round(query_cpu / queries * 1000, 2),
            "candidate_score_cpu_us": round(score_cpu / max(1, scored) * 1e6, 1),
            "candidates_per_query": round(scored / max(1, min(QUERY_COST_SAMPLE, len(originals))), 1),
            "baseline_query_ms_p50": round(pct(base_lat, 0.5), 1), "baseline_queries": len(base_lat),
            "compiled_modules": _compiled_modules()}


def _compiled_modules() -> list[str]:
    from matching import compiled

    return compiled.loaded()


def bench_ratio_build(n: int, seed: int, tmp: Path) -> dict[str, Any]:
    """Runs in a child process: the ratio build alone (the same records as ``bench_index``'s, in one process)."""
    _, seconds, cpu = _timed_build(_ratio_records(tmp, n, seed), 1)
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "compiled_modules": _compiled_modules()}


def _child(args: argparse.Namespace, kind: str, *more: str, pure: str | None = None) -> dict[str, Any]:
    """The figures a child run of this file prints on its last line (``--child-index`` or ``--child-ratio``);
    ``pure`` sets ``MATCHING_PURE`` for it."""
    from matching.compiled import PURE_ENV

    env = None if pure is None else {**os.environ, PURE_ENV: pure}
    child = subprocess.run([sys.executable, __file__, kind, "--records", str(args.records), "--seed", str(args.seed),
                            *more], env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1_000_000, help="records in the index benchmark")
    ap.add_argument("--link-records", type=int, default=5000, help="records on each side of the link benchmark")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--build-workers", type=int, default=os.cpu_count() or 1,
                    help="processes computing the index's keys (add_many workers); default: one per core")
    ap.add_argument("--json", help="write the figures here")
    ap.add_argument("--child-index", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child-ratio", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_ratio:
        with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
            print(json.dumps(bench_ratio_build(args.records, args.seed, Path(tmp))))
        return 0
    if args.child_index:
        with tempfile.TemporaryDirectory(prefix="bench-matching-") as tmp:
            figures = bench_index(args.records, min(args.queries, args.records), args.seed, args.build_workers,
                                  Path(tmp))
        print(json.dumps(figures))
        return 0
    load_before = os.getloadavg()
    yardstick = [interpreter_seconds()]
    link_fig = bench_link(args.link_records, args.seed)
    print(f"(a) link {link_fig['records']} x {link_fig['records']}: ours {link_fig['seconds']} s "
          f"P {link_fig['precision']} R {link_fig['recall']} F1 {link_fig['f1']} | rapidfuzz baseline "
          f"{link_fig['baseline_seconds']} s F1 {link_fig['baseline']['f1']}", flush=True)
    idx = _child(args, "--child-index", "--queries", str(args.queries), "--build-workers", str(args.build_workers))
    ratio: dict[str, list[dict[str, Any]]] = {"0": [], "1": []}
    for flag in ("0", "1", "0", "1"):
        ratio[flag].append(_child(args, "--child-ratio", pure=flag))
    fast, pure = (min(runs, key=lambda r: r["seconds"]) for runs in (ratio["0"], ratio["1"]))
    yardstick.append(interpreter_seconds())
    loop = min(yardstick)
    load = [round(x, 1) for x in (*load_before, *os.getloadavg())]
    rows = [
        ("link 5k x 5k: seconds", link_fig["seconds"], link_fig["baseline_seconds"], "< 5 s"),
        (f"link 5k x 5k: CPU seconds, {link_fig['workers']} workers included", link_fig["cpu_seconds"], "-", ""),
        ("link 5k x 5k: F1", link_fig["f1"], link_fig["baseline"]["f1"], ""),
        ("link 5k x 5k: F1, --one-per-right", link_fig["one_per_right"]["f1"], "-", ""),
        (f"index build {idx['records']:,}, {idx['workers']} workers: s", idx["build_seconds"], "-", "< 60 s"),
        ("  CPU seconds, workers included", idx["build_cpu_seconds"], "-", ""),
        ("  in plain 10M-addition loops", round(idx["build_cpu_seconds"] / loop, 1), "-", ""),
        ("  (generator, not counted), seconds", idx["generator_seconds"], "-", ""),
        (f"index build {idx['records']:,}: peak RSS MB", idx["peak_rss_mb"], "-", "< 2048"),
        ("  a worker's peak RSS MB", idx["worker_peak_rss_mb"], "-", ""),
        (f"build {idx['ratio_records']:,}: 1 process / {idx['workers']}, s",
         f"{idx['ratio_one_process_seconds']} / {idx['ratio_workers_seconds']}", "-", ""),
        (f"build {idx['ratio_records']:,}, new process: compiled / plain", f"{fast['seconds']} / {pure['seconds']}",
         "-", f"(of {[r['seconds'] for r in ratio['0']]} / {[r['seconds'] for r in ratio['1']]})"),
        ("  modules compiled / in plain Python", f"{len(fast['compiled_modules'])} / {len(pure['compiled_modules'])}",
         "-", ""),
        ("query p50 ms", idx["query_ms_p50"], idx["baseline_query_ms_p50"], ""),
        ("query p95 ms", idx["query_ms_p95"], "-", "< 20 ms"),
        ("query p99 ms", idx["query_ms_p99"], "-", ""),
        ("query: true record in top 10", idx["query_top10_recall"], "-", ""),
        ("query CPU ms (mean)", idx["query_cpu_ms_mean"], "-", ""),
        ("scoring CPU per candidate, us", idx["candidate_score_cpu_us"], "-", ""),
        ("candidates per query", idx["candidates_per_query"], "-", ""),
    ]
    print(f"load average (1/5/15 min) before {load[:3]}, after {load[3:]}; a plain loop of 10M additions "
          f"took {yardstick[0]:.2f} s of CPU before, {yardstick[1]:.2f} s after")
    print(f"{'measure':<36} {'matching':>10} {'rapidfuzz':>10}  target")
    for name, ours, base, target in rows:
        print(f"{name:<36} {ours!s:>10} {base!s:>10}  {target}")
    if args.json:
        Path(args.json).write_text(json.dumps({"link": link_fig, "index": idx, "compiled_ratio_builds": ratio["0"],
                                               "plain_python_ratio_builds": ratio["1"],
                                               "load_average": load,
                                               "loop_10m_cpu_seconds": [round(x, 3) for x in yardstick],
                                               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())},
                                              indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
