"""The matching command line (a stable interface: other tools call it).

    python -m matching link LEFT.jsonl RIGHT.jsonl [--threshold P] [--workers N] [--one-per-right]
                                                                      CSV left_id,right_id,probability
    python -m matching explain A.json B.json                          each feature, then total and probability
    python -m matching evaluate LEFT.jsonl RIGHT.jsonl LINKS.csv      precision/recall/F1, blocking recall
    python -m matching train --dataset NAME LEFT RIGHT LINKS ... [--out PATH] [--report PATH] [--seed N]
    python -m matching model                                          the model table (m, u, weights)
    python -m matching compile [--check]                              build the compiled modules (matching.compiled)

The same file given as LEFT and RIGHT means deduplication: self-pairs are skipped and each unordered pair
is reported once. A line that is not JSON, or not an object, is reported on stderr by its line number
(never its content, which is personal data) and skipped. Exit codes: 0 ok, 2 usage or file errors.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO


class InputError(Exception):
    """A file that cannot be read at all (exit code 2)."""


def warn(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def read_records(path: str) -> list[dict[str, Any]]:
    """JSON Lines of person records; bad lines are reported by number and skipped."""
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
                    warn(f"{path}: line {number}: not JSON, skipped")
                    continue
                if not isinstance(value, dict):
                    warn(f"{path}: line {number}: not a JSON object, skipped")
                    continue
                out.append(value)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    return out


def read_record(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            value = json.load(fh)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except (ValueError, RecursionError):
        raise InputError(f"{path}: not JSON") from None
    if not isinstance(value, dict):
        raise InputError(f"{path}: not a JSON object")
    return value


def read_links(path: str) -> list[tuple[str, str]]:
    """CSV with a header; the first two columns are the left and right ids."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    out = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) < 2 or not row[0] or not row[1]:
            warn(f"{path}: line {number}: not a link, skipped")
            continue
        out.append((row[0].strip(), row[1].strip()))
    return out


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def progress_printer(what: str) -> Callable[[int, int], None]:
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        warn(f"{what}: {done}/{total} records ({time.monotonic() - start:.0f} s)")

    return report


def cmd_link(args: argparse.Namespace, out: TextIO) -> int:
    from .link import best_per_right, default_workers, link

    left = read_records(args.left)
    right = None if _same_file(args.left, args.right) else read_records(args.right)
    if args.one_per_right and right is None:
        warn("--one-per-right needs two different files (deduplication has no left and right)")
        return 2
    warn(f"link: preparing {len(left) + len(right or [])} records")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["left_id", "right_id", "probability"])
    workers = args.workers or default_workers()
    rows = link(left, right, threshold=args.threshold, progress=progress_printer("link"), workers=workers)
    for row in best_per_right(rows) if args.one_per_right else rows:
        writer.writerow([row.left_id, row.right_id, f"{row.probability:.6f}"])
    return 0


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    from .model import score
    from .record import prepare

    a, b = prepare(read_record(args.a)), prepare(read_record(args.b))
    for side, p in (("A", a), ("B", b)):
        for problem in p.problems:
            out.write(f"note {side}: {problem}\n")
    out.write(score(a, b).explain() + "\n")
    return 0


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    from .evaluate import DEFAULT_THRESHOLDS, evaluate, metrics, report_lines

    left = read_records(args.left)
    right = None if _same_file(args.left, args.right) else read_records(args.right)
    links = read_links(args.links)
    warn(f"evaluate: preparing {len(left) + len(right or [])} records")
    started = time.monotonic()
    result = evaluate(left, right, links, progress=progress_printer("evaluate"))
    elapsed = time.monotonic() - started
    if args.json:
        doc = {"blocking_recall": result.blocking_recall, "candidate_pairs": len(result.scored),
               "links": len(result.truth), "seconds": round(elapsed, 2),
               "thresholds": [metrics(result, t) for t in DEFAULT_THRESHOLDS]}
        if not result.dedup:
            doc["one_per_right"] = [metrics(result, t, one_per_right=True) for t in DEFAULT_THRESHOLDS]
        out.write(json.dumps(doc, indent=2) + "\n")
    else:
        out.write("\n".join(report_lines(result)) + f"\n({elapsed:.1f} s)\n")
    return 0


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    from .train import Dataset, train

    datasets = []
    for name, left_path, right_path, links_path in args.dataset:
        left = read_records(left_path)
        right = None if _same_file(left_path, right_path) else read_records(right_path)
        datasets.append(Dataset(name, left, right, read_links(links_path)))
    params, report = train(datasets, seed=args.seed, method=args.method, progress=warn)
    text = json.dumps(params, indent=1, sort_keys=True) + "\n"
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        warn(f"weights written to {args.out}")
    else:
        out.write(text)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(report, indent=1, sort_keys=True) + "\n")
    for name, figures in report.items():
        warn(f"{name}: precision {figures['precision']:.4f} recall {figures['recall']:.4f} "
             f"f1 {figures['f1']:.4f} blocking recall {figures['blocking_recall']:.4f}")
    return 0


def cmd_model(args: argparse.Namespace, out: TextIO) -> int:
    from .model import explain

    out.write(explain() + "\n")
    return 0


def cmd_compile(args: argparse.Namespace, out: TextIO) -> int:
    from . import compiled

    present = compiled.built()
    if args.check or present:
        out.write(f"compiled build {'present' if present else 'missing'}: {compiled.build_dir()}\n")
        return 0 if present else 1
    warn(f"compiling {', '.join(compiled.MODULES)} with mypyc (about a minute)")
    try:
        where = compiled.build()
    except (RuntimeError, OSError) as exc:
        warn(f"{exc}; matching runs as plain Python (slower, same results)")
        return 1
    out.write(f"compiled build ready: {where}\n")
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m matching", description="Match person records across scripts.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("link", help="link two JSONL files (the same file twice: deduplicate)")
    s.add_argument("left")
    s.add_argument("right")
    s.add_argument("--threshold", type=float, default=0.5, help="report pairs at or above this probability")
    s.add_argument("--workers", type=int, default=None,
                   help="processes that score (default: the usable cores, at most 8; the output is the same)")
    s.add_argument("--one-per-right", action="store_true",
                   help="keep, for each right record, only its most probable left record (a register that holds "
                        "each person once; exact ties are all kept)")
    s.set_defaults(run=cmd_link)
    s = sub.add_parser("explain", help="explain the score of two records (one JSON object per file)")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(run=cmd_explain)
    s = sub.add_parser("evaluate", help="precision, recall, F1 and blocking recall against known links")
    s.add_argument("left")
    s.add_argument("right")
    s.add_argument("links")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.set_defaults(run=cmd_evaluate)
    s = sub.add_parser("train", help="re-estimate the model weights (EM) and calibrate them")
    s.add_argument("--dataset", nargs=4, action="append", required=True,
                   metavar=("NAME", "LEFT", "RIGHT", "LINKS"), help="a labelled set; repeat for several")
    s.add_argument("--seed", type=int, default=20261128)
    s.add_argument("--method", choices=("labelled-random-u", "labelled", "em", "em-fixed-u"),
                   default="labelled-random-u",
                   help="how m and u are estimated (default: m from the labelled training pairs, u from random pairs)")
    s.add_argument("--out", help="write the weights here (default: stdout)")
    s.add_argument("--report", help="write the held-out report (JSON) here")
    s.set_defaults(run=cmd_train)
    s = sub.add_parser("model", help="print the model table")
    s.set_defaults(run=cmd_model)
    s = sub.add_parser("compile", help="compile the hot modules with mypyc for this source (exit 1 if it fails)")
    s.add_argument("--check", action="store_true", help="only say whether this source is built (exit 1 if not)")
    s.set_defaults(run=cmd_compile)
    return p


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "threshold", 0.5) is not None and not 0.0 <= getattr(args, "threshold", 0.5) <= 1.0:
        warn("--threshold must be between 0 and 1")
        return 2
    if getattr(args, "workers", None) is not None and not 1 <= args.workers <= 64:
        warn("--workers must be between 1 and 64")
        return 2
    try:
        return int(args.run(args, out or sys.stdout))
    except InputError as exc:
        warn(str(exc))
        return 2
    except BrokenPipeError:  # e.g. piped into `head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
