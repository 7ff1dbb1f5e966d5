"""A line chart of several series: training curves, the translation experiment."""

from __future__ import annotations

from html import escape
from math import isfinite

from markupsafe import Markup

from app.web.charts.frame import DASHES, OKABE_ITO, Frame, Series, legend_line, ticks
from app.web.numbers import ENGLISH, Numbers


def _finite_points(s: Series) -> Series:
    kept = [(x, y) for x, y in zip(s.xs, s.ys, strict=True) if isfinite(x) and isfinite(y)]
    return Series(s.label, [x for x, _ in kept], [y for _, y in kept])


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
    *,
    numbers: Numbers = ENGLISH,
) -> Markup:
    """A line chart of several series over shared axes, with an optional vertical marker;
    `numbers` writes the ticks as the page's language does. Points that are not finite numbers
    (the accuracy of an empty validation set is NaN) are left out, not drawn at an edge."""
    series = [_finite_points(s) for s in series]
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys]
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_low, y_high = y_range or ((min(ys), max(ys)) if ys else (0.0, 1.0))
    frame = Frame(width, height, 58, 16, 16, 56 + 18 * max(len(series), 1),
                  x_low, x_high, y_low, y_high)  # fmt: skip
    px, py = frame.px, frame.py
    left, top, plot_h = frame.left, frame.top, frame.plot_h
    x_low, x_high = frame.x_low, frame.x_high
    parts = frame.open(title) + frame.y_grid(numbers=numbers)
    # Steps, epochs and pixels are counted: whole ticks, written plainly (1250, not 1.25e+03).
    counts = bool(xs) and all(float(x).is_integer() for x in xs)
    for tick in ticks(x_low, x_high, count=min(9, int(x_high - x_low) + 1)):
        if counts and not float(tick).is_integer():
            continue
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{int(tick) if counts else numbers.tick(tick)}</text>"
        )
    parts.append(frame.axis_titles(x_label, y_label))
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
        if len(s.xs) <= 60:  # dots help on short series and clutter long ones
            for x, y in zip(s.xs, s.ys, strict=True):
                parts.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{colour}"/>')
    # Legend under the axis title, one line per series so long names never collide.
    for index, s in enumerate(series):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        y = top + plot_h + 54 + index * 18
        parts.append(legend_line(left, y, s.label, colour, DASHES[index % len(DASHES)]))
    parts.append("</svg>")
    return Markup("".join(parts))
