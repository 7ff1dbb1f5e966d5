"""Charts for the Optimizer and Loss labs: log axes and draggable markers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
from markupsafe import Markup

from app.web.charts.frame import DASHES, OKABE_ITO, Series, legend_line, ticks
from app.web.numbers import ENGLISH, Numbers

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _decade(k: int) -> str:
    """10^k as text: 10⁻³, 1, 10, 10²."""
    if k == 0:
        return "1"
    if k == 1:
        return "10"
    return "10" + str(k).translate(_SUPERSCRIPT)


def _finite(value: float) -> bool:
    return value == value and value not in (float("inf"), float("-inf"))


@dataclass(frozen=True)
class Marker:
    """A point to mark on an :func:`xy_chart`, optionally with the tangent of the given slope."""

    x: float
    y: float
    label: str = ""
    colour: str = "#000"
    slope: float | None = None


def xy_chart(
    series: list[Series],
    x_label: str,
    y_label: str,
    title: str,
    *,
    log_y: bool = False,
    log_floor: float = 1e-12,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    markers: list[Marker] = (),
    colours: list[str] | None = None,
    dots: bool = False,
    width: int = 560,
    height: int = 320,
    drag_input: str | None = None,
    scatter: tuple[list[float], list[float]] | None = None,
    numbers: Numbers = ENGLISH,
) -> Markup:
    """A line chart like :func:`line_chart`, with a base-10 log y axis on request (values at or
    below ``log_floor`` are drawn at the floor), non-finite points skipped, marked points (the
    first also gets a dashed vertical line: "you are here"), and its geometry in ``data-*``
    attributes so a script can turn a pointer position into an x value. ``drag_input`` names
    the form control that dragging on the chart sets;
    ``scatter`` (xs, ys) adds data points as grey dots; ``numbers`` writes the ticks as the
    page's language does."""
    left, right, top = 64, 16, 16
    bottom = 52 + (18 * len(series) if len(series) > 1 else 0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def ty(y: float) -> float:
        if not log_y:
            return y
        return math.log10(max(y, log_floor))

    def clean(xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """Finite points only, y on the axis's scale; arrays, so long series stay fast."""
        x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        keep = np.isfinite(x) & np.isfinite(y)
        x, y = x[keep], y[keep]
        return x, (np.log10(np.maximum(y, log_floor)) if log_y else y)

    lines = [clean(s.xs, s.ys) for s in series]
    dots_x, dots_y = clean(*(scatter or ([], [])))
    all_x = np.concatenate([x for x, _ in lines] + [dots_x])
    all_y = np.concatenate([y for _, y in lines] + [dots_y])
    mark_y = [ty(m.y) for m in markers if _finite(m.x) and _finite(m.y)]
    all_y = np.concatenate([all_y, np.array(mark_y, dtype=np.float64)])
    if x_range is not None:
        x_low, x_high = x_range
    else:
        x_low, x_high = (float(all_x.min()), float(all_x.max())) if all_x.size else (0.0, 1.0)
    if y_range is not None:
        y_low, y_high = ty(y_range[0]), ty(y_range[1])
    else:
        y_low, y_high = (float(all_y.min()), float(all_y.max())) if all_y.size else (0.0, 1.0)
        if log_y:
            y_low, y_high = math.floor(y_low), math.ceil(y_high)
    if x_high <= x_low:
        x_high = x_low + 1
    if y_high <= y_low:
        y_high = y_low + 1

    def px(x: float) -> float:
        return left + (min(max(x, x_low), x_high) - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        y = min(max(y, y_low), y_high)
        return top + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    def coords(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
        """px and py for whole arrays."""
        sx = left + (np.clip(x, x_low, x_high) - x_low) / (x_high - x_low) * plot_w
        sy = top + (1 - (np.clip(y, y_low, y_high) - y_low) / (y_high - y_low)) * plot_h
        return sx.tolist(), sy.tolist()

    drag = f' data-drag-input="{escape(drag_input)}"' if drag_input else ""
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'data-x-low="{x_low!r}" data-x-high="{x_high!r}" data-plot-left="{left}" '
        f'data-plot-width="{plot_w}" data-width="{width}"{drag}>',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#9aa3ad"/>',
    ]
    if log_y:
        decades = range(math.ceil(y_low), math.floor(y_high) + 1)
        step = max(1, math.ceil(len(decades) / 8))
        y_ticks = [(float(k), _decade(k)) for k in decades if k % step == 0]
    else:
        y_ticks = [(t, numbers.tick(t)) for t in ticks(y_low, y_high)]
    for tick, text in y_ticks:
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(text)}</text>"
        )
    for tick in ticks(x_low, x_high, count=6):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{numbers.tick(tick)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>'
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(y_label)}</text>'
    )
    parts.extend(
        f'<circle class="data-point" cx="{x:.1f}" cy="{y:.1f}" r="3.2" fill="#6b7480"/>'
        for x, y in zip(*coords(dots_x, dots_y), strict=True)
    )
    palette = colours or list(OKABE_ITO)
    for index, (x, y) in enumerate(lines):
        colour = palette[index % len(palette)]
        dash = DASHES[index % len(DASHES)] if colours is None else ""
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        sx, sy = coords(x, y)
        if len(sx) > 1:
            points = " ".join(map("{:.1f},{:.1f}".format, sx, sy))
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"'
                f'{dash_attr} data-series="{index}"/>'
            )
        if dots or len(sx) == 1:
            parts.extend(
                f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.6" fill="{colour}"/>'
                for a, b in zip(sx, sy, strict=True)
            )
    for number, m in enumerate(markers):
        if not (_finite(m.x) and _finite(m.y)):
            continue
        mx, my = px(m.x), py(ty(m.y))
        if m.slope is not None and _finite(m.slope) and not log_y:
            # The tangent: the gradient is the slope of the curve where the marker sits.
            half = (x_high - x_low) * 0.15
            if m.slope:  # keep it short where it is steep, so it stays inside the plot
                half = min(half, 0.25 * (y_high - y_low) / abs(m.slope))
            x_a, x_b = px(m.x - half), px(m.x + half)
            y_a, y_b = py(m.y - m.slope * half), py(m.y + m.slope * half)
            parts.append(
                f'<line class="chart-tangent" x1="{x_a:.1f}" y1="{y_a:.1f}" '
                f'x2="{x_b:.1f}" y2="{y_b:.1f}" stroke="#333" '
                'stroke-width="2" stroke-dasharray="6 3"/>'
            )
        if number == 0:
            parts.append(
                f'<line class="chart-cursor" x1="{mx:.1f}" x2="{mx:.1f}" y1="{top}" '
                f'y2="{top + plot_h}" stroke="#555" stroke-dasharray="3 3"/>'
            )
        parts.append(
            f'<circle class="chart-marker" cx="{mx:.1f}" cy="{my:.1f}" r="6" fill="{m.colour}" '
            f'stroke="#f0e442" stroke-width="2"/>'
        )
        if m.label:
            anchor = "end" if mx > left + plot_w * 0.7 else "start"
            dx = -9 if anchor == "end" else 9
            parts.append(
                f'<text x="{mx + dx:.1f}" y="{max(my - 8, top + 12):.1f}" text-anchor="{anchor}" '
                f'class="legend">{escape(m.label)}</text>'
            )
    if len(series) > 1:
        for index, s in enumerate(series):
            colour = palette[index % len(palette)]
            dash = DASHES[index % len(DASHES)] if colours is None else ""
            parts.append(legend_line(left, top + plot_h + 50 + index * 18, s.label, colour, dash))
    parts.append("</svg>")
    return Markup("".join(parts))
