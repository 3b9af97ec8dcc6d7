"""The statistics page and its CSV: checks per day by post, by travel situation, flags, recommendations and
outcomes, and alerts by status, from ``GET /api/v1/border/stats`` (no personal data; the API decides the roles
and writes the ``border.stats`` audit row).

``/stats`` draws the figures as inline SVG (``charts``) with a table of the same numbers under each chart;
``/stats.csv`` answers the API's rows, unchanged, as one CSV file (``Content-Disposition: attachment``) with the
same filters: since, until (dates) and border_point. A filter the API refuses is shown next to its field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from aiohttp import web

from ..border.stats import TIMEZONE
from ..policy import policy
from . import apiclient, charts, i18n
from .render import menu, render
from .stats_text import label

VIEWERS = ("admin", "liaison", "auditor")
FILTERS = ("since", "until", "border_point")
CSV_COLUMNS = ("table", "border_point", "day", "direction", "situation", "recommendation", "outcome", "flag",
               "alert_status", "count")

menu("/stats", "stats.menu", VIEWERS, 70)


def local_today() -> dt.date:
    """Today in Cambodia, the stats' calendar (the API's own default ``until`` is the UTC date, which leaves out
    the checks of the evening, 17:00-24:00 UTC, in Cambodia already the next day)."""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def _filters(request: web.Request) -> dict[str, str]:
    """The filters the officer set (blank fields left out; ``until`` defaults to Cambodia's today); the API
    validates them."""
    out = {k: request.query[k].strip()[:40] for k in FILTERS if request.query.get(k, "").strip()}
    out.setdefault("until", local_today().isoformat())
    return out


async def _stats(request: web.Request, filters: dict[str, str]) -> dict[str, Any]:
    answer = await apiclient.as_officer(request, "GET", "/api/v1/border/stats", params=filters)
    return answer.body


def _days(since: str, until: str) -> list[str]:
    start, end = dt.date.fromisoformat(since), dt.date.fromisoformat(until)
    return [(start + dt.timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def figures(stats: dict[str, Any], lang: str) -> dict[str, Any]:
    """The page's figures from the API's rows: per-day-per-post series and (label, count) lists."""
    per_post: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    situation: Counter[str] = Counter()
    outcome: Counter[str | None] = Counter()
    action: Counter[str] = Counter()
    for row in stats["checks"]:
        per_post[row["border_point"]][row["day"]] += row["checks"]
        situation[row["situation"]] += row["checks"]
        outcome[row["outcome"]] += row["checks"]
        action[row["action"]] += row["checks"]
    flag: Counter[str] = Counter()
    for row in stats["flags"]:
        flag[row["flag"]] += row["checks"]
    alert: Counter[str] = Counter()
    for row in stats["alerts"]:
        alert[row["status"]] += row["alerts"]

    def named(group: str, counts: Counter) -> list[tuple[str, int]]:
        return [(label(lang, group, code), n) for code, n in counts.most_common()]

    days = _days(stats["since"], stats["until"])
    per_day = [(day, {post: per_post[post].get(day, 0) for post in sorted(per_post)}) for day in days]
    return {"days": days, "per_post": {p: dict(d) for p, d in per_post.items()}, "per_day": per_day,
            "posts": sorted(per_post), "total": sum(situation.values()),
            "situation": named("situation", situation), "outcome": named("outcome", outcome),
            "action": named("action", action), "flag": named("flag", flag),
            "alert": named("alert", alert)}


def _charts(fig: dict[str, Any], lang: str) -> dict[str, Any]:
    def _(key: str) -> str:
        return i18n.translate(lang, key)
    return {"by_day": charts.stacked_days(fig["days"], fig["per_post"], _("stats.by_day")),
            "situation": charts.hbars(fig["situation"], _("stats.by_situation")),
            "flag": charts.hbars(fig["flag"], _("stats.by_flag")),
            "outcome": charts.hbars(fig["outcome"], _("stats.by_outcome")),
            "action": charts.hbars(fig["action"], _("stats.by_action"))}


async def _points(request: web.Request) -> list[tuple[str, str]]:
    answer = await apiclient.as_officer(request, "GET", "/api/v1/border-points")
    return [(p["code"], f'{p["code"]} · {p.get("name") or ""}'.rstrip(" ·")) for p in answer.body["items"]]


@policy(*VIEWERS, page=True)
async def stats_page(request: web.Request) -> web.Response:
    filters = _filters(request)
    lang = i18n.language(request)
    points = await _points(request)
    try:
        stats = await _stats(request, filters)
    except apiclient.ApiProblem as problem:
        return render(request, "stats/stats.html", status=problem.status, filters=filters, points=points,
                      errors=apiclient.problem_errors(problem, FILTERS), fig=None, chart=None, csv_query="")
    fig = figures(stats, lang)
    shown = {"since": stats["since"], "until": stats["until"], "border_point": filters.get("border_point", "")}
    csv_query = urlencode({k: v for k, v in shown.items() if v})
    return render(request, "stats/stats.html", filters=shown, points=points, errors={}, fig=fig,
                  chart=_charts(fig, lang), csv_query=csv_query)


def _safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (codes never start so, but the file must not trust that)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(stats: dict[str, Any]) -> str:
    """Every row of the API's answer, one line each, its table named in the first column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in stats["checks"]:
        writer.writerow([_safe(v) for v in ("checks", row["border_point"], row["day"], row["direction"],
                                            row["situation"], row["action"], row["outcome"] or "", "", "",
                                            row["checks"])])
    for row in stats["flags"]:
        writer.writerow([_safe(v) for v in ("flags", row["border_point"], row["day"], "", "", "", "", row["flag"],
                                            "", row["checks"])])
    for row in stats["alerts"]:
        writer.writerow([_safe(v) for v in ("alerts", row["border_point"], row["day"], "", "", "", "", "",
                                            row["status"], row["alerts"])])
    return out.getvalue()


@policy(*VIEWERS, page=True)
async def stats_csv(request: web.Request) -> web.Response:
    stats = await _stats(request, _filters(request))
    post = stats.get("border_point") or request.query.get("border_point", "all")
    name = f'border-stats-{stats["since"]}-{stats["until"]}-{"".join(c for c in post if c.isalnum()) or "all"}.csv'
    response = web.Response(text=to_csv(stats), content_type="text/csv", charset="utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


PAGES = [
    ("GET", "/stats", stats_page),
    ("GET", "/stats.csv", stats_csv),
]
