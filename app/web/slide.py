"""Where a sliding window is played, for the Filters lab's kernel and the Pooling lab's window
(app/labs/*/slide.py; static/js/slide.js plays them).

A big map is not played whole (a 512×512 map has 262,144 positions): the player plays a strip of
at most STRIP_CELLS×STRIP_CELLS output positions around the explained cell, or from the map's
top-left corner while none is explained. Fewer, when the window's footprint and the stride would
make the input region under the strip more than STRIP_INPUT cells across, so that one input cell
stays big enough to see. The strip moves with the explained cell (click the map), or one strip at a
time with its arrows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.web.numbers import Numbers

STRIP_CELLS = 16  # output positions along each side of the strip, at most
STRIP_INPUT = 48  # input cells along each side of the region under the strip, at most


@dataclass(frozen=True)
class StripAxis:
    """Where the strip lies along one axis, in output and in input positions."""

    start: int  # first output position of the strip
    count: int  # output positions in the strip
    input_start: int  # input position of the region's first cell; negative ones are padding
    input_count: int  # input cells the region spans
    out_size: int  # output positions of the whole map along this axis

    def neighbour(self, direction: int) -> int | None:
        """The centre of the strip one strip further (direction -1 or +1); None at the edge."""
        if (direction < 0 and self.start == 0) or (
            direction > 0 and self.start + self.count >= self.out_size
        ):
            return None
        start = min(max(self.start + direction * self.count, 0), self.out_size - self.count)
        return start + self.count // 2

    @property
    def end(self) -> int:
        """The last output position of the strip."""
        return self.start + self.count - 1


def strip_axis(out_size: int, centre: int | None, stride: int, footprint: int,
               pad_before: int) -> StripAxis:  # fmt: skip
    """The strip along one axis: centred on `centre` (clamped to the map), or from 0."""
    fits = max(1, (STRIP_INPUT - footprint) // stride + 1)
    count = min(out_size, STRIP_CELLS, fits)
    start = 0 if centre is None else min(max(centre - count // 2, 0), out_size - count)
    input_count = (count - 1) * stride + footprint
    return StripAxis(start, count, start * stride - pad_before, input_count, out_size)


@dataclass(frozen=True)
class Strip:
    """The geometry of a window of `size` cells, spread by `dilation`, moving by `stride` over an
    input of `input_shape` cells, along the strip's `rows` and `cols`."""

    rows: StripAxis
    cols: StripAxis
    size: tuple[int, int]  # (KH, KW) cells of the window
    stride: int
    dilation: int
    input_shape: tuple[int, int]  # (H, W) of the input, padding excluded

    limit = STRIP_CELLS  # for the page's explanation of the strip

    @property
    def positions(self) -> int:
        return self.rows.count * self.cols.count

    @property
    def footprint(self) -> tuple[int, int]:
        """Input cells the window spans along each axis."""
        return tuple(self.dilation * (k - 1) + 1 for k in self.size)

    def cells(self, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The input rows (KH,) and columns (KW,) the window covers at strip position (i, j);
        outside 0..H-1 and 0..W-1 they are padding."""
        rows = self.rows.input_start + i * self.stride + self.dilation * np.arange(self.size[0])
        cols = self.cols.input_start + j * self.stride + self.dilation * np.arange(self.size[1])
        return rows, cols

    def in_padding(self, i: int, j: int) -> np.ndarray:
        """(KH, KW): True where the window at strip position (i, j) lies on padding."""
        rows, cols = self.cells(i, j)
        height, width = self.input_shape
        return ((rows < 0) | (rows >= height))[:, None] | ((cols < 0) | (cols >= width))[None, :]

    def window_box(self, i: int, j: int) -> dict[str, float]:
        """The window's footprint at strip position (i, j), in percent of the region."""
        fh, fw = self.footprint
        return _percent(self, i * self.stride, j * self.stride, fh, fw)

    def taps(self) -> list[dict[str, float]]:
        """With dilation, where the window's cells lie inside its footprint (percent of it)."""
        if self.dilation == 1:
            return []
        (fh, fw), d = self.footprint, self.dilation
        places = [(a, b) for a in range(self.size[0]) for b in range(self.size[1])]
        return [{"top": 100 * a * d / fh, "left": 100 * b * d / fw, "height": 100 / fh,
                 "width": 100 / fw} for a, b in places]  # fmt: skip

    def padding_bands(self) -> list[dict[str, float]]:
        """The padding inside the region, as at most four rectangles (percent of the region)."""
        height, width = self.input_shape
        r0, r1 = self.rows.input_start, self.rows.input_start + self.rows.input_count
        c0, c1 = self.cols.input_start, self.cols.input_start + self.cols.input_count
        inner_top, inner_bottom = max(r0, 0), min(r1, height)
        bands = [
            (r0, c0, min(0, r1) - r0, c1 - c0),  # above the input
            (max(height, r0), c0, r1 - max(height, r0), c1 - c0),  # below it
            (inner_top, c0, inner_bottom - inner_top, min(0, c1) - c0),  # left of it
            (inner_top, max(width, c0), inner_bottom - inner_top, c1 - max(width, c0)),  # right
        ]
        return [_percent(self, top - r0, left - c0, h, w) for top, left, h, w in bands
                if h > 0 and w > 0]  # fmt: skip

    def geometry(self) -> dict:
        """The JSON the player needs to place the window and read its cells."""
        return {
            "input": {"height": self.input_shape[0], "width": self.input_shape[1]},
            "region": {"top": self.rows.input_start, "left": self.cols.input_start,
                       "rows": self.rows.input_count, "cols": self.cols.input_count},
            "window": {"rows": self.size[0], "cols": self.size[1]},
            "stride": self.stride,
            "dilation": self.dilation,
        }  # fmt: skip

    def out_data(self, values: np.ndarray, colours: np.ndarray, numbers: Numbers,
                 digits: int) -> dict:  # fmt: skip
        """The strip's output values (n_rows, n_cols), as written on the page, and each cell's
        colour in the lab's map image ((n_rows, n_cols) grey or (n_rows, n_cols, 3) uint8)."""
        return {
            "top": self.rows.start, "left": self.cols.start,
            "rows": self.rows.count, "cols": self.cols.count,
            "text": [[numbers.short(v, digits) for v in row] for row in values.tolist()],
            "colour": css_colours(colours),
        }  # fmt: skip


def _percent(strip: Strip, top: float, left: float, height: float, width: float) -> dict:
    rows, cols = strip.rows.input_count, strip.cols.input_count
    return {"top": 100 * top / rows, "left": 100 * left / cols,
            "height": 100 * height / rows, "width": 100 * width / cols}  # fmt: skip


def css_colours(pixels: np.ndarray) -> list[list[str]]:
    """(H, W) grey or (H, W, 3) uint8 -> CSS colours."""
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return [[f"#{r:02x}{g:02x}{b:02x}" for r, g, b in row] for row in pixels.tolist()]


def plain_numbers(values: np.ndarray) -> list:
    """Whole numbers (a picture's pixels) as ints, which keeps the page's JSON short; other
    values exactly, as float64."""
    if np.all(values == np.round(values)):
        return values.astype(np.int64).tolist()
    return values.astype(np.float64).tolist()
