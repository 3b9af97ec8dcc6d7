"""Generate the cross-border evaluation set: Cambodia's records (left) against Thailand's and Vietnam's (right).

    python bench/crossborder/generate.py --out bench/out/crossborder --people 2000 --seed 7

Writes ``left.jsonl`` and ``right.jsonl`` (canonical person records, each valid under
protocols.person.validate_person), ``links.csv`` (``left_id,right_id`` of the true matches) and
``stats.json`` (how often each perturbation was actually applied). Deterministic for a seed. Every rate is in
``RATES`` below and explained in README.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

# sibling modules and the project root (matching, protocols) when run as a script from anywhere
for _path in (str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[2])):
    if _path not in sys.path:
        sys.path.append(_path)

import xb_perturb as pert  # noqa: E402
from xb_names import NameBank, NameForm, PersonName  # noqa: E402

RATES = {
    "nationality": {"KH": 0.55, "TH": 0.25, "VN": 0.20},
    "male": 0.85,
    "in_right": 0.70,                 # share of the left people that a partner also recorded
    "in_both_partners": 0.05,         # of those, recorded by Thailand and by Vietnam
    "kh_national_to_th": 0.55,        # a Cambodian is recorded by Thailand, else by Vietnam
    "alias": 0.10, "alias_left": 0.5, "alias_right": 0.7,
    "left_transliteration": 0.70,     # Cambodian register adds the passport spelling to the Khmer name
    "left_vn_diacritics": 0.15,
    "structured": 0.80, "right_structured": 0.60,
    "right_other_spelling": 0.35,     # a foreigner's name typed by ear instead of from the passport
    "right_order_swapped": 0.15,
    "right_native_latin": 0.50,       # Thai/Vietnamese record adds a Latin form of the native name
    "left_date": {"day": 0.90, "year": 0.06, "missing": 0.04},
    "right_date": {"exact": 0.62, "year": 0.12, "month": 0.03, "swap": 0.05, "typo": 0.05, "year_off": 0.05,
                   "missing": 0.08},
    "left_sex_missing": 0.03, "right_sex_missing": 0.10, "sex_wrong": 0.01,
    "right_nationality_missing": 0.15, "dual_nationality": 0.03,
    "left_passport_kh": 0.40, "left_passport_foreign": 0.85, "left_national_id_kh": 0.80,
    "right_same_passport": 0.60, "right_renewed_passport": 0.15,
    "passport_messy": 0.25, "passport_ocr": 0.10, "passport_typo": 0.04, "right_mrz": 0.20,
    "right_national_id_own": 0.70, "left_foreign_national_id": 0.15,
    "left_address": 0.70, "right_address": 0.70, "right_home_address": 0.15,
    "birth_place": 0.45,
    "namesakes": 0.12, "relatives": 0.08, "twins": 0.03, "right_only": 0.15,
}

PLACES = {
    "KH": [("Phnom Penh", "120101"), ("Battambang", "020101"), ("Siem Reap", "170101"), ("Poipet", "010301"),
           ("Koh Kong", "090101"), ("Sihanoukville", "180101"), ("Bavet", "200701"), ("Svay Rieng", "200101"),
           ("Kampot", "070101"), ("Takeo", "210101"), ("Kampong Cham", "030101"), ("Prey Veng", "140101")],
    "TH": [("Bangkok", "10110"), ("Pattaya", "20150"), ("Aranyaprathet", "27120"), ("Trat", "23000"),
           ("Chanthaburi", "22000"), ("Sa Kaeo", "27000"), ("Surin", "32000"), ("Chiang Mai", "50000"),
           ("Khlong Yai", "23110")],
    "VN": [("Ho Chi Minh City", "700000"), ("Chau Doc", "880000"), ("Tay Ninh", "840000"), ("Ha Tien", "920000"),
           ("Can Tho", "900000"), ("Long Xuyen", "880000"), ("Ha Noi", "100000"), ("Moc Bai", "840000")],
}


@dataclass
class Person:
    """The truth about one person, from which every record of them is written."""

    nationality: str
    sex: str
    birth: dt.date
    name: PersonName
    alias: PersonName | None
    birth_place: str
    home: tuple[str, str]              # (locality, postcode) in the country of nationality
    home_line: str                     # the street line of that home, as on an identity card
    passport: str
    passport_expires: dt.date
    national_id: str


class Generator:
    def __init__(self, seed: int, bank: NameBank | None = None) -> None:
        self.rng = random.Random(seed)
        self.bank = bank or NameBank()
        self.stats: Counter[str] = Counter()

    def chance(self, key: str) -> bool:
        return self.rng.random() < RATES[key]

    def pick(self, key: str) -> str:
        table = RATES[key]
        return self.rng.choices(list(table), weights=list(table.values()))[0]

    # --- people -------------------------------------------------------------------------------------------------
    def person(self, nationality: str | None = None) -> Person:
        rng = self.rng
        nat = nationality or self.pick("nationality")
        sex = "male" if self.chance("male") else "female"
        alias = None
        if self.chance("alias"):
            alias = self.bank.person_name(nat, sex, rng)
        return Person(nat, sex, pert.random_birth_date(rng), self.bank.person_name(nat, sex, rng), alias,
                      rng.choice(PLACES[nat])[0], rng.choice(PLACES[nat]), _street(nat, rng),
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

    # --- records ------------------------------------------------------------------------------------------------
    def left_record(self, p: Person, rid: str) -> dict:
        rng, names = self.rng, []
        structured = self.chance("structured")
        if p.nationality == "KH":
            names.append(_name(p.name, p.name.native, "primary", structured))
            if self.chance("left_transliteration"):
                names.append(_name(p.name, p.name.passport, "transliteration", structured))
        elif p.nationality == "VN" and self.chance("left_vn_diacritics"):
            names.append(_name(p.name, p.name.native, "primary", structured))
        else:
            names.append(_name(p.name, p.name.passport, "primary", structured))
        if p.alias and self.chance("alias_left"):
            names.append(_name(p.alias, p.alias.passport, "alias", structured))
        rec: dict = {"id": rid, "names": names}
        if rng.random() >= RATES["left_sex_missing"]:
            rec["sex"] = p.sex
        form = self.pick("left_date")
        if form == "day":
            rec["birth_date"] = p.birth.isoformat()
        elif form == "year":
            rec["birth_date"] = str(p.birth.year)
        if self.chance("birth_place"):
            rec["birth_place"] = p.birth_place
        rec["nationalities"] = [p.nationality]
        docs = []
        if self.chance("left_passport_kh" if p.nationality == "KH" else "left_passport_foreign"):
            docs.append({"kind": "passport", "number": p.passport, "country": p.nationality,
                         "expires": p.passport_expires.isoformat()})
            self.stats["left_passport"] += 1
        if self.chance("left_national_id_kh" if p.nationality == "KH" else "left_foreign_national_id"):
            docs.append({"kind": "national_id", "number": p.national_id, "country": p.nationality})
        if docs:
            rec["documents"] = docs
        if self.chance("left_address"):
            if p.nationality == "KH":
                rec["addresses"] = [_address("KH", p.home, rng, p.home_line)]
            else:
                rec["addresses"] = [_address("KH", rng.choice(PLACES["KH"]), rng)]
        return rec

    def right_record(self, p: Person, country: str, rid: str, left_has_passport: bool) -> dict:
        rng, st = self.rng, self.stats
        structured = self.chance("right_structured")
        names = []
        if p.nationality == country:
            names.append(_name(p.name, p.name.native, "primary", structured))
            if self.chance("right_native_latin"):
                # Thai police romanise the Thai script (RTGS) about as often as they copy the passport
                latin = p.name.romanised if p.name.romanised and rng.random() < 0.5 else p.name.passport
                names.append(_name(p.name, latin, "transliteration", structured))
        else:
            form = p.name.passport
            if p.name.spellings and self.chance("right_other_spelling"):
                form = rng.choice(p.name.spellings)
                st["right_other_spelling"] += 1
            swapped = self.chance("right_order_swapped")
            st["right_order_swapped"] += swapped
            names.append(_name(p.name, form, "primary", structured, swapped))
        if p.alias and self.chance("alias_right"):
            names.append(_name(p.alias, p.alias.passport, "alias", structured))
        rec: dict = {"id": rid, "names": names}
        if rng.random() >= RATES["right_sex_missing"]:
            wrong = self.chance("sex_wrong")
            rec["sex"] = ({"male": "female", "female": "male"}[p.sex]) if wrong else p.sex
        self._right_date(p, rec)
        if self.chance("birth_place"):
            rec["birth_place"] = p.birth_place
        if not self.chance("right_nationality_missing"):
            nats = [p.nationality]
            if self.chance("dual_nationality"):
                nats.append(rng.choice([c for c in ("KH", "TH", "VN", "CN") if c != p.nationality]))
                st["dual_nationality"] += 1
            rec["nationalities"] = nats
        docs = self._right_documents(p, country, left_has_passport)
        if docs:
            rec["documents"] = docs
        addresses = []
        if self.chance("right_address"):
            addresses.append(_address(country, rng.choice(PLACES[country]), rng))
        if p.nationality == "KH" and self.chance("right_home_address"):
            addresses.append(_address("KH", p.home, rng, p.home_line))
        if addresses:
            rec["addresses"] = addresses
        return rec

    def _right_date(self, p: Person, rec: dict) -> None:
        form = self.pick("right_date")
        self.stats["right_date_" + form] += 1
        if form == "missing":
            return
        value = p.birth.isoformat()
        if form == "year":
            value = str(p.birth.year)
        elif form == "month":
            value = value[:7]
        elif form == "swap":
            value = pert.swap_day_month(p.birth) or value
        elif form == "typo":
            value = pert.date_typo(p.birth, self.rng)
        elif form == "year_off":
            value = str(p.birth.year + self.rng.choice([-1, 1]))     # an age converted to a year
        rec["birth_date"] = value

    def _right_documents(self, p: Person, country: str, left_has_passport: bool) -> list[dict]:
        rng, st, docs = self.rng, self.stats, []
        number, expires = None, p.passport_expires
        roll = rng.random()
        if roll < RATES["right_same_passport"]:
            number = p.passport
        elif roll < RATES["right_same_passport"] + RATES["right_renewed_passport"]:
            number, expires = pert.passport_number(p.nationality, rng), dt.date(2036, 1, 1)
            st["right_renewed_passport"] += 1
        if number is not None:
            clean = number
            if self.chance("passport_ocr"):
                number = pert.ocr_damage(number, rng)
                st["passport_ocr"] += number != clean
            elif self.chance("passport_typo"):
                number = pert.number_typo(number, rng)
                st["passport_typo"] += 1
            if self.chance("passport_messy"):
                number = pert.messy_number(number, rng)
                st["passport_messy"] += 1
            doc = {"kind": "passport", "number": number, "country": p.nationality, "expires": expires.isoformat()}
            if self.chance("right_mrz"):   # read by a scanner, check digits verified: the true number
                doc["mrz"] = pert.td3_mrz(p.name.passport.family, p.name.passport.given, clean, p.nationality,
                                          p.birth, p.sex, expires)
                st["right_mrz"] += 1
            docs.append(doc)
            st["right_passport"] += 1
            st["right_passport_same_as_left"] += left_has_passport and clean == p.passport
        if p.nationality == country and self.chance("right_national_id_own"):
            docs.append({"kind": "national_id", "number": p.national_id, "country": country})
        return docs

    # --- the whole set ------------------------------------------------------------------------------------------
    def generate(self, people: int) -> tuple[list[dict], list[dict], list[tuple[str, str]]]:
        rng, st = self.rng, self.stats
        persons = [self.person() for _ in range(people)]
        left, pending, links = [], [], []   # pending: (person, country, left id or None)
        for i, p in enumerate(persons):
            lid = f"KH-{i + 1:06d}"
            rec = self.left_record(p, lid)
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
            right.append(self.right_record(p, country, rid, has_passport))
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
                      [replace(s, family=other.passport.family) for s in own.spellings], own.given_first)


def _name(pn: PersonName, form: NameForm | None, kind: str, structured: bool, swapped: bool = False) -> dict:
    form = form or pn.passport
    out = {"full": pn.full(form, swapped), "script": form.script, "kind": kind}
    if structured:
        family, given = (form.given, form.family) if swapped else (form.family, form.given)
        out.update(family=family, given=given)
    return out


def _street(country: str, rng: random.Random) -> str:
    n = rng.randint(1, 300)
    if country == "KH":
        return f"House {n}, Street {rng.randint(1, 600)}"
    if country == "TH":
        return f"{n} Moo {rng.randint(1, 12)}"
    return f"{n} Duong {rng.choice(['Le Loi', 'Tran Hung Dao', 'Nguyen Hue', 'Hai Ba Trung'])}"


def _address(country: str, place: tuple[str, str], rng: random.Random, line: str | None = None) -> dict:
    """An address; a known home line is sometimes written in another style ("No. 12, St. 271")."""
    if line is None:
        line = _street(country, rng)
    elif rng.random() < 0.3:
        line = line.replace("House ", "No. ").replace("Street ", "St. ")
    out = {"line": line, "locality": place[0], "country": country}
    if rng.random() < 0.6:
        out["postcode"] = place[1]
    return out


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
