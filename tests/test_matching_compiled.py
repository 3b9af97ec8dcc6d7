"""The compiled build of the matching library (matching/compiled.py) is in use, and answers exactly as plain Python.

Both builds run the same source, but a compiled function checks its arguments' annotated types at run time and
mypyc compiles some operations its own way, so the two are compared on what partners really send: names in
Khmer, Thai and Vietnamese script, hostile values in every field, records whose keys collide.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matching import compiled

ROOT = Path(__file__).resolve().parent.parent
NAMES = ROOT.parent / "shared" / "data" / "names"

# Run in a fresh interpreter (so MATCHING_PURE decides which build loads): reads records on stdin, prints what
# every part of the library made of them.
PROBE = r"""
import dataclasses, json, sys
from matching import compiled
from matching.index import CandidateIndex, blocking_keys
from matching.model import default_model
from matching.record import prepare

def plain(x):
    if dataclasses.is_dataclass(x):
        return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, (frozenset, set)):
        return sorted((plain(v) for v in x), key=repr)
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return x

records = json.load(sys.stdin)
prepared = [prepare(r) for r in records]
model = default_model()
out = {
    "loaded": compiled.loaded(),
    "prepared": [plain(p) for p in prepared],
    "keys": [sorted(blocking_keys(p)) for p in prepared],
    "scores": [model.score(a, b).as_dict() for a, b in zip(prepared, prepared[1:])],
}
by_id = {r["id"]: r for r in records if isinstance(r, dict) and isinstance(r.get("id"), str) and r["id"]}
indexed = list(by_id.values())
answers = []
for workers in (1, 2):
    index = CandidateIndex()
    index.add_many(indexed, workers=workers)
    answers.append([[(c.id, c.probability, c.match.as_dict()) for c in index.query(r, limit=5, threshold=0.05)]
                    for r in indexed[::7]])
out["queries"] = answers
json.dump(out, sys.stdout, sort_keys=True)
"""


def _rows(name: str) -> list[dict[str, str]]:
    with (NAMES / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _hostile(rng: random.Random) -> object:
    """A value a careless or hostile partner might put in any field."""
    texts = ["Sok\u200bDara", "\u202eArad Kos", "Ѕоk Dаrа", "NguyÃªn VÄƒn", "Nguyễn Đức", "x" * 300, "", " ",
             "Mr. Ông Bà Lok", "1980-02-30", "N 123-4567", "ស៊ុន ដារ៉ា", "สมชาย", "\x00\n\t", "\ud800"]
    leaves = [None, True, 0, -1, 2**70, 1.5, float("nan"), rng.choice(texts)]
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(leaves)
    if kind == 1:
        return [rng.choice(leaves) for _ in range(rng.randrange(3))]
    if kind == 2:
        return {rng.choice(["full", "family", "given", "script", "kind", "number", "country", "postcode"]):
                rng.choice(leaves) for _ in range(rng.randrange(4))}
    return [{"full": rng.choice(texts), "family": rng.choice(leaves), "number": rng.choice(texts)}]


def _records() -> list[object]:
    """Names in native script and romanised (the shared data), with dates and documents drawn so that keys
    collide, then hostile records."""
    rng = random.Random(11)
    names = ([(r["khmer"], r["latin"]) for r in _rows("khmer_names_kname.csv")][:150]
             + [(r["thai"], r["latin"]) for r in _rows("thai_names_romanization.csv")][:300:2]
             + [(r["vietnamese"], r["latin"]) for r in _rows("vietnamese_names_ascii.csv")][:300:2])
    out: list[object] = []
    for i, (native, latin) in enumerate(names):
        for j, text in enumerate((native, latin)):
            r: dict = {"id": f"n{i}-{j}", "names": [{"full": text}],
                       "birth_date": rng.choice(["1980-03-14", "1980-14-03", "1980", "1975-08-21", "1979-04"]),
                       "sex": rng.choice(["male", "female", "F", None]), "nationalities": [rng.choice(["KH", "TH"])]}
            if rng.random() < 0.4:
                r["documents"] = [{"kind": "passport", "number": rng.choice(["N1234567", "N 123-4567", "C765"]),
                                   "country": "KH"}]
            if rng.random() < 0.3:
                r["addresses"] = [{"locality": "Poipet", "postcode": rng.choice(["12000", "10110"]), "country": "KH"}]
            if rng.random() < 0.2:
                r["birth_place"] = rng.choice(["Battambang", "Bangkok", "Sa Kaeo"])
            out.append(r)
    fields = ["id", "names", "birth_date", "sex", "nationalities", "documents", "addresses", "birth_place"]
    for i in range(300):
        r = {f: _hostile(rng) for f in fields if rng.random() < 0.6}
        if rng.random() < 0.5:
            r["id"] = f"h{i}"
        out.append(r)
    out += [None, [], "not a record", 7]
    return out


def _probe(records: list[object], pure: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_ENV}
    if pure:
        env[compiled.PURE_ENV] = "1"
    done = subprocess.run([sys.executable, "-c", PROBE], input=json.dumps(records), capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.mark.skipif(os.environ.get(compiled.PURE_ENV, "") not in ("", "0"), reason="MATCHING_PURE is set")
def test_the_compiled_build_is_in_use() -> None:
    assert compiled.built(), "no compiled build of this source: run scripts/bootstrap (python -m matching compile)"
    import matching.index  # noqa: F401 - every module of MODULES is imported by now

    assert compiled.active is not None
    assert compiled.loaded() == list(compiled.MODULES)
    for name in compiled.MODULES:
        assert str(sys.modules[f"matching.{name}"].__file__).startswith(str(compiled.active))


@pytest.mark.slow
def test_compiled_and_plain_python_answer_exactly_alike() -> None:
    records = _records()
    fast, pure = _probe(records, pure=False), _probe(records, pure=True)
    assert pure.pop("loaded") == []
    assert fast.pop("loaded") == (list(compiled.MODULES) if compiled.built() else [])
    assert len(pure["prepared"]) == len(records) and len(pure["queries"][0]) > 50
    assert any(p["problems"] for p in pure["prepared"]) and any(q for q in pure["queries"][0])
    for part in pure:  # part by part, so a failure names the part
        assert fast[part] == pure[part], part


def test_a_changed_source_never_runs_an_old_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "matching"
    shutil.copytree(compiled._SOURCE, source, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(compiled, "_SOURCE", source)
    monkeypatch.setattr(compiled, "_BUILDS", tmp_path / "builds")
    monkeypatch.setattr(compiled, "active", compiled.active)  # restored afterwards
    monkeypatch.delenv(compiled.PURE_ENV, raising=False)
    build = compiled.build_dir() / "matching"
    build.mkdir(parents=True)
    path: list[str] = []
    assert compiled.activate(path) is None and path == []  # no marker yet: a half-copied build is not used
    (build / compiled._MARKER).write_text(compiled.digest())
    assert compiled.built() and compiled.activate(path) == build and path == [str(build)]
    names = source / "names.py"
    names.write_text(names.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    path = []
    assert not compiled.built() and compiled.activate(path) is None and path == []
    names.write_text(names.read_text(encoding="utf-8").removesuffix("# edited\n"), encoding="utf-8")
    monkeypatch.setenv(compiled.PURE_ENV, "1")
    assert compiled.built() and compiled.activate(path) is None and path == []


def test_the_command_line_says_whether_this_source_is_built(monkeypatch: pytest.MonkeyPatch,
                                                            tmp_path: Path) -> None:
    from matching.__main__ import main

    out = io.StringIO()
    assert main(["compile", "--check"], out=out) == (0 if compiled.built() else 1)
    assert str(compiled.build_dir()) in out.getvalue()
    monkeypatch.setattr(compiled, "_BUILDS", tmp_path / "none")
    out = io.StringIO()
    assert main(["compile", "--check"], out=out) == 1 and "missing" in out.getvalue()
