"""The cross-border evaluation generator: valid records, true links, determinism and the promised difficulty."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from matching.dates import compare_birth_dates, parse_birth_date
from matching.documents import compare_documents, document_keys
from matching.mrz import parse_mrz
from protocols.person import validate_person

BENCH = Path(__file__).resolve().parents[1] / "bench" / "crossborder"


@pytest.fixture(scope="module")
def generate():
    """bench/ is not a package: load the script under a name no other test module uses."""
    spec = importlib.util.spec_from_file_location("crossborder_generate", BENCH / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def dataset(generate, tmp_path_factory):
    out = tmp_path_factory.mktemp("xb")
    assert generate.main(["--out", str(out), "--people", "400", "--seed", "11"]) == 0
    left = [json.loads(line) for line in (out / "left.jsonl").read_text(encoding="utf-8").splitlines()]
    right = [json.loads(line) for line in (out / "right.jsonl").read_text(encoding="utf-8").splitlines()]
    with (out / "links.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return out, left, right, rows


def test_records_are_valid_canonical_people(dataset) -> None:
    _, left, right, _ = dataset
    assert len(left) == 400
    for record in left + right:
        assert validate_person(record) == record      # already clean: nothing to fix up


def test_links_point_at_existing_records(dataset) -> None:
    _, left, right, rows = dataset
    assert rows[0] == ["left_id", "right_id"]
    links = rows[1:]
    left_ids, right_ids = {r["id"] for r in left}, {r["id"] for r in right}
    assert len(left_ids) == len(left) and len(right_ids) == len(right)
    assert all(a in left_ids and b in right_ids for a, b in links)
    assert len(set(map(tuple, links))) == len(links)
    linked_right = Counter(b for _, b in links)
    assert max(linked_right.values()) == 1                  # a right record is one person
    share = len({a for a, _ in links}) / len(left)
    assert 0.6 < share < 0.8                                 # about 70% of the register was seen by a partner
    unlinked = len(right_ids - set(linked_right))
    assert unlinked > 0.25 * len(right)                      # distractors and people unknown to Cambodia


def test_deterministic_for_a_seed(generate, tmp_path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        generate.main(["--out", str(tmp_path / name), "--people", "60", "--seed", str(seed)])
    files = ("left.jsonl", "right.jsonl", "links.csv")
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
    assert (tmp_path / "a" / "right.jsonl").read_bytes() != (tmp_path / "c" / "right.jsonl").read_bytes()


def pairs(dataset):
    _, left, right, rows = dataset
    by_id = {r["id"]: r for r in left + right}
    return [(by_id[a], by_id[b]) for a, b in rows[1:]]


def test_scripts_and_spellings_differ_across_the_border(dataset) -> None:
    _, left, right, _ = dataset
    left_scripts = Counter(n["script"] for r in left for n in r["names"] if n["kind"] == "primary")
    right_scripts = Counter(n["script"] for r in right for n in r["names"] if n["kind"] == "primary")
    assert left_scripts["Khmr"] > 0.4 * len(left) and left_scripts["Thai"] == 0
    assert right_scripts["Thai"] > 0.1 * len(right) and right_scripts["Khmr"] == 0
    vietnamese = [n["full"] for r in right if r["id"].startswith("VN") for n in r["names"]]
    assert any(not name.isascii() for name in vietnamese)
    kinds = Counter(n["kind"] for r in left + right for n in r["names"])
    assert kinds["alias"] > 0 and kinds["transliteration"] > 0


def test_date_perturbations_present_in_true_pairs(dataset) -> None:
    levels = Counter()
    for a, b in pairs(dataset):
        da, db = parse_birth_date(a.get("birth_date"))[0], parse_birth_date(b.get("birth_date"))[0]
        levels[compare_birth_dates(da, db).level] += 1
    total = sum(levels.values())
    assert levels["exact"] / total > 0.4                    # most agree ...
    for level in ("swapped", "typo", "compatible_year", "year_near", "missing"):
        assert levels[level] > 0, level                     # ... but every kind of damage occurs
    assert levels["disagree"] / total < 0.05                # and true pairs rarely disagree outright


def test_document_perturbations_present_in_true_pairs(dataset) -> None:
    levels = Counter(compare_documents(document_keys(a.get("documents")), document_keys(b.get("documents"))).level
                     for a, b in pairs(dataset))
    for level in ("exact", "ocr", "different", "missing"):
        assert levels[level] > 0, level
    assert levels["missing"] < sum(levels.values())         # documents help, but not always


def test_mrz_on_some_passports_is_valid(dataset) -> None:
    _, _, right, _ = dataset
    mrzs = [d["mrz"] for r in right for d in r.get("documents", []) if "mrz" in d]
    assert mrzs and all(parse_mrz(m).valid for m in mrzs)


def test_distractors_look_alike(dataset) -> None:
    """Some unlinked right records carry exactly the name of a left person (namesakes and twins)."""
    _, left, right, rows = dataset
    linked = {b for _, b in rows[1:]}
    left_names = {n["full"] for r in left for n in r["names"]}
    lookalikes = [r for r in right if r["id"] not in linked and any(n["full"] in left_names for n in r["names"])]
    assert len(lookalikes) > 0.02 * len(right)


def test_every_source_name_is_a_valid_name(generate) -> None:
    """The name lists hold a few mojibake rows; none of what the bank keeps may fail the strict validator."""
    bank = generate.NameBank()
    names = [n for pair in bank.kh_surnames + bank.kh_given for n in pair]
    names += [t[0] for t in bank.thai] + [t[1] for t in bank.thai] + [v for t in bank.thai for v in t[2]]
    names += [n for pair in bank.vn_full for n in pair]
    assert len(names) > 5000
    for name in names:
        validate_person({"names": [{"full": name}]})
