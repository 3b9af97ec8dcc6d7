"""Pull-feed rules for the puller: refuse rollback and freeze (the TUF attacks on update feeds).

A ``feed_page`` (validated by ``messages.validate_body``) carries items with sequence numbers that strictly
increase within the page and across pages, and an ``expires`` time signed with it. A puller keeps the highest
sequence it has applied per partner and calls :func:`check_feed_page` before applying anything:

* **rollback**: an item at or below the last seen sequence means the partner (or a man in the middle with an
  old signed page) is replaying history; applying it could resurrect a withdrawn record -> ``Rollback``.
* **freeze**: a page whose ``expires`` has passed may be an old snapshot served to hide newer withdrawals
  -> ``Frozen``. The puller asks again; it never applies a stale page.

An empty page is valid (nothing new) as long as it is fresh. The cursor is opaque; the puller advances its
stored cursor and last sequence only after the page is applied (and, on the service side, committed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .encoding import parse_time, utc
from .errors import Frozen, Rollback


def check_feed_page(page: Mapping[str, Any], last_seen_seq: int, now: dt.datetime) -> int:
    """Raise Frozen or Rollback, else return the sequence to remember after applying the page.

    ``page`` is a body already validated by the ``feed_page`` schema (items strictly increasing).
    """
    if utc(now) >= parse_time(page["expires"]):
        raise Frozen("feed page has expired")
    items = page["items"]
    if not items:
        return last_seen_seq
    if items[0]["seq"] <= last_seen_seq:
        raise Rollback("feed page repeats or rolls back sequence numbers already seen")
    return int(items[-1]["seq"])
