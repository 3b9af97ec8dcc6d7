"""Ages from partial birth dates (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``), as bounds.

A year-only date could be any day of that year, so a person's age on a day is a range: ``youngest`` from the
latest possible birth day, ``oldest`` from the earliest. The rules use the side that protects the child: a
traveller is refused as "not a child" only when even the youngest reading is 18 or more.
"""

from __future__ import annotations

import calendar
import datetime as dt


def birth_range(birth_date: str) -> tuple[dt.date, dt.date]:
    """Earliest and latest day a partial ISO birth date can mean."""
    year = int(birth_date[:4])
    if len(birth_date) == 4:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = int(birth_date[5:7])
    if len(birth_date) == 7:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    day = dt.date.fromisoformat(birth_date)
    return day, day


def age_on(born: dt.date, on: dt.date) -> int:
    """Completed years on ``on`` (negative when ``born`` is after ``on``)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_bounds(birth_date: str, on: dt.date) -> tuple[int, int]:
    """(youngest, oldest) possible age on ``on``."""
    earliest, latest = birth_range(birth_date)
    return age_on(latest, on), age_on(earliest, on)
