"""Server-rendered SVG charts (no JavaScript; the CSP forbids inline scripts and styles).

Only presentation attributes (``fill``, ``x``, ``width``…) are used, never
``style=""``; every text is escaped. The numbers are always also shown in a table.
"""
from __future__ import annotations

from markupsafe import Markup, escape

BAR = "#2f6db5"
BAR_ALT = "#9bb8de"
TEXT = "#222"
MUTED = "#666"


def hbar(rows: list[tuple[str, int]], *, title: str, width: int = 640, label_width: int = 210,
         bar_height: int = 20, gap: int = 6, highlight: set[int] | None = None) -> Markup:
    """Horizontal bars: one row per (label, value), value printed at the bar's end."""
    highlight = highlight or set()
    top = 8
    height = top + len(rows) * (bar_height + gap) + 4
    vmax = max([v for _, v in rows] + [1])
    plot = width - label_width - 70
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_height + gap)
        w = 0 if not value else max(1, round(plot * value / vmax))
        color = BAR_ALT if i in highlight else BAR
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.72:.1f}" text-anchor="end" '
            f'font-size="13" fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{w}" height="{bar_height}" fill="{color}" rx="2"/>'
            f'<text x="{label_width + w + 6}" y="{y + bar_height * 0.72:.1f}" font-size="13" '
            f'fill="{MUTED}">{value:,}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[int], *, title: str, width: int = 120, height: int = 24) -> Markup:
    """A tiny line of weekly counts."""
    if not values:
        return Markup("")
    vmax = max(values + [1])
    n = len(values)
    step = width / max(n - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (height - 4) * v / vmax:.1f}" for i, v in enumerate(values)
    )
    return Markup(
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
        f'<polyline points="{points}" fill="none" stroke="{BAR}" stroke-width="1.5"/></svg>'
    )
