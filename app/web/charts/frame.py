"""What every chart shares: the series type, round ticks, the palette and the plotting frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from app.web.numbers import ENGLISH, Numbers

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
DASHES = ("", "6 4", "2 3", "8 3 2 3")  # a second cue besides colour


@dataclass(frozen=True)
class Series:
    label: str
    xs: list[float]
    ys: list[float]


def ticks(low: float, high: float, count: int = 5) -> list[float]:
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


def legend_line(x: int, y: float, label: str, colour: str, dash: str = "") -> str:
    """One legend entry: a short stroke in the series' colour and dash, then its name."""
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x}" x2="{x + 26}" y1="{y}" y2="{y}" '
        f'stroke="{colour}" stroke-width="3"{dash_attr}/>'
        f'<text x="{x + 32}" y="{y + 4}" class="legend">{escape(label)}</text>'
    )


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

    def y_grid(
        self, count: int = 5, stroke: str = "#e3e6ea", numbers: Numbers = ENGLISH
    ) -> list[str]:
        """A light horizontal line and a label at each round y value."""
        parts = []
        for tick in ticks(self.y_low, self.y_high, count):
            y = self.py(tick)
            parts.append(
                f'<line x1="{self.left}" x2="{self.left + self.plot_w}" y1="{y:.1f}" '
                f'y2="{y:.1f}" stroke="{stroke}"/>'
                f'<text x="{self.left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
                f"{numbers.tick(tick)}</text>"
            )
        return parts

    def axis_titles(self, x_label: str, y_label: str, gap: int = 34) -> str:
        return (
            f'<text x="{self.left + self.plot_w / 2}" y="{self.top + self.plot_h + gap}" '
            f'text-anchor="middle" class="axis-label">{escape(x_label)}</text>'
            f'<text transform="translate(14 {self.top + self.plot_h / 2}) rotate(-90)" '
            f'text-anchor="middle" class="axis-label">{escape(y_label)}</text>'
        )
