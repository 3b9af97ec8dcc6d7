"""The mistakes and habits that make two countries' records of one person differ.

Every function takes the generator's ``random.Random`` so that a seed reproduces the set exactly. The rates
that decide how often each one is applied live in xb_world's ``RATES`` table (documented in README.md).
"""

from __future__ import annotations

import datetime as dt
import random
import string

from matching.mrz import check_digit

# OCR misreads of printed characters (the reverse of matching.magic.DOC_OCR_FOLD, as a scanner errs).
OCR_MISREADS = {"0": "O", "1": "I", "5": "S", "8": "B", "6": "G", "2": "Z", "O": "0", "I": "1", "S": "5",
                "B": "8"}


def random_birth_date(rng: random.Random, year_lo: int = 1950, year_hi: int = 2001) -> dt.date:
    start = dt.date(year_lo, 1, 1).toordinal()
    return dt.date.fromordinal(rng.randint(start, dt.date(year_hi, 12, 31).toordinal()))


def swap_day_month(date: dt.date) -> str | None:
    """The date with day and month exchanged, or None when that is not a different real date."""
    if date.day > 12 or date.day == date.month:
        return None
    return dt.date(date.year, date.day, date.month).isoformat()


def date_typo(date: dt.date, rng: random.Random) -> str:
    """One digit of the written date mistyped, or two neighbouring digits transposed; always a real date."""
    text = date.isoformat()
    positions = [i for i, ch in enumerate(text) if ch.isdigit() and i > 1]   # keep the century
    for _ in range(50):
        chars = list(text)
        i = rng.choice(positions)
        if rng.random() < 0.3 and i + 1 < len(text) and text[i + 1].isdigit() and text[i] != text[i + 1]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice([d for d in string.digits if d != text[i]])
        candidate = "".join(chars)
        try:
            if dt.date.fromisoformat(candidate).year <= 2005:
                return candidate
        except ValueError:
            continue
    return text


def messy_number(number: str, rng: random.Random) -> str:
    """The same number as clerks write it: spaced, dashed, dotted or in lower case."""
    style = rng.randrange(4)
    split = next((i for i, ch in enumerate(number) if ch.isdigit()), 0) or 3
    if style == 0:
        return number[:split] + " " + number[split:]
    if style == 1:
        return number[:split] + "-" + number[split:split + 3] + "-" + number[split + 3:]
    if style == 2:
        return number.lower()
    return ".".join(number[i:i + 4] for i in range(0, len(number), 4))


def ocr_damage(number: str, rng: random.Random) -> str:
    """One character misread by a scanner (0->O, 1->I, 5->S, 8->B ...), if the number has such a character."""
    positions = [i for i, ch in enumerate(number) if ch in OCR_MISREADS]
    if not positions:
        return number
    i = rng.choice(positions)
    return number[:i] + OCR_MISREADS[number[i]] + number[i + 1:]


def number_typo(number: str, rng: random.Random) -> str:
    """One digit replaced, or two neighbouring digits swapped."""
    digits = [i for i, ch in enumerate(number) if ch.isdigit()]
    i = rng.choice(digits)
    if rng.random() < 0.4 and i + 1 in digits and number[i] != number[i + 1]:
        return number[:i] + number[i + 1] + number[i] + number[i + 2:]
    return number[:i] + rng.choice([d for d in string.digits if d != number[i]]) + number[i + 1:]


def thai_national_id(rng: random.Random) -> str:
    """A 13-digit Thai citizen id with its mod-11 check digit."""
    body = str(rng.randint(1, 8)) + "".join(rng.choice(string.digits) for _ in range(11))
    total = sum(int(d) * (13 - i) for i, d in enumerate(body))
    return body + str((11 - total % 11) % 10)


def passport_number(country: str, rng: random.Random) -> str:
    digits = "".join(rng.choice(string.digits) for _ in range(7))
    if country == "KH":
        return "N" + digits
    if country == "TH":
        return rng.choice("AABS") + rng.choice(string.ascii_uppercase) + digits
    return rng.choice("BCCN") + digits


def national_id(country: str, rng: random.Random) -> str:
    if country == "TH":
        return thai_national_id(rng)
    if country == "VN":
        return "0" + "".join(rng.choice(string.digits) for _ in range(11))
    return "".join(rng.choice(string.digits) for _ in range(9))


_ALPHA3 = {"KH": "KHM", "TH": "THA", "VN": "VNM"}


def td3_mrz(family: str, given: str, number: str, country: str, birth: dt.date, sex: str, expires: dt.date) -> str:
    """The two MRZ lines of a passport (ICAO 9303 TD3) with correct check digits; names in upper-case ASCII."""
    names = (family.upper().replace(" ", "<") + "<<" + given.upper().replace(" ", "<")).replace("-", "<")
    names = "".join(ch for ch in names if "A" <= ch <= "Z" or ch == "<")
    line1 = f"P<{_ALPHA3[country]}{names}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")[:9]
    b, e = birth.strftime("%y%m%d"), expires.strftime("%y%m%d")
    sx = {"male": "M", "female": "F"}.get(sex, "<")
    body = f"{num}{check_digit(num)}{_ALPHA3[country]}{b}{check_digit(b)}{sx}{e}{check_digit(e)}" + "<" * 14 + "<"
    return line1 + "\n" + body + check_digit(body[0:10] + body[13:20] + body[21:43])
