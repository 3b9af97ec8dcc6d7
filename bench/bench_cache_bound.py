"""Is the matching engine's memory bounded when every record is new? (the soak's open question)

    .venv/bin/python bench/bench_cache_bound.py [--records 800000] [--step 100000] [--json PATH]

Prepares ``--records`` records with names, birth dates and birth places never seen before (seeded), as border
screening does for every traveller, and prints the process's resident memory after every ``--step`` records.
The name, token and record caches are bounded (matching/normalize.py, names.py, record.py), so the growth must
stop once they are full; the last rows of the table show whether it does. Bounded: it stops after --records.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from pathlib import Path

import psutil

from matching.record import prepare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=800_000)
    parser.add_argument("--step", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    proc = psutil.Process()

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9))).title()

    prepare({"names": [{"family": "Sok", "given": "Dara"}]})  # load tables before the baseline
    base = proc.memory_info().rss
    started = time.perf_counter()
    rows = []
    print(f"{'records':>9} {'rss MB':>8} {'growth MB':>10} {'seconds':>8}")
    done = 0
    while done < args.records:
        for _ in range(min(args.step, args.records - done)):
            prepare({"names": [{"family": word(), "given": word()}], "birth_place": word(),
                     "birth_date": f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"})
            done += 1
        rss = proc.memory_info().rss
        row = {"records": done, "rss_mb": round(rss / 2**20, 1), "growth_mb": round((rss - base) / 2**20, 1),
               "seconds": round(time.perf_counter() - started, 1)}
        rows.append(row)
        print(f"{row['records']:>9} {row['rss_mb']:>8} {row['growth_mb']:>10} {row['seconds']:>8}", flush=True)
    last = rows[-3:]
    flat = len(last) == 3 and last[-1]["growth_mb"] - last[0]["growth_mb"] < 0.02 * max(1.0, last[0]["rss_mb"])
    print(f"growth over the last {len(last)} steps: {last[-1]['growth_mb'] - last[0]['growth_mb']:.1f} MB "
          f"({'flat' if flat else 'still growing'})")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "flat": flat}, indent=2))


if __name__ == "__main__":
    main()
