"""Schemathesis hooks of tests/test_schemathesis.py (loaded with ``SCHEMATHESIS_HOOKS=tests.schemathesis_hooks``).

The OpenAPI document (exchange/openapi.py and its parts) states in JSON Schema what the validators accept.
Where JSON Schema cannot say it, the document names a custom ``format`` and says the rule in words; this
module gives schemathesis a strategy that draws only values the rule accepts:

- ``unicode-assigned``: text without unassigned or private-use code points (nor controls, format characters
  or surrogates, which the patterns beside it refuse anyway);
- ``cursor``, ``partner-cursor``: opaque paging cursors, shaped as the server issues them
  (``exchange.params.encode_cursor``, ``exchange.federation.status_api._encode_cursor``);
- ``check-time``: the time of a border check, within the last 14 days and not in the future;
- ``child-birth-date``: a child traveller's (partial) birth date, under 18 at any such check time and born
  before it;
- ``past-partial-date``: a register person's (partial) birth date, from 1850 and not after today.

Two rules are not about one string, and ``map_body`` applies them to generated bodies, in ways that keep the
schema's verdict on the body (so negative cases stay negative):

- JSON Schema counts ``10.0`` as an integer; the validators want an integer written as one (the document's
  ``info.description`` says so): a whole-number float becomes an int;
- a conviction's ``release_date`` is not before its ``date`` (two fields of one object): the two dates of a
  generated conviction are put in order, so the register's create and replace keep the
  ``positive_data_acceptance`` check.
"""

from __future__ import annotations

import datetime as dt
import re

import schemathesis
from hypothesis import strategies as st

from exchange.federation.status_api import _encode_cursor
from exchange.openapi_types import COUNTRY
from exchange.params import encode_cursor

_UTC_DATETIMES = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1),
                              timezones=st.just(dt.UTC))
_RECORD_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,40}", fullmatch=True)
_OFFSETS = st.integers(-12 * 4, 14 * 4).map(lambda q: dt.timezone(dt.timedelta(minutes=15 * q)))


def _check_time(seconds_ago: int, zone: dt.timezone) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)).astimezone(zone).isoformat()


def _child_birth_date(days_old: int, precision: str) -> str:
    """Born 30 days to 17 years before today: a child at any check time of the last 13 days, at any precision."""
    born = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_old)).isoformat()
    return born[:{"day": 10, "month": 7, "year": 4}[precision]]


def _past_birth_date(days_old: int, precision: str) -> str:
    """A register birth date: from 1850 up to today (UTC), at any precision."""
    born = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days_old)).isoformat()
    return born[:{"day": 10, "month": 7, "year": 4}[precision]]


STRATEGIES = {
    "unicode-assigned": st.text(st.characters(exclude_categories=("Cc", "Cf", "Cs", "Co", "Cn")), max_size=40),
    "cursor": st.builds(encode_cursor, _UTC_DATETIMES, st.uuids()),
    "partner-cursor": st.builds(_encode_cursor, _UTC_DATETIMES, st.sampled_from(COUNTRY["enum"]), _RECORD_ID),
    "check-time": st.builds(_check_time, st.integers(0, 13 * 86400), _OFFSETS),
    "child-birth-date": st.builds(_child_birth_date, st.integers(30, 17 * 365),
                                  st.sampled_from(["day", "month", "year"])),
    "past-partial-date": st.builds(_past_birth_date, st.integers(0, (dt.date.today() - dt.date(1850, 1, 1)).days),
                                   st.sampled_from(["day", "month", "year"])),
}
for _name, _strategy in STRATEGIES.items():
    schemathesis.openapi.format(_name, _strategy)

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _whole_numbers_as_ints(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers_as_ints(v) for v in value]
    return value


@schemathesis.hook
def map_body(ctx, body):
    """Integers written as integers; each conviction's two dates in order (release_date not before date)."""
    body = _whole_numbers_as_ints(body)
    if isinstance(body, dict) and isinstance(body.get("convictions"), list):
        for item in body["convictions"]:
            if isinstance(item, dict) and all(isinstance(item.get(k), str) and _DAY.fullmatch(item[k])
                                              for k in ("date", "release_date")):
                if item["release_date"] < item["date"]:
                    item["date"], item["release_date"] = item["release_date"], item["date"]
    return body
