"""The world of the cross-border evaluation set: the rates of every perturbation, places, and the truth
about one person. README.md explains each rate; generate.py draws people, xb_records.py writes records."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass

from xb_names import PersonName

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



class Dice:
    """The seeded random source and the tally of what was applied (stats.json)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.stats: Counter[str] = Counter()

    def chance(self, key: str) -> bool:
        return self.rng.random() < RATES[key]

    def pick(self, key: str) -> str:
        table = RATES[key]
        return self.rng.choices(list(table), weights=list(table.values()))[0]


def street(country: str, rng: random.Random) -> str:
    n = rng.randint(1, 300)
    if country == "KH":
        return f"House {n}, Street {rng.randint(1, 600)}"
    if country == "TH":
        return f"{n} Moo {rng.randint(1, 12)}"
    return f"{n} Duong {rng.choice(['Le Loi', 'Tran Hung Dao', 'Nguyen Hue', 'Hai Ba Trung'])}"

