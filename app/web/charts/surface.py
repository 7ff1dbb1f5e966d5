"""A loss surface as a picture with each optimizer's path drawn over it."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
from markupsafe import Markup

from app.web.charts.frame import ticks
from app.web.numbers import ENGLISH, Numbers


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
    *,
    numbers: Numbers = ENGLISH,
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
    for tick in ticks(x0, x1, 5):
        parts.append(
            f'<text x="{px(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle" '
            f'class="tick">{numbers.tick(tick)}</text>'
        )
    for tick in ticks(y0, y1, 5):
        parts.append(
            f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" class="tick">'
            f"{numbers.tick(tick)}</text>"
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
