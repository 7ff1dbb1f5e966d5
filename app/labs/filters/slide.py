"""The Filters lab's sliding window: the kernel played across a strip of the selected feature map,
one output position at a time (static/js/slide.js plays it; templates/filters/_slide.html shows
its first step, which is all a page without JavaScript gets). Which strip: app.web.slide.

The page gets, as JSON, what every step needs: the input region under the strip (its padding
included, with the values the border mode gives it; only the rows and columns the kernel's cells
land on), the kernel as applied, and for each position
the map's own value and the per-channel sums of the products, written as the page's language
writes them. The products themselves (up to 3×15×15 per position) are multiplied and written in
the browser, from the region and the kernel, with the page's decimal sign.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.media.filterbank import FilterResult
from app.web.numbers import Numbers
from app.web.png import clipped_grey, colour_map, png_data_uri
from app.web.slide import Strip, css_colours, plain_numbers, strip_axis
from engine.conv import pad


@dataclass(frozen=True)
class ConvStrip:
    strip: Strip
    map_index: int
    region: np.ndarray  # (C, region rows, region cols) the padded input under the strip
    kernel: np.ndarray  # (C, KH, KW) as applied (flipped already for true convolution)
    bias: float
    values: np.ndarray  # (n_rows, n_cols) the map's own values (float32) over the strip
    sums: np.ndarray  # (n_rows, n_cols, C) each channel's sum of products, in float64
    colours: np.ndarray  # (n_rows, n_cols[, 3]) uint8, the cells' colours in the map's image
    explained: tuple[int, int] | None  # the explained pixel, in strip positions

    def patch(self, i: int, j: int) -> np.ndarray:
        """(C, KH, KW): the region's values under the kernel at strip position (i, j)."""
        kh, kw = self.kernel.shape[1:]
        s, d = self.strip.stride, self.strip.dilation
        rows = i * s + d * np.arange(kh)
        cols = j * s + d * np.arange(kw)
        return self.region[:, rows[:, None], cols[None, :]]

    @property
    def totals(self) -> np.ndarray:
        """(n_rows, n_cols): the channels' sums plus the bias, in float64."""
        return self.sums.sum(axis=2) + self.bias

    @property
    def css_colours(self) -> list[list[str]]:
        return css_colours(self.colours)

    def region_png(self) -> str:
        """The region as the lab's input view draws it, padding with the values it was given."""
        pixels = clipped_grey(self.region.transpose(1, 2, 0))
        return png_data_uri(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)

    def data(self, numbers: Numbers) -> dict:
        """What static/js/slide.js plays, with the numbers the page shows written for it."""
        geometry = self.strip.geometry()
        # Only the rows and columns some kernel cell lands on: with dilation, most of a large
        # footprint is skipped (a dilated 15×15 kernel spans 225×225 pixels, 225 of them used).
        kh, kw = self.kernel.shape[1:]
        s, d, n_rows, n_cols = self.strip.stride, self.strip.dilation, *self.values.shape
        used_rows = sorted({i * s + a * d for i in range(n_rows) for a in range(kh)})
        used_cols = sorted({j * s + b * d for j in range(n_cols) for b in range(kw)})
        used = self.region[:, used_rows][:, :, used_cols]
        geometry["region"].update(
            usedRows=used_rows, usedCols=used_cols, values=plain_numbers(used)
        )
        sums = self.sums.tolist()
        return {
            "kind": "conv",
            "decimal": numbers.decimal_symbol,
            **geometry,
            "kernel": self.kernel.tolist(),
            "out": self.strip.out_data(self.values, self.colours, numbers, 4),
            "sums": [[[numbers.short(v, 4) for v in cell] for cell in row] for row in sums],
            "totals": [[numbers.short(v, 4) for v in row] for row in self.totals.tolist()],
            "explained": list(self.explained) if self.explained else None,
        }


def conv_strip(result: FilterResult, map_index: int, row: int | None, col: int | None, *,
               stride: int, dilation: int, bias: float, mode: str) -> ConvStrip:  # fmt: skip
    """The strip of map `map_index` around the explained pixel (row, col), if any."""
    index = min(map_index, len(result.bank) - 1)
    kernel = result.bank[index]  # (C, KH, KW)
    kh, kw = kernel.shape[1:]
    (top_pad, _), (left_pad, _) = result.pads
    out_h, out_w = result.maps.shape[1:]
    explained = row is not None and col is not None
    rows = strip_axis(out_h, row if explained else None, stride, dilation * (kh - 1) + 1, top_pad)
    cols = strip_axis(out_w, col if explained else None, stride, dilation * (kw - 1) + 1, left_pad)
    strip = Strip(rows, cols, (kh, kw), stride, dilation, result.image.shape[1:])
    padded = pad(result.image[None].astype(np.float64), result.pads, mode)[0]  # (C, H+p, W+p)
    top, left = rows.start * stride, cols.start * stride  # in padded coordinates
    region = padded[:, top : top + rows.input_count, left : left + cols.input_count]
    # (C, n_rows, n_cols, KH, KW): every position's patch at once, for its sums.
    r = (np.arange(rows.count) * stride)[:, None] + dilation * np.arange(kh)[None, :]
    c = (np.arange(cols.count) * stride)[:, None] + dilation * np.arange(kw)[None, :]
    patches = region[:, r[:, None, :, None], c[None, :, None, :]]
    sums = (patches * kernel[:, None, None]).sum(axis=(3, 4)).transpose(1, 2, 0)
    window = (slice(rows.start, rows.end + 1), slice(cols.start, cols.end + 1))
    colours = colour_map(result.maps[index])[window]
    spot = (row - rows.start, col - cols.start) if explained else None
    return ConvStrip(strip, index, region, kernel, float(bias), result.maps[index][window], sums,
                     colours, spot)  # fmt: skip


def lab_strip(fields, result: FilterResult) -> ConvStrip:
    """The strip the lab plays for its fields (a FilterFields), once views.explain has clamped
    the explained pixel to the map."""
    return conv_strip(result, fields.map_index, fields.row, fields.col, stride=fields.stride,
                      dilation=fields.dilation, bias=fields.bias, mode=fields.mode)  # fmt: skip
