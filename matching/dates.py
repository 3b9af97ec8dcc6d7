"""Birth dates: lenient parsing of partner data and a precision-aware comparison feature.

Partner registers write birth dates in many ways and often only in part: a year computed from a stated
age, a month and year from a family book, a full date from a passport. ``parse_birth_date`` keeps whatever
part is usable and says in words what was wrong; ``compare_birth_dates`` compares two parsed dates at the
precision both sides have and recognises the common clerical errors: day and month swapped, one digit
mistyped or two neighbouring digits transposed, a year off by one.

Details name the years and dates because only liaison officers see them (STYLE.md: "birth years 1965 vs
1980"); problem notes and exceptions never do. Only ASCII digits are digits here (SECURITY.md G: Thai digits
pass ``int()`` and ``\\d``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from . import magic
from .types import MISSING, FeatureResult

#: Agreement levels of the birth-date feature, best first. "year_near" (a side knows only the year and the
#: years are equal or one apart: an age turned into a year) and "dates_differ" (both know at least the month,
#: the dates differ and the years are equal or one apart: two people's dates) were one level, as were "typo"
#: (dates to the month or day one digit apart) and "year_typo" (years only, one digit apart, e.g. 1979 / 1975):
#: the same person's records show the first of each pair far more often than different people's do, the
#: second far less (docs/matching.md).
DATE_LEVELS = ("exact", "swapped", "compatible_month", "typo", "compatible_year", "year_near", "dates_differ",
               "year_typo", "disagree", MISSING)

# Year first ("1979-04-12", "1979/4/12", "1979.04", "1979", "19790412") or day first ("12/04/1979").
_YEAR_FIRST = re.compile(r"([0-9]{4})(?:[-/.]([0-9]{1,2})(?:[-/.]([0-9]{1,2}))?)?", re.ASCII)
_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})", re.ASCII)
_DAY_FIRST = re.compile(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})", re.ASCII)
_MAX_RAW = 40


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date known to the year, the month or the day; ``digits`` is "YYYY", "YYYYMM" or "YYYYMMDD",
    ``text`` the ISO form (both derived)."""

    year: int
    month: int | None
    day: int | None
    precision: str
    plausible: bool = True
    digits: str = field(default="", compare=False, repr=False)
    text: str = field(default="", compare=False, repr=False)

    def __post_init__(self) -> None:
        # computed once here so that the comparison, called for a million pairs, only slices strings
        parts = [f"{self.year:04d}"]
        if self.month is not None:
            parts.append(f"{self.month:02d}")
            if self.day is not None:
                parts.append(f"{self.day:02d}")
        object.__setattr__(self, "digits", "".join(parts))
        object.__setattr__(self, "text", "-".join(parts))

    def iso(self) -> str:
        """The date as the canonical record writes it: YYYY, YYYY-MM or YYYY-MM-DD."""
        return self.text


def parse_birth_date(raw: object, today: dt.date | None = None) -> tuple[BirthDate | None, str | None]:
    """Parse a partner's birth date leniently; returns (date or None, problem in words or None). Never raises.

    An impossible day keeps the year and month; an impossible month keeps the year. A year in the future or
    before ``BIRTH_YEAR_PLAUSIBLE_MIN`` is kept but marked implausible (the comparison reports it).
    """
    if raw is None:
        return None, None
    if not isinstance(raw, str):
        return None, "birth date is not text"
    text = raw.strip()
    if not text:
        return None, "birth date is empty"
    if len(text) > _MAX_RAW or not text.isascii():
        return None, "birth date is not written with ASCII digits"
    m = _YEAR_FIRST.fullmatch(text) or _COMPACT.fullmatch(text)
    if m:
        year, month, day = int(m[1]), _opt(m[2]), _opt(m[3])
    elif m := _DAY_FIRST.fullmatch(text):
        year, month, day = int(m[3]), int(m[2]), int(m[1])
    else:
        return None, "birth date is not written YYYY, YYYY-MM or YYYY-MM-DD"
    problem = None
    if month is not None and not 1 <= month <= 12:
        month, day, problem = None, None, "birth month is impossible; only the year is used"
    elif month is not None and day is not None and not _exists(year, month, day):
        day, problem = None, "birth day is impossible; only the year and month are used"
    if year == 0:
        return None, "birth year is impossible"
    now = today or dt.date.today()
    earliest = (year, month or 1, day or 1)
    plausible = magic.BIRTH_YEAR_PLAUSIBLE_MIN <= year and earliest <= (now.year, now.month, now.day)
    if not plausible and problem is None:
        problem = "birth date is in the future" if year >= now.year else "birth year is implausibly early"
    precision = "day" if day is not None else "month" if month is not None else "year"
    return BirthDate(year, month, day, precision, plausible), problem


def _opt(group: str | None) -> int | None:
    return int(group) if group is not None else None


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


_MISSING = FeatureResult.missing("no usable birth date on one side")
_SCORES = magic.DATE_SCORES


def compare_birth_dates(a: BirthDate | None, b: BirthDate | None) -> FeatureResult:
    """Compare two birth dates at the precision both have (see ``DATE_LEVELS``)."""
    if a is None or b is None:
        return _MISSING
    da, db = a.digits, b.digits
    n = min(len(da), len(db))
    ca, cb = da[:n], db[:n]
    note = "" if a.plausible and b.plausible else " (implausible birth year)"
    if ca == cb:
        if n == 8:
            level, text = "exact", f"birth dates agree ({a.text})"
        elif n == 6:
            level, text = "compatible_month", f"birth dates agree to the month ({a.text[:7]} and {b.text})"
        else:
            level, text = "compatible_year", f"birth years agree ({a.year}; dates {a.text} and {b.text})"
            if len(da) == len(db) == 4:
                text = f"birth years agree ({a.year})"
        return FeatureResult(level, _SCORES[level], text + note)
    if n == 8 and a.year == b.year and a.month == b.day and a.day == b.month:
        return FeatureResult("swapped", _SCORES["swapped"], f"day and month swapped ({a.text} vs {b.text})" + note)
    year_gap = abs(a.year - b.year)
    if n > 4 and _one_typo(ca, cb):
        text = f"birth dates differ by one digit ({a.text} vs {b.text})"
        return FeatureResult("typo", _SCORES["typo"], text + note)
    if year_gap <= magic.BIRTH_YEAR_NEAR:
        if n > 4:  # both know the month: two different dates, not an age turned into a year
            return FeatureResult("dates_differ", _SCORES["dates_differ"], f"birth dates {a.text} vs {b.text}" + note)
        return FeatureResult("year_near", _SCORES["year_near"], f"birth years {a.year} vs {b.year}" + note)
    if n == 4 and _one_typo(ca, cb):
        return FeatureResult("year_typo", _SCORES["year_typo"],
                             f"birth years differ by one digit ({a.year} vs {b.year})" + note)
    if year_gap == 0:
        return FeatureResult("disagree", _SCORES["disagree"], f"birth dates {a.text} vs {b.text}" + note)
    return FeatureResult("disagree", _SCORES["disagree"], f"birth years {a.year} vs {b.year}" + note)


def _one_typo(x: str, y: str) -> bool:
    """True if equal-length digit strings differ in exactly one place, or by one swap of neighbours."""
    first = -1
    for i in range(len(x)):
        if x[i] != y[i]:
            if first < 0:
                first = i
            elif i == first + 1 and x[first] == y[i] and x[i] == y[first]:
                return x[i + 1:] == y[i + 1:]
            else:
                return False
    return first >= 0
