"""Birth dates: lenient parsing and the precision-aware comparison (table-driven)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.dates import DATE_LEVELS, BirthDate, compare_birth_dates, parse_birth_date
from matching.types import MISSING

TODAY = dt.date(2026, 6, 1)


def parse(raw: object) -> BirthDate | None:
    return parse_birth_date(raw, today=TODAY)[0]


@pytest.mark.parametrize(("raw", "iso", "precision"), [
    ("1979-04-12", "1979-04-12", "day"),
    ("1979-04", "1979-04", "month"),
    ("1979", "1979", "year"),
    (" 1979-4-2 ", "1979-04-02", "day"),
    ("1979/04/12", "1979-04-12", "day"),
    ("19790412", "1979-04-12", "day"),
    ("12/04/1979", "1979-04-12", "day"),       # day first, as KH/TH/VN clerks write it
    ("2000-02-29", "2000-02-29", "day"),
])
def test_parse_accepts(raw: str, iso: str, precision: str) -> None:
    date, problem = parse_birth_date(raw, today=TODAY)
    assert date is not None and problem is None
    assert (date.iso(), date.precision) == (iso, precision)
    assert date.plausible


@pytest.mark.parametrize(("raw", "iso", "words"), [
    ("1955-11-92", "1955-11", "day"),          # febrl: impossible day keeps year and month
    ("1940-45-02", "1940", "month"),           # impossible month keeps the year
    ("1900-02-29", "1900-02", "day"),          # not a leap year
    ("1979-00", "1979", "month"),
])
def test_parse_keeps_usable_part(raw: str, iso: str, words: str) -> None:
    date, problem = parse_birth_date(raw, today=TODAY)
    assert date is not None and date.iso() == iso
    assert problem is not None and words in problem
    assert raw not in problem


@pytest.mark.parametrize("raw", [
    "๑๙๗๙-๐๔-๑๒",            # Thai digits are not digits here
    "1979-04-1๒",
    "１９７９",                 # full-width digits
    "", "   ", "April 1979", "79-04-12", "1979-04-12T00:00", "0000", "1" * 10_000, "1979\x00",
    None, 1979, 1979.0, ["1979"], {"year": 1979}, b"1979",
])
def test_parse_refuses_without_raising(raw: object) -> None:
    date, problem = parse_birth_date(raw, today=TODAY)
    assert date is None
    assert problem is None if raw is None else isinstance(problem, str)


@pytest.mark.parametrize(("raw", "plausible"), [("2031", False), ("2026-07-01", False), ("2026-05-31", True),
                                                ("1899-12-31", False), ("1900", True)])
def test_parse_plausibility(raw: str, plausible: bool) -> None:
    date, problem = parse_birth_date(raw, today=TODAY)
    assert date is not None and date.plausible is plausible
    assert (problem is None) is plausible


@pytest.mark.parametrize(("a", "b", "level"), [
    ("1979-04-12", "1979-04-12", "exact"),
    ("1979-04-12", "1979-12-04", "swapped"),
    ("1979-04-12", "1979-04", "compatible_month"),
    ("1979-04", "1979-04", "compatible_month"),
    ("1979-04-12", "1979", "compatible_year"),
    ("1979", "1979", "compatible_year"),
    ("1979-04", "1979", "compatible_year"),
    ("1979-04-12", "1979-04-13", "typo"),       # one digit of the day
    ("1979-04-12", "1979-04-21", "typo"),       # transposed day digits
    ("1979-04-12", "1978-04-12", "typo"),       # one digit of the year
    ("1979-04-12", "1997-04-12", "typo"),       # transposed year digits
    ("1979-04-12", "1979-07-12", "typo"),       # one digit of the month
    ("1979-04-12", "1979-05", "typo"),          # at month precision
    ("1979-04-12", "1980-04-12", "dates_differ"),  # full dates a year apart: two people's dates
    ("1979", "1980", "year_near"),
    ("1979", "1978", "year_near"),              # year-only: off by one is age arithmetic, not a typo
    ("1979-04-12", "1979-09-30", "dates_differ"),  # same year, day and month disagree
    ("1979-04", "1980-04-12", "dates_differ"),     # at month precision too
    ("1979", "1980-04-12", "year_near"),        # an age on one side, a full date on the other
    ("1979-04-12", "1975", "year_typo"),        # years only (one side), one digit apart
    ("1979", "1975", "year_typo"),
    ("1979", "1989", "year_typo"),              # years only, one digit apart: weak evidence against
    ("1979-04-12", "1965-04-12", "disagree"),
    ("1979", "1965", "disagree"),
    ("1979-04-12", "1983-11-30", "disagree"),
])
def test_compare_levels(a: str, b: str, level: str) -> None:
    da, db = parse(a), parse(b)
    forward, backward = compare_birth_dates(da, db), compare_birth_dates(db, da)
    assert forward.level == backward.level == level
    assert level in DATE_LEVELS
    assert forward.score is not None and 0.0 <= forward.score <= 1.0
    assert forward.detail


def test_swapped_needs_distinct_day_and_month() -> None:
    # 1979-04-04 swapped is itself; 1979-04-12 vs 1979-12-04 is a swap, 1979-04-12 vs 1979-12-05 is not.
    assert compare_birth_dates(parse("1979-04-04"), parse("1979-04-04")).level == "exact"
    assert compare_birth_dates(parse("1979-04-12"), parse("1979-12-05")).level != "swapped"


def test_levels_are_ordered_by_score() -> None:
    pairs = [("1979-04-12", "1979-04-12"), ("1979-04-12", "1979-12-04"), ("1979-04-12", "1979-04"),
             ("1979-04-12", "1979-04-13"), ("1979-04-12", "1979"), ("1979", "1980"), ("1979", "1965")]
    scores = [compare_birth_dates(parse(a), parse(b)).score for a, b in pairs]
    assert scores == sorted(scores, reverse=True)


def test_missing() -> None:
    assert compare_birth_dates(None, parse("1979")).level == MISSING
    assert compare_birth_dates(parse("1979"), None).score is None


def test_detail_names_years_and_flags_implausible() -> None:
    result = compare_birth_dates(parse("1965"), parse("1980"))
    assert result.detail == "birth years 1965 vs 1980"
    future = compare_birth_dates(parse("2031-01-01"), parse("2031-01-01"))
    assert future.level == "exact" and "implausible" in future.detail


@settings(max_examples=500, deadline=None, database=None)
@given(st.one_of(st.text(max_size=30), st.from_regex(r"[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?", fullmatch=True)),
       st.from_regex(r"[0-9]{4}(-[0-9]{1,2}(-[0-9]{1,2})?)?", fullmatch=True))
def test_parse_and_compare_never_raise(a: str, b: str) -> None:
    da, problem = parse_birth_date(a, today=TODAY)
    assert da is not None or problem is not None
    db, _ = parse_birth_date(b, today=TODAY)
    result = compare_birth_dates(da, db)
    assert result.level in DATE_LEVELS
    assert result.level == compare_birth_dates(db, da).level
