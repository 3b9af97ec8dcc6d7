"""Charts as server-side SVG, drawn in Python for the statistics page: no chart library, no script.

Two shapes: ``stacked_days`` (one bar per day, stacked by border post, with a legend) and ``hbars`` (one
horizontal bar per category, its count written after it). Every text goes through ``markupsafe`` escaping and
the result is ``Markup``, so a template inlines it without ``|safe``. Colours come from CSS classes
(``s0``..``s7`` in ``static/stats.css``): the page's Content-Security-Policy allows no inline style. Each chart
has a ``<title>`` (its accessible name, ``role="img"``); the page puts a text table of the same numbers next to
it for screen readers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from markupsafe import Markup

SERIES_CLASSES = 8  # s0..s7 in stats.css; more series reuse them in turn
_ids = itertools.count(1)


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value`` (1, 2, 5 times a power of ten)."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for mult in (1, 2, 5):
            if step * mult >= value:
                return step * mult
        step *= 10


def _svg(width: int, height: int, title: str, body: list[Markup]) -> Markup:
    tid = f"chart-title-{next(_ids)}"
    head = Markup('<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
                  'aria-labelledby="{}"><title id="{}">{}</title>').format(width, height, tid, tid, title)
    return head + Markup("").join(body) + Markup("</svg>")


def stacked_days(days: Sequence[str], series: Mapping[str, Mapping[str, int]], title: str) -> Markup:
    """Bars per day (``days`` in order), each stacked by series (``series[name][day] = count``).

    About a dozen days (and the last) are named under the axis as MM-DD; the legend names the series.
    """
    day_label = max(1, -(-len(days) // 12))
    names = sorted(series)
    width, left, top, bottom = 760, 44, 12, 46
    legend_rows = (len(names) + 3) // 4
    height = 230 + 18 * legend_rows
    plot_h = height - top - bottom - 18 * legend_rows
    totals = [sum(series[n].get(day, 0) for n in names) for day in days]
    peak = _nice_max(max(totals, default=0))
    slot = (width - left - 8) / max(len(days), 1)
    bar = max(slot * 0.7, 1.0)
    parts: list[Markup] = []
    for tick in (0, peak // 2, peak) if peak > 1 else (0, peak):
        y = top + plot_h - plot_h * tick / peak
        parts.append(Markup('<line class="grid" x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}"/>'
                            '<text class="axis" x="{}" y="{:.1f}" text-anchor="end">{}</text>')
                     .format(left, y, width - 8, y, left - 6, y + 4, tick))
    for i, day in enumerate(days):
        x = left + i * slot + (slot - bar) / 2
        base = float(top + plot_h)
        for k, name in enumerate(names):
            count = series[name].get(day, 0)
            if not count:
                continue
            h = plot_h * count / peak
            base -= h
            parts.append(Markup('<rect class="s{}" x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}">'
                                '<title>{} {}: {}</title></rect>')
                         .format(k % SERIES_CLASSES, x, base, bar, h, day, name, count))
        if i % day_label == 0 or i == len(days) - 1:
            parts.append(Markup('<text class="axis" x="{:.1f}" y="{}" text-anchor="middle">{}</text>')
                         .format(x + bar / 2, top + plot_h + 16, day[5:]))
    for k, name in enumerate(names):
        lx, ly = left + (k % 4) * 180, top + plot_h + 34 + 18 * (k // 4)
        parts.append(Markup('<rect class="s{}" x="{}" y="{}" width="12" height="12"/>'
                            '<text class="legend" x="{}" y="{}">{}</text>')
                     .format(k % SERIES_CLASSES, lx, ly - 10, lx + 18, ly, name))
    return _svg(width, height, title, parts)


def hbars(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """One horizontal bar per (label, count), longest scale at the largest count, the count after each bar."""
    width, label_w, row = 520, 190, 24
    height = max(len(items), 1) * row + 8
    peak = max((count for _, count in items), default=0) or 1
    span = width - label_w - 50
    parts: list[Markup] = []
    for i, (label, count) in enumerate(items):
        y = 4 + i * row
        w = span * count / peak
        parts.append(Markup('<text class="label" x="{}" y="{}" text-anchor="end">{}</text>'
                            '<rect class="s0" x="{}" y="{}" width="{:.1f}" height="{}"><title>{}: {}</title></rect>'
                            '<text class="value" x="{:.1f}" y="{}">{}</text>')
                     .format(label_w - 6, y + 15, label, label_w, y + 3, w, row - 8, label, count,
                             label_w + w + 4, y + 15, count))
    return _svg(width, height, title, parts)
