"""The Overview's charts, drawn on the server as SVG by pygal.

pygal's tooltips load a script from another host by default; `js=[]` leaves it out, so a chart
is a plain image. The console shows each chart as `<img src=...svg>`: an SVG loaded as an image
runs no script at all, and its own inline styles stay inside it (its response carries a policy
of its own that allows them and nothing else, see app.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pygal
from pygal.etree import etree as pygal_etree  # lxml's or the standard library's, as pygal chose
from pygal.style import Style

STATE_COLOURS = {
    "available": "#2f7d4f", "held": "#c98a00", "reserved": "#7a5bbf",
    "purchased": "#2563a8", "aging": "#8a8f98", "withdrawn": "#b4413c",
}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


def _style(colours: Sequence[str]) -> Style:
    return Style(background="#ffffff", plot_background="#ffffff", foreground="#1f2933",
                 foreground_strong="#1f2933", foreground_subtle="#d5dae1", colors=tuple(colours),
                 font_family=_FONT, label_font_size=13, major_label_font_size=13, legend_font_size=13,
                 value_font_size=12, title_font_size=15, guide_stroke_color="#e4e7eb")


def _config(chart: pygal.Graph) -> pygal.Graph:
    chart.config.js = []  # no tooltip script (it would come from another host)
    return chart


def _render(chart: pygal.Graph) -> bytes:
    """The SVG without pygal's inline configuration script, which only its tooltip script reads."""
    tree = chart.render_tree()
    for parent in tree.iter():
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    return b"<?xml version='1.0' encoding='utf-8'?>\n" + pygal_etree.tostring(tree, encoding="utf-8")


STOCK_WIDTH = 1000
ACTIVITY_SIZE = (1000, 320)


def stock_height(rows: int) -> int:
    """Room for one bar per country and type, and the legend."""
    return 110 + 34 * max(rows, 1)


def stock_chart(rows: list[tuple[str, dict[str, int]]], states: Sequence[str]) -> bytes:
    """A stacked bar per country and number type (`rows`: label, count per state)."""
    shown = [state for state in states if any(counts[state] for _, counts in rows)]
    chart = _config(pygal.HorizontalStackedBar(
        width=STOCK_WIDTH, height=stock_height(len(rows)), style=_style([STATE_COLOURS[s] for s in shown]),
        legend_at_bottom=True, legend_at_bottom_columns=max(len(shown), 1), print_values=False, min_scale=4,
        max_scale=8, margin=12, spacing=8, truncate_label=-1, truncate_legend=-1))
    chart.x_labels = [label for label, _ in rows]
    for state in shown:
        chart.add(state, [counts[state] for _, counts in rows])
    if not shown:
        chart.add("numbers", [0 for _ in rows])
    return _render(chart)


def activity_chart(hours: list[tuple[datetime, int, int]]) -> bytes:
    """Searches and purchases per hour (`hours`: start, searches, purchases), oldest first."""
    chart = _config(pygal.Bar(width=ACTIVITY_SIZE[0], height=ACTIVITY_SIZE[1], style=_style(["#2563a8", "#2f7d4f"]),
                              legend_at_bottom=True, legend_at_bottom_columns=2, show_minor_x_labels=False, margin=12,
                              min_scale=4, max_scale=8, truncate_label=-1, truncate_legend=-1))
    chart.x_labels = [start.strftime("%H:%M") for start, _, _ in hours]
    chart.x_labels_major = [start.strftime("%H:%M") for start, _, _ in hours[::3]]
    chart.add("searches", [searches for _, searches, _ in hours])
    chart.add("purchases", [purchases for _, _, purchases in hours])
    return _render(chart)
