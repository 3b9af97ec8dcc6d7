"""Quality on real and generated data: the acceptance figures of the matching engine.

febrl3 (dedup, 5,000 records, 6,538 true pairs): F1 >= 0.995 at the default threshold 0.5.
Cross-border set (bench/crossborder/generate.py, default size, seed 7; the shipped weights were trained on
seed 1, never on these people): blocking recall >= 0.995. Its F1 target of the issue, 0.95, is met since the
whole-name term-frequency adjustment of exact names (F1 0.9509, P 0.950, R 0.952; 0.945 / P 0.959 before it,
0.920 before the finer birth-date levels; see docs/matching.md); this test guards the measured level minus a
margin, so that small changes elsewhere in preparation do not fail it: F1 >= 0.945, P >= 0.94, R >= 0.945.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from matching.__main__ import read_links, read_records
from matching.evaluate import EvalResult, evaluate, metrics

ROOT = Path(__file__).resolve().parent.parent
FEBRL = ROOT.parent / "shared" / "data" / "febrl3"  # shared/ lies beside the clone, here and in CI


@pytest.mark.skipif(not (FEBRL / "records.jsonl").exists(), reason="shared febrl3 data not present")
def test_febrl3_dedup_f1_at_default_threshold() -> None:
    records = read_records(str(FEBRL / "records.jsonl"))
    result = evaluate(records, None, read_links(str(FEBRL / "links.csv")), thresholds=(0.5,))
    m = metrics(result, 0.5)
    assert result.blocking_recall >= 0.995
    assert m["f1"] >= 0.995, m
    assert m["precision"] >= 0.995 and m["recall"] >= 0.99, m


@pytest.fixture(scope="module")
def crossborder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crossborder")
    subprocess.run([sys.executable, str(ROOT / "bench" / "crossborder" / "generate.py"), "--out", str(out),
                    "--seed", "7"], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="module")
def crossborder_result(crossborder: Path) -> EvalResult:
    left = read_records(str(crossborder / "left.jsonl"))
    right = read_records(str(crossborder / "right.jsonl"))
    return evaluate(left, right, read_links(str(crossborder / "links.csv")), thresholds=(0.05, 0.5))


def test_crossborder_blocking_recall_and_f1(crossborder_result: EvalResult) -> None:
    m = metrics(crossborder_result, 0.5)
    assert crossborder_result.blocking_recall >= 0.995
    assert m["precision"] >= 0.94 and m["recall"] >= 0.945, m
    assert m["f1"] >= 0.945, m


def test_crossborder_probabilities_are_roughly_calibrated(crossborder_result: EvalResult) -> None:
    """Among pairs the model calls very likely, most are true; among very unlikely ones, few are."""
    result = crossborder_result
    high = [p in result.truth for p, prob in result.scored.items() if prob >= 0.9]
    low = [p in result.truth for p, prob in result.scored.items() if 0.05 <= prob < 0.2]
    assert high and sum(high) / len(high) >= 0.9
    assert low and sum(low) / len(low) <= 0.4
