"""Waveforms as min-max envelopes, and stems for short signals."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from app.web.charts.frame import OKABE_ITO, Frame, ticks
from app.web.numbers import ENGLISH, Numbers


@dataclass(frozen=True)
class Envelope:
    """A long signal drawn as the min-max range of each bin (what an audio editor shows)."""

    label: str
    xs: list[float]  # bin positions
    lows: list[float]  # the smallest value in each bin
    highs: list[float]  # the largest value in each bin


def envelope_chart(
    series: list[Envelope],
    x_label: str,
    y_label: str,
    title: str,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    stems: bool = False,
    width: int = 560,
    height: int = 200,
    *,
    numbers: Numbers = ENGLISH,
) -> Markup:
    """Waveforms or impulse responses: one vertical stroke per bin from its low to its high.

    ``stems`` draws short signals as lollipops instead: a line from 0 to each value and a dot.
    """
    xs = [x for s in series for x in s.xs]
    values = [v for s in series for v in (*s.lows, *s.highs)]
    x_low, x_high = x_range or ((min(xs), max(xs)) if xs else (0.0, 1.0))
    if y_range is None:
        y_range = (min(min(values), 0.0), max(max(values), 0.0)) if values else (0.0, 1.0)
    bottom = 40 + (18 * len(series) if len(series) > 1 else 0)
    frame = Frame(width, height, 58, 16, 12, bottom, x_low, x_high, *y_range)
    px, py = frame.px, frame.py
    left, top, plot_w, plot_h = frame.left, frame.top, frame.plot_w, frame.plot_h
    x_low, x_high, y_low, y_high = frame.x_low, frame.x_high, frame.y_low, frame.y_high
    parts = frame.open(title) + frame.y_grid(count=3, numbers=numbers)
    for tick in ticks(x_low, x_high, count=6):
        if stems and not float(tick).is_integer():
            continue  # stems stand at whole sample numbers
        whole = float(tick).is_integer() and abs(tick) < 1e6
        label = str(int(tick)) if whole else numbers.tick(tick)
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'class="tick">{label}</text>'
        )
    if y_low < 0 < y_high:
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(0):.1f}" y2="{py(0):.1f}" '
            'stroke="#9aa3ad"/>'
        )
    parts.append(frame.axis_titles(x_label, y_label, gap=33))
    for index, s in enumerate(series):
        colour = OKABE_ITO[index % len(OKABE_ITO)]
        if stems:
            zero = py(0.0)
            for x, y in zip(s.xs, s.highs, strict=True):
                parts.append(
                    f'<line x1="{px(x):.1f}" x2="{px(x):.1f}" y1="{zero:.1f}" y2="{py(y):.1f}" '
                    f'stroke="{colour}" stroke-width="2"/>'
                    f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>'
                )
            continue
        # One path of vertical strokes, at least 1 px tall so a flat stretch is still drawn.
        stroke = max(1.0, plot_w / max(len(s.xs), 1))
        segments = []
        for x, lo, hi in zip(s.xs, s.lows, s.highs, strict=True):
            y1, y2 = py(hi), py(lo)
            if y2 - y1 < 1:
                y1, y2 = (y1 + y2) / 2 - 0.5, (y1 + y2) / 2 + 0.5
            segments.append(f"M{px(x):.1f} {y1:.1f}V{y2:.1f}")
        parts.append(
            f'<path d="{"".join(segments)}" stroke="{colour}" stroke-width="{stroke:.2f}" '
            'fill="none" opacity="0.85"/>'
        )
    if len(series) > 1:
        for index, s in enumerate(series):
            colour = OKABE_ITO[index % len(OKABE_ITO)]
            y = top + plot_h + 50 + index * 18
            parts.append(
                f'<line x1="{left}" x2="{left + 26}" y1="{y}" y2="{y}" stroke="{colour}" '
                f'stroke-width="3"/><text x="{left + 32}" y="{y + 4}" class="legend">'
                f"{escape(s.label)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))
