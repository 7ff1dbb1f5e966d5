"""Series -> SVG charts: labelled axes, a legend, and the Okabe–Ito colour-blind-safe palette.

The SVG is built as text and every label is escaped, so it can be inlined in a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
DASHES = ("", "6 4", "2 3", "8 3 2 3")  # a second cue besides colour


@dataclass(frozen=True)
class Series:
    label: str
    xs: list[float]
    ys: list[float]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / (count - 1)
    return [low + i * step for i in range(count)]


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.3g}"


def line_chart(
    series: list[Series],
    x_label: str,
    y_label: str,
    title: str,
    y_range: tuple[float, float] | None = None,
    marker_x: float | None = None,
    marker_label: str = "",
    width: int = 560,
    height: int = 360,
) -> Markup:
    """A line chart of several series over shared axes, with an optional vertical marker."""
    left, right, top, bottom = 58, 16, 16, 56 + 18 * max(len(series), 1)
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys]
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_low, y_high = y_range or ((min(ys), max(ys)) if ys else (0.0, 1.0))
    if x_high == x_low:
        x_high = x_low + 1
    if y_high == y_low:
        y_high = y_low + 1

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        y = min(max(y, y_low), y_high)
        return top + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#9aa3ad"/>',
    ]
    for tick in _ticks(y_low, y_high):
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{_fmt(tick)}</text>"
        )
    for tick in _ticks(x_low, x_high, count=min(9, int(x_high - x_low) + 1)):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{_fmt(tick)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>'
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(y_label)}</text>'
    )
    if marker_x is not None:
        x = px(marker_x)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#555" '
            f'stroke-dasharray="3 3"/><text x="{x + 4:.1f}" y="{top + 12}" class="tick">'
            f"{escape(marker_label)}</text>"
        )
    for index, s in enumerate(series):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        dash = DASHES[index % len(DASHES)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(s.xs, s.ys, strict=True))
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"'
            f"{dash_attr}/>"
        )
        for x, y in zip(s.xs, s.ys, strict=True):
            parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{colour}"/>')
    # Legend under the axis title, one line per series so long names never collide.
    for index, s in enumerate(series):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        dash = DASHES[index % len(DASHES)]
        y = top + plot_h + 54 + index * 18
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{left}" x2="{left + 26}" y1="{y}" y2="{y}" '
            f'stroke="{colour}" stroke-width="3"{dash_attr}/>'
            f'<text x="{left + 32}" y="{y + 4}" class="legend">{escape(s.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
