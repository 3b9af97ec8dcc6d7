"""The many-to-one rule (``link.best_per_right``, ``link --one-per-right``, evaluate's second table): each
right record keeps only its most probable left record; ties all kept; a left record keeps several rights."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from matching.__main__ import main
from matching.evaluate import EvalResult, Pair, metrics, report_lines
from matching.link import Link, best_per_right

L = Link


@pytest.mark.parametrize(("rows", "kept"), [
    ([], []),
    # one right record, a namesake below the true person: only the best stays
    ([L("l1", "r1", 0.97), L("l2", "r1", 0.62)], [L("l1", "r1", 0.97)]),
    # the best may come last: order of the input is kept for what stays
    ([L("l2", "r1", 0.62), L("l3", "r2", 0.8), L("l1", "r1", 0.97)], [L("l3", "r2", 0.8), L("l1", "r1", 0.97)]),
    # an exact tie cannot be broken by the records: both stay
    ([L("l1", "r1", 0.9), L("l2", "r1", 0.9)], [L("l1", "r1", 0.9), L("l2", "r1", 0.9)]),
    # one person seen by two partners: a left record keeps both right records
    ([L("l1", "th", 0.95), L("l1", "vn", 0.7)], [L("l1", "th", 0.95), L("l1", "vn", 0.7)]),
])
def test_best_per_right(rows: list[Link], kept: list[Link]) -> None:
    assert best_per_right(iter(rows)) == kept


def _run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(args, out=out), out.getvalue()


TRUE = {"id": "kh-1", "names": [{"full": "Sok Dara"}], "birth_date": "1988-02-03", "sex": "male",
        "documents": [{"kind": "passport", "number": "N0123456", "country": "KH"}]}
TWIN = {"id": "kh-2", "names": [{"full": "Sok Dara"}], "birth_date": "1988-02-03", "sex": "male"}
PARTNER = {"id": "th-1", "names": [{"full": "Dara Sok"}], "birth_date": "1988-02-03", "sex": "male",
           "documents": [{"kind": "passport", "number": "N 012-3456", "country": "KH"}]}


def _write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_link_one_per_right_drops_the_namesake(tmp_path: Path) -> None:
    left, right = _write(tmp_path / "l.jsonl", [TRUE, TWIN]), _write(tmp_path / "r.jsonl", [PARTNER])
    code, text = _run(["link", left, right, "--workers", "1"])
    every = [r[:2] for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert code == 0 and sorted(every) == [["kh-1", "th-1"], ["kh-2", "th-1"]]  # both above 0.5 on their own
    code, text = _run(["link", left, right, "--workers", "1", "--one-per-right"])
    rows = list(csv.reader(io.StringIO(text)))
    assert code == 0 and rows[0] == ["left_id", "right_id", "probability"]
    assert [r[:2] for r in rows[1:]] == [["kh-1", "th-1"]]  # the passport decides


def test_link_one_per_right_refuses_deduplication(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = _write(tmp_path / "p.jsonl", [TRUE, TWIN])
    code, text = _run(["link", f, f, "--one-per-right"])
    assert code == 2 and text == ""
    assert "needs two different files" in capsys.readouterr().err


def test_evaluate_reports_the_rule_beside_the_pairs(tmp_path: Path) -> None:
    left, right = _write(tmp_path / "l.jsonl", [TRUE, TWIN]), _write(tmp_path / "r.jsonl", [PARTNER])
    links = tmp_path / "links.csv"
    links.write_text("left_id,right_id\nkh-1,th-1\n")
    code, text = _run(["evaluate", left, right, str(links), "--json"])
    doc = json.loads(text)
    plain = next(m for m in doc["thresholds"] if m["threshold"] == 0.5)
    rule = next(m for m in doc["one_per_right"] if m["threshold"] == 0.5)
    assert code == 0 and plain["precision"] == 0.5 and plain["recall"] == 1.0
    assert rule["precision"] == 1.0 and rule["recall"] == 1.0 and rule["predicted"] == 1
    code, text = _run(["evaluate", left, right, str(links)])
    assert code == 0 and "most probable left record only" in text


def test_metrics_rule_counts_the_lost_true_pair_and_refuses_dedup() -> None:
    truth = {Pair("l1", "r1"), Pair("l2", "r1")}  # a register duplicate: the rule keeps one of the two
    result = EvalResult(truth, {Pair("l1", "r1"): 0.9, Pair("l2", "r1"): 0.8})
    assert metrics(result, 0.5)["recall"] == 1.0
    ruled = metrics(result, 0.5, one_per_right=True)
    assert ruled["recall"] == 0.5 and ruled["precision"] == 1.0
    dedup = EvalResult({Pair("a", "b")}, {Pair("a", "b"): 0.9}, dedup=True)
    with pytest.raises(ValueError):
        metrics(dedup, 0.5, one_per_right=True)
    assert not any("most probable" in line for line in report_lines(dedup))
