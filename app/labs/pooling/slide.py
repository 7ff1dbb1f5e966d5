"""The Pooling lab's sliding window: the pool window played across a strip of the pooled map, one
output cell at a time (static/js/slide.js plays it; templates/pooling/_slide.html shows its first
step, which is all a page without JavaScript gets). Which strip: app.web.slide.

The page gets, as JSON, the input region under the strip written as the page writes numbers
(padding as the pooling counts it: −∞ for max, 0 for average), and for each position its pooled
value, its colour in the pooled map's image and, for max pooling, which cell of the window won.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.numbers import Numbers
from app.web.png import colour_map, png_data_uri
from app.web.slide import Strip, css_colours, strip_axis

PADDING_SHADE = 204  # padding cells in the region's picture: a light grey under the hatching


@dataclass(frozen=True)
class PoolStrip:
    strip: Strip
    kind: str  # "max" or "avg"
    region: np.ndarray  # (region rows, region cols) the input under the strip, NaN on padding
    region_colours: np.ndarray  # (region rows, region cols[, 3]) uint8, as the input map's image
    values: np.ndarray  # (n_rows, n_cols) the pooled map's own values over the strip
    winners: np.ndarray | None  # (n_rows, n_cols) the winner's place a·k + b in its window (max)
    colours: np.ndarray  # (n_rows, n_cols[, 3]) uint8, as the pooled map's image
    explained: tuple[int, int] | None  # the explained cell, in strip positions

    def window(self, i: int, j: int) -> np.ndarray:
        """(k, k): the input values in the window at strip position (i, j), NaN on padding."""
        k, s = self.strip.size[0], self.strip.stride
        return self.region[i * s : i * s + k, j * s : j * s + k]

    def winner(self, i: int, j: int) -> tuple[int, int] | None:
        if self.winners is None:
            return None
        return divmod(int(self.winners[i, j]), self.strip.size[1])

    @property
    def css_colours(self) -> list[list[str]]:
        return css_colours(self.colours)

    def region_png(self) -> str:
        return png_data_uri(self.region_colours)

    def cell_text(self, value: float, numbers: Numbers) -> str:
        """A window's cell as the page writes it; padding as the pooling counts it."""
        if value != value:
            return "−∞" if self.kind == "max" else "0"
        return numbers.short(value)

    def data(self, numbers: Numbers) -> dict:
        """What static/js/slide.js plays, with every number written for the page."""
        geometry = self.strip.geometry()
        geometry["region"]["text"] = [[self.cell_text(v, numbers) for v in row]
                                      for row in self.region.tolist()]  # fmt: skip
        return {
            "kind": "pool",
            "decimal": numbers.decimal_symbol,
            **geometry,
            "out": self.strip.out_data(self.values, self.colours, numbers, 3),
            "winners": self.winners.tolist() if self.winners is not None else None,
            "explained": list(self.explained) if self.explained else None,
        }


def pool_strip(source: np.ndarray, pooled: np.ndarray, winners: np.ndarray | None, kind: str,
               size: int, stride: int, padding: int, row: int | None,
               col: int | None) -> PoolStrip:  # fmt: skip
    """The strip of the pooled map around the explained cell (row, col), if any. `winners` holds
    each window's winner as a flat index into `source` (H, W), as max_pool2d returns them."""
    height, width = source.shape
    out_h, out_w = pooled.shape
    explained = row is not None and col is not None
    rows = strip_axis(out_h, row if explained else None, stride, size, padding)
    cols = strip_axis(out_w, col if explained else None, stride, size, padding)
    strip = Strip(rows, cols, (size, size), stride, 1, (height, width))
    padded = np.pad(source.astype(np.float64), padding, constant_values=np.nan)
    top, left = rows.start * stride, cols.start * stride  # in padded coordinates
    region = padded[top : top + rows.input_count, left : left + cols.input_count]
    shades = colour_map(source)  # (H, W) grey or (H, W, 3) diverging
    shades = np.pad(shades, [(padding, padding)] * 2 + [(0, 0)] * (shades.ndim - 2),
                    constant_values=PADDING_SHADE)  # fmt: skip
    region_colours = shades[top : top + rows.input_count, left : left + cols.input_count]
    window = (slice(rows.start, rows.end + 1), slice(cols.start, cols.end + 1))
    places = None
    if winners is not None:
        # A flat index into the map -> the place in its window: (r − r0)·k + (c − c0).
        win_rows, win_cols = np.divmod(winners[window], width)
        first_rows = (rows.start + np.arange(rows.count)) * stride - padding
        first_cols = (cols.start + np.arange(cols.count)) * stride - padding
        places = (win_rows - first_rows[:, None]) * size + (win_cols - first_cols[None, :])
    spot = (row - rows.start, col - cols.start) if explained else None
    colours = colour_map(pooled)[window]
    return PoolStrip(strip, kind, region, region_colours, pooled[window], places, colours, spot)


def lab_strip(state, result) -> PoolStrip:
    """The strip the lab plays for its fields (a PoolFields) and result (a views.PoolResult),
    once views.explain_cell has clamped the explained cell to the map."""
    return pool_strip(result.source_map, result.pooled, result.winners, state.ptype,
                      state.pool_size, state.effective_stride, state.pool_pad, state.row,
                      state.col)  # fmt: skip
