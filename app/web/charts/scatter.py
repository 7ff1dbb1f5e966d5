"""The labelled scatter chart of the Text lab's embedding view: points -> SVG, dots coloured by
class, labelled where a label fits."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from app.web.charts.frame import OKABE_ITO, Frame, ticks
from app.web.numbers import ENGLISH, Numbers


def _label_box(x: float, y: float, width: float, where: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a label beside the dot at (x, y)."""
    if where == "right":
        return x + 6, y - 8, x + 6 + width, y + 4
    if where == "left":
        return x - 6 - width, y - 8, x - 6, y + 4
    if where == "above":
        return x - width / 2, y - 18, x + width / 2, y - 6
    return x - width / 2, y + 5, x + width / 2, y + 17  # below


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def labelled_scatter(points, x_label: str, y_label: str, title: str, classes: list[str],
                     legend_title: str = "", undecided: str = "", width: int = 680,
                     height: int = 540, *, numbers: Numbers = ENGLISH):  # fmt: skip
    """SVG: points (x, y, label, class index or −1 for undecided, emphasised) as dots coloured
    by class (Okabe–Ito; blue/vermilion for two classes), labelled where a label fits without
    covering another (emphasised points first; a crowded label becomes the dot's tooltip)."""
    xs = [p[0] for p in points] or [0.0, 1.0]
    ys = [p[1] for p in points] or [0.0, 1.0]
    pad_x = (max(xs) - min(xs)) * 0.08 or 1.0
    pad_y = (max(ys) - min(ys)) * 0.06 or 1.0
    frame = Frame(width, height, 58, 16, 16, 78, min(xs) - pad_x, max(xs) + pad_x,
                  min(ys) - pad_y, max(ys) + pad_y, clamp=False)  # fmt: skip
    px, py = frame.px, frame.py
    left, top, plot_w, plot_h = frame.left, frame.top, frame.plot_w, frame.plot_h
    x_low, x_high = frame.x_low, frame.x_high

    if len(classes) == 2:
        colours = ["#0072B2", "#D55E00"]
    else:
        colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(classes))]
    grey = "#8a8f96"
    parts = frame.open(title, css="chart text-scatter")
    parts += frame.y_grid(stroke="#eef0f2", numbers=numbers)
    for tick in ticks(x_low, x_high, count=6):
        x = px(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eef0f2"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{numbers.tick(tick)}</text>"
        )
    parts.append(frame.axis_titles(x_label, y_label))
    # Emphasised points first, so their labels get the free places.
    order = sorted(range(len(points)), key=lambda i: (not points[i][4], i))
    placed: list[tuple[float, float, float, float]] = []
    for i in order:
        x, y, label, cls, emphasised = points[i]
        cx, cy = px(x), py(y)
        colour = grey if cls < 0 else colours[cls % len(colours)]
        box = None
        text_width = 6.4 * len(label) + (8 if emphasised else 0)
        for where in ("right", "left", "above", "below"):
            candidate = _label_box(cx, cy, text_width, where)
            inside = candidate[0] >= left and candidate[2] <= left + plot_w and (
                candidate[1] >= top and candidate[3] <= top + plot_h)  # fmt: skip
            if inside and not any(_overlaps(candidate, other) for other in placed):
                box = candidate
                break
        weight = ' font-weight="700"' if emphasised else ""
        parts.append(
            f'<g class="word-point" data-word="{escape(label)}"><title>{escape(label)}</title>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{4.5 if emphasised else 3.2}" '
            f'fill="{colour}"/>'
        )
        if box is not None:
            placed.append(box)
            parts.append(
                f'<text x="{box[0]:.1f}" y="{box[3] - 2:.1f}" class="word-label"{weight}>'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    y = top + plot_h + 56
    x = left
    if legend_title:
        parts.append(f'<text x="{x}" y="{y + 4}" class="legend">{escape(legend_title)}:</text>')
        x += 10 + 6.6 * len(legend_title)
    entries = [(colours[i % len(colours)], name) for i, name in enumerate(classes)]
    if undecided:
        entries.append((grey, undecided))
    for colour, name in entries:
        parts.append(
            f'<circle cx="{x + 6:.1f}" cy="{y}" r="5" fill="{colour}"/>'
            f'<text x="{x + 15:.1f}" y="{y + 4}" class="legend">{escape(name)}</text>'
        )
        x += 34 + 6.6 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))
