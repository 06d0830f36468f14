"""A horizontal bar chart drawn as inline SVG on the server.

The facts page needs one small chart. Drawing it here keeps the site free of
chart libraries and client-side scripts, and lets the markup carry its own
accessible name (``role="img"`` with ``<title>`` and ``<desc>``); the page
puts a data table next to it for anyone who cannot see the bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Width of the drawing in SVG user units; the SVG scales to its container.
WIDTH = 400
#: Room kept to the right of the longest bar for its value label.
VALUE_ROOM = 80
#: Height of one bar, and the vertical space each label/bar row takes.
BAR_HEIGHT = 22
ROW_HEIGHT = 62
#: Bars never get thinner than this, so a small value is still visible.
MIN_BAR = 2
FONT_SIZE = 15


@dataclass(frozen=True)
class Bar:
    """One bar: its label, the value that sets its length, and how to print it."""

    label: str
    value: float
    display: str


def bar_chart_svg(bars: Sequence[Bar], *, title: str, desc: str, chart_id: str) -> Markup:
    """Render ``bars`` as an accessible horizontal bar chart on a linear scale.

    Each row has its label on top and the bar below, with the value printed
    just past the bar's end, so long labels never collide with the bars and
    the chart stays legible when scaled down to a phone's width.

    :param bars: the rows, drawn top to bottom; values must not be negative.
    :param title: the chart's short accessible name.
    :param desc: a sentence describing what the chart shows.
    :param chart_id: a prefix for element ids, unique on the page.

    >>> svg = bar_chart_svg([Bar("Apples", 3, "3")], title="Fruit", desc="One bar.", chart_id="c")
    >>> svg.startswith('<svg role="img"')
    True
    """
    if any(bar.value < 0 for bar in bars):
        raise ValueError("bar values must not be negative")
    largest = max((bar.value for bar in bars), default=0) or 1
    scale = (WIDTH - VALUE_ROOM) / largest
    height = ROW_HEIGHT * len(bars) + 8
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'class="bar-chart" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-size="{FONT_SIZE}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(desc)}</desc>',
    ]
    for index, bar in enumerate(bars):
        parts.append(_row(bar, top=index * ROW_HEIGHT + 4, scale=scale))
    parts.append("</svg>")
    return Markup("".join(parts))


def _row(bar: Bar, *, top: float, scale: float) -> str:
    """One label, bar and value; the group is hidden from assistive tech
    because the title, description and neighbouring table already say it."""
    length = max(bar.value * scale, MIN_BAR)
    label_y = top + FONT_SIZE
    bar_y = top + FONT_SIZE + 8
    value_y = bar_y + BAR_HEIGHT / 2 + FONT_SIZE / 3
    return (
        '<g aria-hidden="true">'
        f'<text class="bar-label" x="0" y="{label_y:g}">{escape(bar.label)}</text>'
        f'<rect class="bar" x="0" y="{bar_y:g}" width="{length:.1f}" height="{BAR_HEIGHT}" rx="2"/>'
        f'<text class="bar-value" x="{length + 6:.1f}" y="{value_y:.1f}">'
        f"{escape(bar.display)}</text>"
        "</g>"
    )
