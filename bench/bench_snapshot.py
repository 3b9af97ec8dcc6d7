"""Screening index snapshot: CPU seconds and memory of building a CandidateIndex vs writing and restoring its
encrypted snapshot (exchange/screening_snapshot.py), on bench_matching's synthetic register. One bounded run.

    python bench/bench_snapshot.py --records 200000

The build and the write run in one process, the restore in a fresh one (so its RSS is the restore's alone).
The write is also done the way the service does it, in a forked child, whose private (copied) memory is shown:
pickling touches every object's reference count, so the child copies most pages of the index.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_matching import records

from exchange.screening_snapshot import Snapshot, SnapshotFile, read
from matching.index import CandidateIndex

HEADER = {"fingerprint": "bench", "looked_at": None, "watermarks": {"local": None}}


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_mb() -> float:  # VmHWM, not ru_maxrss: a child started by fork+exec inherits its parent's ru_maxrss
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM")) / 1e3


def private_mb() -> float:
    with open("/proc/self/smaps_rollup") as fh:
        return sum(int(line.split()[1]) for line in fh if line.startswith(("Private_Clean", "Private_Dirty"))) / 1e3


def name_key_objects(index: CandidateIndex) -> int:
    """Distinct NameKey objects the records point to (records with the same name should share one)."""
    return len({id(key) for p in index.export_state().records if p is not None for key in p.names})


def build_and_write(n: int, home: Path) -> dict[str, float]:
    CandidateIndex().model  # noqa: B018 (the model loaded, as in the service and the restore below)
    out: dict[str, float] = {"rss_before_mb": rss_mb()}
    index = CandidateIndex()
    started = time.process_time()
    index.add_many(records(n, 11))  # generated as they are indexed (the service reads pages of 2,000 rows)
    out["build_cpu_s"] = time.process_time() - started
    gc.collect()
    gc.freeze()
    out["rss_after_build_mb"] = rss_mb()
    out["name_key_objects"] = name_key_objects(index)
    snap = Snapshot(index.export_state(), {str(i): 1 for i in range(n)}, {"local": None}, None)
    file = SnapshotFile(home)
    started = time.process_time()
    out["file_mb"] = (file.write(snap, HEADER) or 0) / 1e6
    out["write_cpu_s"] = time.process_time() - started
    read_fd, write_fd = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        t = time.process_time()
        file.write(snap, HEADER)
        os.write(write_fd, json.dumps({"cpu": time.process_time() - t, "private": private_mb()}).encode())
        os._exit(0)
    os.close(write_fd)
    os.waitpid(pid, 0)
    child = json.loads(os.read(read_fd, 1000))
    out["forked_write_wall_s"] = time.monotonic() - started
    out["forked_write_cpu_s"] = child["cpu"]
    out["forked_child_private_mb"] = child["private"]
    out["peak_rss_mb"] = peak_mb()
    return out


async def _restore(home: Path) -> tuple[Snapshot, float, float]:
    lag = cpu_lag = 0.0
    stop = False

    async def watch() -> None:  # the longest time the event loop could not answer: wall (with the machine's
        nonlocal lag, cpu_lag  # other work) and CPU of this thread (the restore's own share)
        while not stop:
            t, c = time.monotonic(), time.thread_time()
            await asyncio.sleep(0)
            lag, cpu_lag = max(lag, time.monotonic() - t), max(cpu_lag, time.thread_time() - c)

    watcher = asyncio.create_task(watch())
    await asyncio.sleep(0)
    snap = await read(SnapshotFile(home), {"fingerprint": "bench"})
    for _ in range(3):  # the first ticks after the read: a collection right after it would show here
        await asyncio.sleep(0)
    stop = True
    await watcher
    return snap, lag, cpu_lag


def restore(home: Path) -> dict[str, float]:
    out: dict[str, float] = {"rss_before_mb": rss_mb()}
    CandidateIndex().model  # noqa: B018 (load the model first, as the service has)
    out["rss_with_model_mb"] = rss_mb()
    started = time.process_time()
    snap, lag, cpu_lag = asyncio.run(_restore(home))
    index = CandidateIndex.from_state(snap.index)
    out["restore_cpu_s"] = time.process_time() - started
    out["max_loop_stall_ms"] = lag * 1e3
    out["max_loop_stall_cpu_ms"] = cpu_lag * 1e3
    gc.collect()
    gc.freeze()
    out["records"] = len(index)
    out["name_key_objects"] = name_key_objects(index)
    out["rss_after_restore_mb"] = rss_mb()
    out["peak_rss_mb"] = peak_mb()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--restore-from", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.restore_from:
        print(json.dumps(restore(Path(args.restore_from))))
        return 0
    with tempfile.TemporaryDirectory() as home:
        built = build_and_write(args.records, Path(home))
        done = subprocess.run([sys.executable, __file__, "--restore-from", home], capture_output=True, text=True,
                              check=True, timeout=1800)
        print(json.dumps({"records": args.records, "build": built, "restore": json.loads(done.stdout)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
