"""``GET /api/v1/border/stats``: counts for the monthly reports, with no personal data.

Counts of checks per post, day (Cambodian local date), direction, travel situation, recommendation and
outcome; counts of checks per flag; counts of alerts per status. They are read from the non-personal columns,
which the retention purge keeps, so a report for a past month gives the same numbers after the purge.
Query: ``since`` and ``until`` (Cambodian dates, inclusive; default the last 31 days up to Cambodia's today),
``border_point``.
"""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from .. import audit
from ..appkeys import POOL
from ..middleware import actor
from ..params import bad_parameter, only_params
from ..policy import policy

TIMEZONE = "Asia/Phnom_Penh"
CAMBODIA = dt.timezone(dt.timedelta(hours=7), "ICT")  # Asia/Phnom_Penh: UTC+7 all year, no daylight saving
MAX_DAYS = 400
DEFAULT_SPAN = dt.timedelta(days=30)

_DAY = f"(c.checked_at AT TIME ZONE '{TIMEZONE}')::date"
_WHERE = f"WHERE {_DAY} BETWEEN $1 AND $2 AND ($3::text IS NULL OR c.border_point = $3)"


def _date(request: web.Request, name: str, default: dt.date) -> dt.date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        if not raw.isascii() or len(raw) != 10:
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise bad_parameter(name, "must be a date YYYY-MM-DD") from None


def local_date(at: dt.datetime) -> dt.date:
    """The Cambodian date of an instant (the day a post's officers call it)."""
    return at.astimezone(CAMBODIA).date()


@policy("liaison", "auditor", "admin")
async def stats(request: web.Request) -> web.Response:
    only_params(request, ("since", "until", "border_point"))
    today = local_date(dt.datetime.now(dt.UTC))  # days are Cambodian dates, so "today" is too
    until = _date(request, "until", today)
    # the default start never falls before 0001-01-01 (an OverflowError, a 500, for until=0001-01-05)
    since = _date(request, "since", until - DEFAULT_SPAN if until > dt.date.min + DEFAULT_SPAN else dt.date.min)
    if since > until or (until - since).days > MAX_DAYS:
        raise bad_parameter("since", f"must be on or before until, at most {MAX_DAYS} days apart")
    post = request.query.get("border_point")
    args = (since, until, post)
    async with request.app[POOL].acquire() as conn, conn.transaction():
        checks = await conn.fetch(
            f"""SELECT c.border_point, {_DAY} AS day, c.direction, c.situation, c.action, c.outcome,
                       count(*) AS checks FROM border_checks c {_WHERE}
                GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6""", *args)  # noqa: S608 (constants)
        flags = await conn.fetch(
            f"""SELECT c.border_point, {_DAY} AS day, f.flag, count(*) AS checks
                FROM border_checks c, unnest(c.flags) AS f(flag) {_WHERE}
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", *args)  # noqa: S608 (constants)
        alerts = await conn.fetch(
            f"""SELECT c.border_point, {_DAY} AS day, a.status, count(*) AS alerts
                FROM border_checks c JOIN border_alerts a ON a.check_id = c.id {_WHERE}
                GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""", *args)  # noqa: S608 (constants)
        await audit.write(conn, actor(request), audit.Entry(
            "border.stats", detail={"since": since.isoformat(), "until": until.isoformat(), "border_point": post}))

    def rows(items) -> list[dict]:
        return [{**dict(r), "day": r["day"].isoformat()} for r in items]
    return web.json_response({"since": since.isoformat(), "until": until.isoformat(), "timezone": TIMEZONE,
                              "checks": rows(checks), "flags": rows(flags), "alerts": rows(alerts)})
