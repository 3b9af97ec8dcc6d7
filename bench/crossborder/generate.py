"""Generate the cross-border evaluation set: Cambodia's records (left) against Thailand's and Vietnam's (right).

    python bench/crossborder/generate.py --out bench/out/crossborder --people 2000 --seed 7

Writes ``left.jsonl`` and ``right.jsonl`` (canonical person records, each valid under
protocols.person.validate_person), ``links.csv`` (``left_id,right_id`` of the true matches) and
``stats.json`` (how often each perturbation was actually applied). Deterministic for a seed. Every rate is in
``xb_world.RATES`` and explained in README.md; records are written by xb_records.py.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

# sibling modules and the project root (matching, protocols) when run as a script from anywhere
for _path in (str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])):
    if _path not in sys.path:
        sys.path.append(_path)

import xb_perturb as pert  # noqa: E402
from xb_names import NameBank, NameForm, PersonName  # noqa: E402
from xb_records import left_record, right_record  # noqa: E402
from xb_world import PLACES, RATES, Dice, Person, street  # noqa: E402


class Generator(Dice):
    """Draws the people, their look-alikes and the strangers, and writes every record."""

    def __init__(self, seed: int, bank: NameBank | None = None) -> None:
        super().__init__(seed)
        self.bank = bank or NameBank()

    # --- people -------------------------------------------------------------------------------------------------
    def person(self, nationality: str | None = None) -> Person:
        rng = self.rng
        nat = nationality or self.pick("nationality")
        sex = "male" if self.chance("male") else "female"
        alias = None
        if self.chance("alias"):
            alias = self.bank.person_name(nat, sex, rng)
        return Person(nat, sex, pert.random_birth_date(rng), self.bank.person_name(nat, sex, rng), alias,
                      rng.choice(PLACES[nat])[0], rng.choice(PLACES[nat]), street(nat, rng),
                      pert.passport_number(nat, rng),
                      dt.date(rng.randint(2024, 2035), rng.randint(1, 12), rng.randint(1, 28)),
                      pert.national_id(nat, rng))

    def namesake(self, p: Person) -> Person:
        """A different person with the same name: other birth date (often close), other documents."""
        other = self.person(p.nationality)
        birth = other.birth
        if self.rng.random() < 0.5:
            birth = pert.random_birth_date(self.rng, max(1950, p.birth.year - 3), min(2001, p.birth.year + 3))
        return replace(other, name=p.name, sex=p.sex, birth=birth)

    def relative(self, p: Person) -> Person:
        """A brother or sister: same family name and home, other given name, born some years apart."""
        other = self.person(p.nationality)
        gap = self.rng.choice([-1, 1]) * self.rng.randint(1, 15)
        year = min(2001, max(1940, p.birth.year + gap))
        return replace(other, name=_same_family(other.name, p.name), home=p.home, home_line=p.home_line,
                       birth_place=p.birth_place,
                       birth=pert.random_birth_date(self.rng, year, year))

    def twin(self, p: Person) -> Person:
        other = self.relative(p)
        return replace(other, birth=p.birth)

    # --- the whole set ------------------------------------------------------------------------------------------
    def generate(self, people: int) -> tuple[list[dict], list[dict], list[tuple[str, str]]]:
        rng, st = self.rng, self.stats
        persons = [self.person() for _ in range(people)]
        left, pending, links = [], [], []   # pending: (person, country, left id or None)
        for i, p in enumerate(persons):
            lid = f"KH-{i + 1:06d}"
            rec = left_record(self, p, lid)
            left.append(rec)
            has_passport = any(d["kind"] == "passport" for d in rec.get("documents", []))
            if self.chance("in_right"):
                first = p.nationality if p.nationality != "KH" else (
                    "TH" if self.chance("kh_national_to_th") else "VN")
                pending.append((p, first, lid, has_passport))
                if self.chance("in_both_partners"):
                    pending.append((p, "VN" if first == "TH" else "TH", lid, has_passport))
                    st["in_both_partners"] += 1
        for kind, make in (("namesakes", self.namesake), ("relatives", self.relative), ("twins", self.twin)):
            for p in rng.sample(persons, round(people * RATES[kind])):
                other = make(p)
                country = p.nationality if p.nationality != "KH" else rng.choice(["TH", "VN"])
                pending.append((other, country, None, False))
                st[kind] += 1
        for _ in range(round(people * RATES["right_only"])):
            other = self.person()
            country = other.nationality if other.nationality != "KH" else rng.choice(["TH", "VN"])
            pending.append((other, country, None, False))
            st["right_only"] += 1
        rng.shuffle(pending)
        right = []
        for j, (p, country, lid, has_passport) in enumerate(pending):
            rid = f"{country}-{j + 1:06d}"
            right.append(right_record(self, p, country, rid, has_passport))
            if lid is not None:
                links.append((lid, rid))
        st["left"], st["right"], st["links"] = len(left), len(right), len(links)
        return left, right, sorted(links)


def _same_family(own: PersonName, other: PersonName) -> PersonName:
    def swap(form: NameForm | None, source: NameForm | None) -> NameForm | None:
        if form is None or source is None:
            return form
        return replace(form, family=source.family)
    return PersonName(swap(own.native, other.native), swap(own.passport, other.passport) or own.passport,
                      [replace(s, family=other.passport.family) for s in own.spellings], own.given_first,
                      swap(own.romanised, other.romanised))


def write(out: Path, left: list[dict], right: list[dict], links: list[tuple[str, str]], stats: Counter) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, records in (("left.jsonl", left), ("right.jsonl", right)):
        with (out / name).open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    with (out / "links.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["left_id", "right_id"])
        writer.writerows(links)
    (out / "stats.json").write_text(json.dumps(dict(sorted(stats.items())), indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench/out/crossborder"))
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.people <= 1_000_000:
        parser.error("--people must be between 1 and 1,000,000")
    gen = Generator(args.seed)
    left, right, links = gen.generate(args.people)
    write(args.out, left, right, links, gen.stats)
    print(f"{len(left)} left, {len(right)} right, {len(links)} links -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
