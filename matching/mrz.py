"""Machine-readable zones of passports (ICAO 9303 TD3) and identity cards (TD1): parse and verify.

``parse_mrz(text)`` returns an :class:`MRZ` with the fields the border module needs (document number,
issuer, names, nationality, birth date, sex, expiry) and the result of every check digit. A damaged MRZ
still parses: ``valid`` is False and ``failed_checks`` names the check digits that failed ("number",
"birth", "expiry", "personal", "composite"); fields that cannot be read are None and ``problems`` says why
in words. Text that is not an MRZ at all (wrong number or length of lines, characters outside A-Z, 0-9 and
'<') raises :class:`MRZError`, whose message never repeats the input.

Check digits are the ICAO 7-3-1 weighted sum, a few lines written here: the `mrz` package on PyPI does it
too but its last release was in 2020 and it pulls in far more than we use.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pycountry


class MRZError(ValueError):
    """The text is not a machine-readable zone (shape or alphabet); the message never quotes the text."""


@dataclass(frozen=True, slots=True)
class MRZ:
    format: str                    # "TD3" (passport, 2 x 44) or "TD1" (identity card, 3 x 30)
    document_code: str             # "P", "PP", "I", "ID", ... fillers removed
    document_number: str | None
    issuing_code: str              # as written: alpha-3 or an ICAO code such as "D" or "UTO"
    issuing_country: str | None    # ISO alpha-2, None when the code is not a country
    surname: str
    given_names: str
    names_truncated: bool          # the name field is full: the names may have been cut
    nationality_code: str
    nationality: str | None
    birth_date: str | None         # YYYY-MM-DD, or YYYY-MM / YYYY when the MRZ has '<' for unknown parts
    sex: str                       # "male", "female" or "unknown"
    expires: str | None            # YYYY-MM-DD
    optional_data: str
    failed_checks: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.failed_checks and not self.problems

    def document(self) -> dict[str, str]:
        """The canonical document record (protocols/person.py) this zone describes, without the zone itself."""
        kind = "passport" if self.document_code.startswith("P") else (
            "national_id" if self.document_code[:1] in ("I", "A", "C") else "other")
        out = {"kind": kind}
        if self.document_number:
            out["number"] = self.document_number
        if self.issuing_country:
            out["country"] = self.issuing_country
        if self.expires:
            out["expires"] = self.expires
        return out


_ALPHABET = re.compile(r"[A-Z0-9<]+", re.ASCII)
_MAX_TEXT = 200
_SPECIAL_CODES = {"D": "DE", "GBD": "GB", "GBN": "GB", "GBO": "GB", "GBP": "GB", "GBS": "GB"}
_SEXES = {"M": "male", "F": "female"}


def check_digit(field: str) -> str:
    """ICAO 9303 check digit of a field: weights 7, 3, 1 over 0-9, A-Z as 10-35 and '<' as 0."""
    total = 0
    for i, ch in enumerate(field):
        value = int(ch) if ch.isdigit() else 0 if ch == "<" else ord(ch) - 55
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def parse_mrz(text: object, today: dt.date | None = None) -> MRZ:
    """Parse a TD3 or TD1 MRZ (lines separated by newlines, or written as one line); raise MRZError if it is none."""
    lines = _split(text)
    now = today or dt.date.today()
    checks: list[tuple[str, str, str]] = []   # (name, field, digit)
    if len(lines) == 2:
        l1, l2 = lines
        code, issuer, names = l1[0:2], l1[2:5], l1[5:44]
        number, number_cd = l2[0:9], l2[9]
        nationality, birth, birth_cd, sex, expiry, expiry_cd = l2[10:13], l2[13:19], l2[19], l2[20], l2[21:27], l2[27]
        optional = l2[28:42]
        checks.append(("personal", optional, l2[42]))
        composite, composite_cd = l2[0:10] + l2[13:20] + l2[21:43], l2[43]
        fmt = "TD3"
    else:
        l1, l2, l3 = lines
        code, issuer, number, number_cd, optional = l1[0:2], l1[2:5], l1[5:14], l1[14], l1[15:30]
        birth, birth_cd, sex, expiry, expiry_cd, nationality = l2[0:6], l2[6], l2[7], l2[8:14], l2[14], l2[15:18]
        optional += l2[18:29]
        composite, composite_cd = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29]
        names = l3
        fmt = "TD1"
        if number_cd == "<" and optional[0] != "<":   # long number: the rest and its check digit in optional data
            rest = optional[:15].split("<", 1)[0]
            number, number_cd, optional = number + rest[:-1], rest[-1], optional[len(rest):]
    checks += [("number", number, number_cd), ("birth", birth, birth_cd), ("expiry", expiry, expiry_cd),
               ("composite", composite, composite_cd)]
    failed = tuple(name for name, value, digit in checks if _failed(name, value, digit))
    problems: list[str] = []
    expires = _date(expiry, lambda yy: 2000 + yy if 2000 + yy <= now.year + 50 else 1900 + yy)
    if expires is None and expiry.strip("<"):   # all fillers: a card without expiry, which ICAO allows
        problems.append("expiry date field is not a date")
    limit = min(now, dt.date.fromisoformat(expires)) if expires else now
    birth_date = _date(birth, lambda yy: 2000 + yy if 2000 + yy <= limit.year else 1900 + yy, partial=True)
    if birth_date is None and birth.strip("<"):
        problems.append("birth date field is not a date")
    if sex not in "MFX<":
        problems.append("sex field is not M, F, X or <")
    surname, _, given = names.rstrip("<").partition("<<")
    return MRZ(
        format=fmt,
        document_code=code.rstrip("<"),
        document_number=number.replace("<", "") or None,
        issuing_code=issuer.rstrip("<"),
        issuing_country=_country(issuer),
        surname=surname.replace("<", " ").strip(),
        given_names=given.replace("<", " ").strip(),
        names_truncated=not names.endswith("<"),
        nationality_code=nationality.rstrip("<"),
        nationality=_country(nationality),
        birth_date=birth_date,
        sex=_SEXES.get(sex, "unknown"),
        expires=expires,
        optional_data=optional.rstrip("<"),
        failed_checks=failed,
        problems=tuple(problems),
    )


def _split(text: object) -> list[str]:
    if not isinstance(text, str):
        raise MRZError("an MRZ must be text")
    if len(text) > _MAX_TEXT:
        raise MRZError("text is too long to be an MRZ")
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) in (88, 90):
        one = lines[0]
        lines = [one[:44], one[44:]] if len(one) == 88 else [one[:30], one[30:60], one[60:]]
    if not ((len(lines) == 2 and all(len(x) == 44 for x in lines))
            or (len(lines) == 3 and all(len(x) == 30 for x in lines))):
        raise MRZError("an MRZ has two lines of 44 characters (passport) or three of 30 (identity card)")
    if not all(_ALPHABET.fullmatch(x) for x in lines):
        raise MRZError("an MRZ uses only A-Z, 0-9 and '<'")
    return lines


def _failed(name: str, value: str, digit: str) -> bool:
    if name == "personal" and digit == "<" and not value.strip("<"):
        return False   # an empty personal number may carry '<' as its check digit
    return check_digit(value) != digit


def _date(field: str, century: Callable[[int], int], partial: bool = False) -> str | None:
    """YYMMDD to ISO; with ``partial``, '<' in the day (or month and day) gives a month (or year) date."""
    yy, mm, dd = field[0:2], field[2:4], field[4:6]
    if not yy.isdigit():
        return None
    year = century(int(yy))
    if partial and mm == "<<" and dd == "<<":
        return f"{year:04d}"
    if partial and dd == "<<" and mm.isdigit() and 1 <= int(mm) <= 12:
        return f"{year:04d}-{mm}"
    if not (mm.isdigit() and dd.isdigit()):
        return None
    try:
        return dt.date(year, int(mm), int(dd)).isoformat()
    except ValueError:
        return None


def _country(code: str) -> str | None:
    code = code.rstrip("<")
    if code in _SPECIAL_CODES:
        return _SPECIAL_CODES[code]
    if len(code) != 3:
        return None
    found = pycountry.countries.get(alpha_3=code)
    return found.alpha_2 if found is not None else None
