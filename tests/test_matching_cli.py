"""The `python -m matching` command line: link, explain, evaluate, train, model; messy input; exit codes."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from matching.__main__ import main

ROOT = Path(__file__).resolve().parent.parent

PEOPLE = [
    {"id": "a", "names": [{"full": "Nguyen Van Minh"}], "birth_date": "1975-08-21", "sex": "male"},
    {"id": "b", "names": [{"full": "Nguyen Van Mihn"}], "birth_date": "1975-08-21", "sex": "male"},
    {"id": "c", "names": [{"full": "Sok Dara"}], "birth_date": "1988-02-03",
     "documents": [{"kind": "passport", "number": "N0123456", "country": "KH"}]},
    {"id": "d", "names": [{"full": "Sok Dara"}], "birth_date": "1988-03-02",
     "documents": [{"kind": "passport", "number": "N 012-3456", "country": "KH"}]},
    {"id": "e", "names": [{"full": "Heng Bopha"}], "birth_date": "1960-10-10", "sex": "female"},
]


def write_jsonl(path: Path, rows: list, extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "".join(extra_lines), encoding="utf-8")
    return path


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, out=out)
    return code, out.getvalue()


def test_dedup_link_skips_self_pairs_and_reports_each_pair_once(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "people.jsonl", PEOPLE)
    code, text = run(["link", str(f), str(f)])
    assert code == 0
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["left_id", "right_id", "probability"]
    pairs = [frozenset(r[:2]) for r in rows[1:]]
    assert set(pairs) == {frozenset("ab"), frozenset("cd")}
    assert len(pairs) == len(set(pairs))
    assert all(float(r[2]) >= 0.5 for r in rows[1:])


def test_link_two_files_with_a_threshold(tmp_path: Path) -> None:
    left = write_jsonl(tmp_path / "l.jsonl", PEOPLE[::2])
    right = write_jsonl(tmp_path / "r.jsonl", PEOPLE[1::2])
    code, text = run(["link", str(left), str(right), "--threshold", "0.0"])
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert code == 0 and ["a", "b"] in [r[:2] for r in rows] and ["c", "d"] in [r[:2] for r in rows]
    _, strict = run(["link", str(left), str(right), "--threshold", "1.0"])
    assert len(list(csv.reader(io.StringIO(strict)))) <= len(rows) + 1


def test_bad_lines_are_reported_by_number_not_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write_jsonl(tmp_path / "messy.jsonl", PEOPLE[:2], ('{"names": "Secret Name', "\n", '["Secret Name"]\n',
                                                           '{"id": "x", "names": 5}\n', "[" * 100_000 + "\n"))
    code, text = run(["link", str(f), str(f)])
    err = capsys.readouterr().err
    assert code == 0
    assert "line 3: not JSON" in err and "line 4: not a JSON object" in err and "line 6: not JSON" in err
    assert "Secret" not in err
    assert len(list(csv.reader(io.StringIO(text)))) == 2


def test_file_and_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(tmp_path / "nope.jsonl")
    assert run(["link", missing, missing])[0] == 2
    f = write_jsonl(tmp_path / "p.jsonl", PEOPLE)
    assert run(["link", str(f), str(f), "--threshold", "7"])[0] == 2
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert run(["explain", str(tmp_path / "bad.json"), str(tmp_path / "bad.json")])[0] == 2
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2
    capsys.readouterr()


def test_explain_lists_every_feature_total_and_probability(tmp_path: Path) -> None:
    from matching.model import FEATURES

    (tmp_path / "a.json").write_text(json.dumps(PEOPLE[2]))
    (tmp_path / "b.json").write_text(json.dumps({**PEOPLE[3], "birth_date": "1988-02-31"}))
    code, text = run(["explain", str(tmp_path / "a.json"), str(tmp_path / "b.json")])
    assert code == 0
    for f in FEATURES:
        assert f"\n{f.name} " in "\n" + text
    assert "total" in text and "probability" in text
    assert "note B: birth_date" in text


def test_evaluate_prints_figures_and_json(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "p.jsonl", PEOPLE)
    links = tmp_path / "links.csv"
    links.write_text("left_id,right_id\nb,a\nc,d\n")
    code, text = run(["evaluate", str(f), str(f), str(links)])
    assert code == 0 and "blocking recall 1.0000" in text
    code, text = run(["evaluate", str(f), str(f), str(links), "--json"])
    doc = json.loads(text)
    at_half = next(t for t in doc["thresholds"] if t["threshold"] == 0.5)
    assert doc["blocking_recall"] == 1.0 and at_half["recall"] == 1.0 and at_half["precision"] == 1.0


def test_train_writes_weights_the_model_can_load(tmp_path: Path) -> None:
    from matching.model import Model, load_params

    people = []
    links = ["left_id,right_id"]
    for i in range(60):
        fam, giv = ("Sok", "Nguyen", "Heng")[i % 3], f"given{chr(97 + i % 26)}{chr(97 + i // 26)}"
        dob = f"19{50 + i % 40}-{1 + i % 12:02d}-{1 + i % 27:02d}"
        people.append({"id": f"o{i}", "names": [{"full": f"{fam} {giv}"}], "birth_date": dob})
        people.append({"id": f"d{i}", "names": [{"full": f"{fam} {giv}x"}], "birth_date": dob})
        links.append(f"o{i},d{i}")
    f = write_jsonl(tmp_path / "p.jsonl", people)
    (tmp_path / "l.csv").write_text("\n".join(links) + "\n")
    out = tmp_path / "w.json"
    code, _ = run(["train", "--dataset", "toy", str(f), str(f), str(tmp_path / "l.csv"), "--out", str(out),
                   "--report", str(tmp_path / "r.json")])
    assert code == 0
    model = Model(load_params(str(out)))
    assert model.weights["name"] and 0 < model.prior < 1
    assert "toy-heldout" in json.loads((tmp_path / "r.json").read_text())


def test_module_entry_point_runs(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "matching", "model"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0 and "name:" in proc.stdout and "prior" in proc.stdout


def test_link_workers_must_be_a_sane_count(tmp_path: Path) -> None:
    f = write_jsonl(tmp_path / "people.jsonl", PEOPLE)
    assert run(["link", str(f), str(f), "--workers", "0"])[0] == 2
    assert run(["link", str(f), str(f), "--workers", "65"])[0] == 2
    # enough records to be cut into chunks for the forked workers (a handful is linked in one process)
    families = ("Sok", "Chan", "Heng", "Nguyen", "Tran", "Meas")
    givens = ("Dara", "Sophea", "Vanna", "Minh", "Lan", "Bopha", "Kosal", "Rithy", "Thu", "Hoa")
    crowd = [{"id": f"p{i}", "names": [{"full": f"{family} {given}"}],
              "birth_date": f"19{60 + i % 30}-0{1 + i % 9}-1{i % 10}"}
             for i, (family, given) in enumerate((x, y) for x in families for y in givens for _ in range(11))]
    f = write_jsonl(tmp_path / "crowd.jsonl", crowd)
    code, text = run(["link", str(f), str(f), "--workers", "2"])
    assert code == 0 and len(text.splitlines()) > 10 and text == run(["link", str(f), str(f), "--workers", "1"])[1]
