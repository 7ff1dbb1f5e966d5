"""Series -> SVG charts: labelled axes, a legend, and the Okabe–Ito colour-blind-safe palette.

The SVG is built as text and every label is escaped, so it can be inlined in a page.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

import numpy as np
from markupsafe import Markup

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
DASHES = ("", "6 4", "2 3", "8 3 2 3")  # a second cue besides colour


@dataclass(frozen=True)
class Series:
    label: str
    xs: list[float]
    ys: list[float]


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About `count` round-numbered ticks (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if high <= low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((1, 2, 2.5, 5, 10), key=lambda m: abs(m * magnitude - raw)) * magnitude
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:.3g}"


@dataclass
class Frame:
    """A chart's plotting area: where data values land in the SVG, and the furniture every chart
    shares (the outline, the horizontal grid with its labels, the axis titles)."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_low: float
    x_high: float
    y_low: float
    y_high: float
    clamp: bool = True  # keep y inside the plot (curves that leave the range run along its edge)

    def __post_init__(self) -> None:
        if self.x_high == self.x_low:
            self.x_high = self.x_low + 1
        if self.y_high == self.y_low:
            self.y_high = self.y_low + 1

    @property
    def plot_w(self) -> int:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> int:
        return self.height - self.top - self.bottom

    def px(self, x: float) -> float:
        return self.left + (x - self.x_low) / (self.x_high - self.x_low) * self.plot_w

    def py(self, y: float) -> float:
        if self.clamp:
            y = min(max(y, self.y_low), self.y_high)
        return self.top + (1 - (y - self.y_low) / (self.y_high - self.y_low)) * self.plot_h

    def open(self, title: str, css: str = "chart") -> list[str]:
        """The <svg> element's start, its accessible title, and the white plotting area."""
        return [
            f'<svg class="{css}" viewBox="0 0 {self.width} {self.height}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(title)}</title>",
            f'<rect x="{self.left}" y="{self.top}" width="{self.plot_w}" height="{self.plot_h}" '
            'fill="#fff" stroke="#9aa3ad"/>',
        ]

    def y_grid(self, count: int = 5, stroke: str = "#e3e6ea") -> list[str]:
        """A light horizontal line and a label at each round y value."""
        parts = []
        for tick in _ticks(self.y_low, self.y_high, count):
            y = self.py(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{self.left + self.plot_w}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{stroke}"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                f"{_fmt(tick)}</text>"
            )
        return parts

    def axis_titles(self, x_label: str, y_label: str, gap: int = 34) -> str:
        return (
            f'<text x="{self.left + self.plot_w / 2}" y="{self.top + self.plot_h + gap}" '
            f'text-anchor="middle" class="axis-label">{escape(x_label)}</text>'
            f'<text transform="translate(14 {self.top + self.plot_h / 2}) rotate(-90)" '
            f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
        )


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
    xs = [x for s in series for x in s.xs]
    ys = [y for s in series for y in s.ys]
    x_low, x_high = (min(xs), max(xs)) if xs else (0.0, 1.0)
    y_low, y_high = y_range or ((min(ys), max(ys)) if ys else (0.0, 1.0))
    frame = Frame(width, height, 58, 16, 16, 56 + 18 * max(len(series), 1),
                  x_low, x_high, y_low, y_high)  # fmt: skip
    px, py = frame.px, frame.py
    left, top, plot_h = frame.left, frame.top, frame.plot_h
    x_low, x_high = frame.x_low, frame.x_high
    parts = frame.open(title) + frame.y_grid()
    for tick in _ticks(x_low, x_high, count=min(9, int(x_high - x_low) + 1)):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{_fmt(tick)}</text>"
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


# --- Charts for the Optimizer and Loss labs: log axes, a draggable marker, and a surface map
# with trajectories. Added after line_chart, which stays as it is.

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
) -> Markup:
    """A line chart like :func:`line_chart`, with a base-10 log y axis on request (values at or
    below ``log_floor`` are drawn at the floor), non-finite points skipped, marked points (the
    first also gets a dashed vertical line: "you are here"), and its geometry in ``data-*``
    attributes so a script can turn a pointer position into an x value. ``drag_input`` names
    the form control that dragging on the chart sets;
    ``scatter`` (xs, ys) adds data points as grey dots."""
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
        y_ticks = [(t, _fmt(t)) for t in _ticks(y_low, y_high)]
    for tick, text in y_ticks:
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6ea"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{escape(text)}</text>"
        )
    for tick in _ticks(x_low, x_high, count=6):
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
            y = top + plot_h + 50 + index * 18
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{left}" x2="{left + 26}" y1="{y}" y2="{y}" '
                f'stroke="{colour}" stroke-width="3"{dash_attr}/>'
                f'<text x="{left + 32}" y="{y + 4}" class="legend">{escape(s.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class MapPath:
    """One trajectory over a surface map: points in data coordinates, drawn up to the last."""

    label: str  # a short tag drawn at the end of the path, e.g. the racer's number
    points: list[tuple[float, float]]
    colour: str
    diverged: bool = False  # mark the last point with a cross: the next step blew up


def surface_map(
    image_href: str,
    box: tuple[float, float, float, float],
    paths: list[MapPath],
    title: str,
    axes: tuple[str, str] = ("x", "y"),
    minima: tuple[tuple[float, float], ...] = (),
    start: tuple[float, float] | None = None,
    plot_width: int = 480,
    dots: bool = True,
) -> Markup:
    """A picture of a surface (``image_href``, drawn over ``box`` = (x0, x1, y0, y1) with equal
    units on both axes) with trajectories as SVG polylines on top, clipped to the box; minima as
    stars, the start as a ring. The box and plot geometry are in ``data-*`` attributes so a click
    can be turned into a point."""
    x0, x1, y0, y1 = box
    left, top, right, bottom = 52, 10, 12, 44
    plot_h = round(plot_width * (y1 - y0) / (x1 - x0))
    width, height = left + plot_width + right, top + plot_h + bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_width

    def py(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * plot_h

    def clamp(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
        # Far-off points are pulled in so the SVG numbers stay small; the clip hides them.
        if not points:
            return []
        xy = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        sx = np.clip(left + (xy[:, 0] - x0) / (x1 - x0) * plot_width, -1e4, 1e4)
        sy = np.clip(top + (y1 - xy[:, 1]) / (y1 - y0) * plot_h, -1e4, 1e4)
        return list(zip(sx.tolist(), sy.tolist(), strict=True))

    parts = [
        f'<svg class="chart surface-map" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'data-box="{x0!r} {x1!r} {y0!r} {y1!r}" '
        f'data-plot="{left} {top} {plot_width} {plot_h}">',
        f"<title>{escape(title)}</title>",
        f'<defs><clipPath id="map-clip"><rect x="{left}" y="{top}" width="{plot_width}" '
        f'height="{plot_h}"/></clipPath></defs>',
        f'<image href="{escape(image_href)}" x="{left}" y="{top}" width="{plot_width}" '
        f'height="{plot_h}" preserveAspectRatio="none" style="image-rendering: pixelated"/>',
        f'<rect x="{left}" y="{top}" width="{plot_width}" height="{plot_h}" fill="none" '
        'stroke="#6b7480"/>',
    ]
    for tick in _ticks(x0, x1, 5):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'class="tick">{_fmt(tick)}</text>'
        )
    for tick in _ticks(y0, y1, 5):
        parts.append(
            f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" class="tick">'
            f"{_fmt(tick)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_width / 2}" y="{top + plot_h + 36}" text-anchor="middle" '
        f'class="axis-label">{escape(axes[0])}</text>'
        f'<text transform="translate(16 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(axes[1])}</text>'
    )
    for mx, my in minima:
        cx, cy = px(mx), py(my)
        parts.append(
            f'<path class="map-minimum" d="M{cx:.1f},{cy - 7:.1f} L{cx + 2:.1f},{cy - 2:.1f} '
            f"L{cx + 7:.1f},{cy - 2:.1f} L{cx + 3:.1f},{cy + 1.5:.1f} L{cx + 4.5:.1f},{cy + 7:.1f} "
            f"L{cx:.1f},{cy + 4:.1f} L{cx - 4.5:.1f},{cy + 7:.1f} L{cx - 3:.1f},{cy + 1.5:.1f} "
            f'L{cx - 7:.1f},{cy - 2:.1f} L{cx - 2:.1f},{cy - 2:.1f} Z" fill="#f0e442" '
            'stroke="#000" stroke-width="1"/>'
        )
    parts.append('<g clip-path="url(#map-clip)">')
    for path in paths:
        pts = clamp(path.points)
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        parts.append(
            f'<g class="map-path" data-racer="{escape(path.label)}" data-points="{len(pts)}">'
            f'<polyline points="{coords}" fill="none" stroke="#fff" stroke-width="4.5" '
            'stroke-opacity="0.7"/>'
            f'<polyline points="{coords}" fill="none" stroke="{path.colour}" stroke-width="2.2"/>'
        )
        if dots and len(pts) <= 201:
            parts.extend(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{path.colour}"/>'
                for x, y in pts[1:]
            )
        if pts:
            ex, ey = pts[-1]
            if path.diverged:
                parts.append(
                    f'<path d="M{ex - 6:.1f},{ey - 6:.1f} L{ex + 6:.1f},{ey + 6:.1f} '
                    f'M{ex - 6:.1f},{ey + 6:.1f} L{ex + 6:.1f},{ey - 6:.1f}" '
                    f'stroke="{path.colour}" stroke-width="3"/>'
                )
            else:
                parts.append(
                    f'<circle cx="{ex:.1f}" cy="{ey:.1f}" r="5" fill="{path.colour}" '
                    'stroke="#fff" stroke-width="1.5"/>'
                )
            parts.append(
                f'<text x="{ex + 7:.1f}" y="{ey - 6:.1f}" class="map-label" '
                f'fill="{path.colour}">{escape(path.label)}</text>'
            )
        parts.append("</g>")
    parts.append("</g>")
    if start is not None:
        sx, sy = px(start[0]), py(start[1])
        parts.append(
            f'<circle class="map-start" cx="{sx:.1f}" cy="{sy:.1f}" r="7" fill="none" '
            'stroke="#000" stroke-width="2.5"/>'
            f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="7" fill="none" stroke="#fff" '
            'stroke-width="1" stroke-dasharray="2 2"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


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
    parts = frame.open(title) + frame.y_grid(count=3)
    for tick in _ticks(x_low, x_high, count=6):
        if stems and not float(tick).is_integer():
            continue  # stems stand at whole sample numbers
        label = str(int(tick)) if float(tick).is_integer() and abs(tick) < 1e6 else _fmt(tick)
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
