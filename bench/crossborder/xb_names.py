"""Names for the cross-border evaluation set, built from the real name lists in ../shared/data/names/.

A person's name exists in several forms: the native one (Khmer script, Thai script, Vietnamese with
diacritics), the Latin one printed in the passport, and other Latin spellings clerks actually write.
``NameBank.person_name(nationality, sex, rng)`` draws one person's forms:

- Cambodian: surname + one or two given names from khmer_names_kname.csv (Khmer script and its romanised
  spelling); other spellings from the informal romanisations in khmer_words_romanization_top.csv and from
  the usual alternations of Khmer romanisation (ea/ia, ch/j, ey/ei, final y/i, v/w, doubled n ...).
- Thai: a given name from thai_names_romanization.csv (Thai script, RTGS, variants people write); a surname
  composed from a second given name or a common surname ending (-wong, -sakun, -phan ...), since Thai
  surnames are long compounds. Passports carry a variant as often as the RTGS form.
- Vietnamese: a real full name (family, middle, given) with diacritics and its accent-free form.
"""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "names"  # shared/ lies beside the clone

# Thai surname endings: Thai script, RTGS, spellings people write.
THAI_SURNAME_ENDINGS = [
    ("วงศ์", "wong", ["vong", "wongse"]), ("สกุล", "sakun", ["sakul", "skul"]), ("พันธ์", "phan", ["pan", "pun"]),
    ("ชัย", "chai", ["chay", "jai"]), ("ศรี", "si", ["sri", "see"]), ("ทอง", "thong", ["tong", "torng"]),
    ("กุล", "kun", ["kul", "kool"]), ("รักษ์", "rak", ["ruk", "raks"]), ("วัฒนา", "watthana", ["wattana", "vatana"]),
]

# Alternations of informal Khmer romanisation (regex on lower case, replacement); one is applied at a time.
KHMER_SPELLING_RULES = [
    (r"ea", "ia"), (r"^ch(?!h)", "j"), (r"^chh", "ch"), (r"ey$", "ei"), (r"y$", "i"), (r"^v", "w"),
    (r"ou", "u"), (r"eu", "oeu"), (r"nn$", "n"), (r"(?<=[aeiou])n$", "nn"), (r"th", "t"), (r"kh", "k"),
    (r"ao", "o"), (r"ou$", "o"), (r"ph", "p"), (r"ai", "ay"),
]


# Khmer given names in khmer_names_kname.csv that are given to girls (the file has no gender column).
KHMER_FEMALE_GIVEN = frozenset({"Channary", "Chantrea", "Bopha", "Lakhena", "Sreyna", "Srey", "Sophea", "Metta",
                                "Serey", "Sokha"})


@dataclass(frozen=True)
class NameForm:
    family: str
    given: str
    script: str            # ISO 15924: Latn, Khmr, Thai


@dataclass
class PersonName:
    native: NameForm | None          # Khmer or Thai script, or Vietnamese with diacritics
    passport: NameForm               # Latin as printed in the passport
    spellings: list[NameForm] = field(default_factory=list)   # other Latin spellings seen in the wild
    given_first: bool = False        # Thai order: given name before family name
    romanised: NameForm | None = None  # the systematic romanisation of the native form (RTGS for Thai)

    def full(self, form: NameForm, swapped: bool = False) -> str:
        first_given = self.given_first != swapped
        parts = (form.given, form.family) if first_given else (form.family, form.given)
        return " ".join(p for p in parts if p)


def _title(word: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in word.split(" "))


def khmer_respell(latin: str, rng: random.Random) -> str:
    """One informal respelling of a romanised Khmer word, or the word itself when no rule applies."""
    word = latin.lower()
    rules = [(p, r) for p, r in KHMER_SPELLING_RULES if re.search(p, word)]
    if not rules:
        return latin
    pattern, repl = rng.choice(rules)
    return _title(re.sub(pattern, repl, word, count=1))


class NameBank:
    """The name lists, read once (the only file reading in the generator besides writing its output)."""

    def __init__(self, data: Path = DATA) -> None:
        self.kh_surnames: list[tuple[str, str]] = []
        self.kh_given: list[tuple[str, str]] = []
        for row in _rows(data / "khmer_names_kname.csv"):
            if row["part"] == "surname":
                self.kh_surnames.append((row["khmer"], row["latin"]))
            elif row["part"] == "given":
                self.kh_given.append((row["khmer"], row["latin"]))
        self.kh_informal: dict[str, list[str]] = defaultdict(list)
        for row in _rows(data / "khmer_words_romanization_top.csv"):
            self.kh_informal[row["khmer_word"]].append(row["latin"])
        thai: dict[str, dict] = {}
        for row in _rows(data / "thai_names_romanization.csv"):
            entry = thai.setdefault(row["thai"], {"rtgs": None, "variants": [], "gender": row["gender"]})
            if row["latin_kind"] == "rtgs":
                entry["rtgs"] = row["latin"]
            else:
                entry["variants"].append(row["latin"])
        self.thai = [(k, v["rtgs"], v["variants"], v["gender"]) for k, v in sorted(thai.items()) if v["rtgs"]]
        # 5 rows of the Vietnamese list are mojibake with C1 control characters ("HáşŁi Ä\x90Ä\x83ng"): skipped
        self.vn_full: list[tuple[str, str]] = [
            (row["vietnamese"], row["latin"]) for row in _rows(data / "vietnamese_names_ascii.csv")
            if row["pair_kind"] == "full_unidecode" and len(row["latin"].split()) >= 3
            and not any(unicodedata.category(ch)[0] == "C" for ch in row["vietnamese"])]

    def person_name(self, nationality: str, sex: str, rng: random.Random) -> PersonName:
        if nationality == "KH":
            return self._khmer(sex, rng)
        if nationality == "TH":
            return self._thai(sex, rng)
        return self._vietnamese(sex, rng)

    def _khmer(self, sex: str, rng: random.Random) -> PersonName:
        fam_km, fam_lat = rng.choice(self.kh_surnames)
        pool = [g for g in self.kh_given if (g[1] in KHMER_FEMALE_GIVEN) == (sex == "female")]
        parts = [rng.choice(pool)]
        if rng.random() < 0.25:
            second = rng.choice(pool)
            if second[1] != parts[0][1]:
                parts.append(second)
        given_km = " ".join(p[0] for p in parts)
        given_lat = " ".join(p[1] for p in parts)
        spellings = []
        for _ in range(3):
            fam = self._khmer_variant(fam_km, fam_lat, rng) if rng.random() < 0.5 else fam_lat
            giv = " ".join(self._khmer_variant(km, lat, rng) for km, lat in parts)
            form = NameForm(fam, giv, "Latn")
            if form != NameForm(fam_lat, given_lat, "Latn") and form not in spellings:
                spellings.append(form)
        return PersonName(NameForm(fam_km, given_km, "Khmr"), NameForm(fam_lat, given_lat, "Latn"), spellings)

    def _khmer_variant(self, khmer: str, latin: str, rng: random.Random) -> str:
        informal = [w for w in self.kh_informal.get(khmer, [])
                    if abs(len(w) - len(latin)) <= 2 and w[0] == latin[0].lower() and w != latin.lower()]
        if informal and rng.random() < 0.5:
            return _title(rng.choice(informal))
        return khmer_respell(latin, rng)

    def _thai(self, sex: str, rng: random.Random) -> PersonName:
        gender = "f" if sex == "female" else "m"
        pool = [t for t in self.thai if t[3] == gender] or self.thai
        g_th, g_rtgs, g_vars, _ = rng.choice(pool)
        b_th, b_rtgs, b_vars, _ = rng.choice(self.thai)
        if rng.random() < 0.5:
            e_th, e_rtgs, e_vars = rng.choice(THAI_SURNAME_ENDINGS)
            f_th, f_rtgs, f_vars = b_th + e_th, b_rtgs + e_rtgs, [v + rng.choice(e_vars) for v in b_vars or [b_rtgs]]
        else:
            c_th, c_rtgs, c_vars, _ = rng.choice(self.thai)
            f_th, f_rtgs = b_th + c_th, b_rtgs + c_rtgs
            f_vars = [v + rng.choice(c_vars or [c_rtgs]) for v in b_vars or [b_rtgs]]
        latin = [NameForm(_title(f_rtgs), _title(g_rtgs), "Latn")]
        latin += [NameForm(_title(rng.choice(f_vars)), _title(gv), "Latn") for gv in g_vars]
        # The passport spelling is the holder's choice: a variant as often as RTGS.
        passport = rng.choice(latin)
        return PersonName(NameForm(f_th, g_th, "Thai"), passport, [f for f in latin if f != passport],
                          given_first=True, romanised=latin[0])

    def _vietnamese(self, sex: str, rng: random.Random) -> PersonName:
        # the middle name Thị marks a woman and Văn a man; draw until the name fits the sex (bounded)
        for _ in range(20):
            native, latin = rng.choice(self.vn_full)
            middle = latin.split()[1]
            if (middle != "Thi" or sex == "female") and (middle != "Van" or sex != "female"):
                break
        nv, lv = native.split(), latin.split()
        return PersonName(NameForm(nv[0], " ".join(nv[1:]), "Latn"), NameForm(lv[0], " ".join(lv[1:]), "Latn"))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))
