"""Records of one person as Cambodia (left) and as Thailand or Vietnam (right) write them.

Each function draws from the ``Dice`` at the rates in xb_world.RATES (explained in README.md) and counts
what it applied in ``Dice.stats``.
"""

from __future__ import annotations

import datetime as dt
import random

import xb_perturb as pert
from xb_names import NameForm, PersonName
from xb_world import PLACES, RATES, Dice, Person, street


def left_record(d: Dice, p: Person, rid: str) -> dict:
    """Cambodia's record of a person."""
    rng, names = d.rng, []
    structured = d.chance("structured")
    if p.nationality == "KH":
        names.append(name_entry(p.name, p.name.native, "primary", structured))
        if d.chance("left_transliteration"):
            names.append(name_entry(p.name, p.name.passport, "transliteration", structured))
    elif p.nationality == "VN" and d.chance("left_vn_diacritics"):
        names.append(name_entry(p.name, p.name.native, "primary", structured))
    else:
        names.append(name_entry(p.name, p.name.passport, "primary", structured))
    if p.alias and d.chance("alias_left"):
        names.append(name_entry(p.alias, p.alias.passport, "alias", structured))
    rec: dict = {"id": rid, "names": names}
    if rng.random() >= RATES["left_sex_missing"]:
        rec["sex"] = p.sex
    form = d.pick("left_date")
    if form == "day":
        rec["birth_date"] = p.birth.isoformat()
    elif form == "year":
        rec["birth_date"] = str(p.birth.year)
    if d.chance("birth_place"):
        rec["birth_place"] = p.birth_place
    rec["nationalities"] = [p.nationality]
    docs = []
    if d.chance("left_passport_kh" if p.nationality == "KH" else "left_passport_foreign"):
        docs.append({"kind": "passport", "number": p.passport, "country": p.nationality,
                     "expires": p.passport_expires.isoformat()})
        d.stats["left_passport"] += 1
    if d.chance("left_national_id_kh" if p.nationality == "KH" else "left_foreign_national_id"):
        docs.append({"kind": "national_id", "number": p.national_id, "country": p.nationality})
    if docs:
        rec["documents"] = docs
    if d.chance("left_address"):
        if p.nationality == "KH":
            rec["addresses"] = [address("KH", p.home, rng, p.home_line)]
        else:
            rec["addresses"] = [address("KH", rng.choice(PLACES["KH"]), rng)]
    return rec


def right_record(d: Dice, p: Person, country: str, rid: str, left_has_passport: bool) -> dict:
    """Thailand's or Vietnam's record of a person (``country``)."""
    rng, st = d.rng, d.stats
    structured = d.chance("right_structured")
    names = []
    if p.nationality == country:
        names.append(name_entry(p.name, p.name.native, "primary", structured))
        if d.chance("right_native_latin"):
            # Thai police romanise the Thai script (RTGS) about as often as they copy the passport
            latin = p.name.romanised if p.name.romanised and rng.random() < 0.5 else p.name.passport
            names.append(name_entry(p.name, latin, "transliteration", structured))
    else:
        form = p.name.passport
        if p.name.spellings and d.chance("right_other_spelling"):
            form = rng.choice(p.name.spellings)
            st["right_other_spelling"] += 1
        swapped = d.chance("right_order_swapped")
        st["right_order_swapped"] += swapped
        names.append(name_entry(p.name, form, "primary", structured, swapped))
    if p.alias and d.chance("alias_right"):
        names.append(name_entry(p.alias, p.alias.passport, "alias", structured))
    rec: dict = {"id": rid, "names": names}
    if rng.random() >= RATES["right_sex_missing"]:
        wrong = d.chance("sex_wrong")
        rec["sex"] = ({"male": "female", "female": "male"}[p.sex]) if wrong else p.sex
    _right_date(d, p, rec)
    if d.chance("birth_place"):
        rec["birth_place"] = p.birth_place
    if not d.chance("right_nationality_missing"):
        nats = [p.nationality]
        if d.chance("dual_nationality"):
            nats.append(rng.choice([c for c in ("KH", "TH", "VN", "CN") if c != p.nationality]))
            st["dual_nationality"] += 1
        rec["nationalities"] = nats
    docs = _right_documents(d, p, country, left_has_passport)
    if docs:
        rec["documents"] = docs
    addresses = []
    if d.chance("right_address"):
        addresses.append(address(country, rng.choice(PLACES[country]), rng))
    if p.nationality == "KH" and d.chance("right_home_address"):
        addresses.append(address("KH", p.home, rng, p.home_line))
    if addresses:
        rec["addresses"] = addresses
    return rec


def _right_date(d: Dice, p: Person, rec: dict) -> None:
    form = d.pick("right_date")
    d.stats["right_date_" + form] += 1
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
        value = pert.date_typo(p.birth, d.rng)
    elif form == "year_off":
        value = str(p.birth.year + d.rng.choice([-1, 1]))     # an age converted to a year
    rec["birth_date"] = value


def _right_documents(d: Dice, p: Person, country: str, left_has_passport: bool) -> list[dict]:
    rng, st, docs = d.rng, d.stats, []
    number, expires = None, p.passport_expires
    roll = rng.random()
    if roll < RATES["right_same_passport"]:
        number = p.passport
    elif roll < RATES["right_same_passport"] + RATES["right_renewed_passport"]:
        number, expires = pert.passport_number(p.nationality, rng), dt.date(2036, 1, 1)
        st["right_renewed_passport"] += 1
    if number is not None:
        clean = number
        if d.chance("passport_ocr"):
            number = pert.ocr_damage(number, rng)
            st["passport_ocr"] += number != clean
        elif d.chance("passport_typo"):
            number = pert.number_typo(number, rng)
            st["passport_typo"] += 1
        if d.chance("passport_messy"):
            number = pert.messy_number(number, rng)
            st["passport_messy"] += 1
        doc = {"kind": "passport", "number": number, "country": p.nationality, "expires": expires.isoformat()}
        if d.chance("right_mrz"):   # read by a scanner, check digits verified: the true number
            doc["mrz"] = pert.td3_mrz(p.name.passport.family, p.name.passport.given, clean, p.nationality,
                                      p.birth, p.sex, expires)
            st["right_mrz"] += 1
        docs.append(doc)
        st["right_passport"] += 1
        st["right_passport_same_as_left"] += left_has_passport and clean == p.passport
    if p.nationality == country and d.chance("right_national_id_own"):
        docs.append({"kind": "national_id", "number": p.national_id, "country": country})
    return docs


def name_entry(pn: PersonName, form: NameForm | None, kind: str, structured: bool, swapped: bool = False) -> dict:
    form = form or pn.passport
    out = {"full": pn.full(form, swapped), "script": form.script, "kind": kind}
    if structured:
        family, given = (form.given, form.family) if swapped else (form.family, form.given)
        out.update(family=family, given=given)
    return out



def address(country: str, place: tuple[str, str], rng: random.Random, line: str | None = None) -> dict:
    """An address; a known home line is sometimes written in another style ("No. 12, St. 271")."""
    if line is None:
        line = street(country, rng)
    elif rng.random() < 0.3:
        line = line.replace("House ", "No. ").replace("Street ", "St. ")
    out = {"line": line, "locality": place[0], "country": country}
    if rng.random() < 0.6:
        out["postcode"] = place[1]
    return out

