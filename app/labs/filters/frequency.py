"""The Filters lab's frequency view: each kernel of the bank as the gains it gives to waves of
every frequency (engine.frequency), as a picture and in numbers.

A kernel on a colour image is C×K×K: one slice per channel, each with its own response. When the
slices are all the same (every named filter) one response says it all; otherwise each slice is
shown, and their sum, which is what filters a grey picture (R = G = B).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from app.config import LIMITS
from app.labs.filters.fields import FilterFields
from app.media.filterbank import FilterResult
from app.web.errors import UserError
from app.web.fields import Fields, field
from app.web.i18n import N_
from engine import frequency
from engine.frequency import KernelGains

PARTS = ("0", "1", "2", "sum")
KIND_NAMES = {  # lower case: also said of one axis ("band-pass along x")
    "low-pass": N_("low-pass"),
    "high-pass": N_("high-pass"),
    "band-pass": N_("band-pass"),
    "band-stop": N_("band-stop"),
    "all-pass": N_("all-pass"),
    "zero": N_("passes nothing"),
}
KIND_SENTENCES = {
    "low-pass": N_("Slow changes pass and fine detail is smoothed away, as in a blur."),
    "high-pass": N_("Fine detail and edges come through strongest; flat areas are held back."),
    "band-pass": N_(
        "Neither flat areas nor the finest pixel-to-pixel detail pass: it picks out changes of "
        "a middle size, such as edges a few pixels wide."
    ),
    "band-stop": N_("Flat areas and the finest detail pass, a band of frequencies between not."),
    "all-pass": N_("Every frequency passes with about the same gain: the detail is all kept."),
    "zero": N_("This kernel is all zeros, so every frequency gets gain 0."),
}


class FrequencyView(Fields):
    """Which response picture: the kernel (map index) and the slice (a channel, or their sum)."""

    index: int = field(0, N_("Feature map"), ge=0, le=LIMITS.max_bank - 1, status=422)
    part: Literal[PARTS] = field(
        "0", N_("Channel"), status=404, invalid=N_("Unknown channel '%(name)s'.")
    )


@dataclass(frozen=True)
class SliceResponse:
    part: str  # "0", "1", "2" or "sum": the picture's URL parameter
    gains: KernelGains
    along_x: list[float]  # the gain at fy = 0 for fx = 0, 1/n, …, 0.5 cycles/pixel
    along_y: list[float]  # the gain at fx = 0 for fy = 0, 1/n, …, 0.5
    # With a stride s the map holds waves only up to 0.5 / s cycles/pixel: the largest gain
    # beyond that (along x or y), as a share of the largest gain. None at stride 1.
    aliased: float | None = None

    @property
    def profile_top(self) -> float:
        """The top of the profile chart's gain axis."""
        return max(max(self.along_x), max(self.along_y), 1e-12) * 1.05

    @property
    def kind_name(self) -> str | None:
        """The msgid of the kind, when both axes have the same."""
        kind = self.gains.kind
        return KIND_NAMES[kind] if kind != "mixed" else None

    @property
    def kind_sentence(self) -> str | None:
        kind = self.gains.kind
        return KIND_SENTENCES[kind] if kind != "mixed" else None

    @property
    def axis_kinds(self) -> tuple[str, str]:
        """The msgids of the kinds along x and along y."""
        return KIND_NAMES[self.gains.along_x.kind], KIND_NAMES[self.gains.along_y.kind]

    @property
    def same_highest(self) -> bool:
        """Whether the finest vertical and horizontal stripes get the same gain."""
        x, y = self.gains.along_x.highest, self.gains.along_y.highest
        return abs(x - y) <= 1e-9 * max(x, y, 1e-12)


@dataclass(frozen=True)
class KernelFrequency:
    index: int  # the map's index in the bank
    size: int  # the DFT grid, size×size
    shape: tuple[int, int]  # the kernel as applied (dilated)
    slices: list[SliceResponse]  # one (grey, or three equal slices), or R, G, B and their sum
    shared: bool  # a colour kernel whose three slices are equal


def applied_kernel(fields: FilterFields, result: FilterResult, index: int) -> np.ndarray:
    """(C, K, K') as the convolution applies it: flipped for true convolution (as the bank
    already is), with the dilation's zeros between its taps."""
    return frequency.dilate(result.bank[index], fields.dilation)


def slice_kernel(kernel: np.ndarray, part: str) -> np.ndarray:
    """(C, K, K') -> the (K, K') kernel of one channel, or the sum of the channels' slices."""
    if part == "sum":
        return kernel.sum(axis=0)
    channel = int(part)
    if channel >= kernel.shape[0]:
        raise UserError(N_("Per-channel maps exist only for colour (RGB) images."), status=404)
    return kernel[channel]


def shown_parts(kernel: np.ndarray) -> tuple[list[str], bool]:
    """The slices worth a picture, and whether a colour kernel's three slices are equal."""
    if kernel.shape[0] == 1:
        return ["0"], False
    if np.array_equal(kernel, np.broadcast_to(kernel[:1], kernel.shape)):
        return ["0"], True
    return ["0", "1", "2", "sum"], False


def kernel_frequencies(fields: FilterFields, result: FilterResult) -> list[KernelFrequency]:
    """Every kernel of the bank: its grid, its slices and their gains."""
    views = []
    for index in range(len(result.bank)):
        kernel = applied_kernel(fields, result, index)
        size = frequency.response_size(kernel.shape[1:])
        parts, shared = shown_parts(kernel)
        slices = [
            slice_response(slice_kernel(kernel, part), part, size, fields.stride) for part in parts
        ]
        views.append(KernelFrequency(index, size, kernel.shape[1:], slices, shared))
    return views


def slice_response(kernel: np.ndarray, part: str, size: int, stride: int = 1) -> SliceResponse:
    """The gains of one (K, K') slice, its response along the two axes for the chart, and at a
    stride above 1 how much it lets through that the strided map cannot hold."""
    gains = np.abs(frequency.response_2d(kernel, size))
    aliased = None
    if stride > 1:
        f = np.abs(frequency.frequencies_2d(size))
        beyond = (f[:, None] > 0.5 / stride + 1e-12) | (f[None, :] > 0.5 / stride + 1e-12)
        top = float(gains.max())
        aliased = float(gains[beyond].max()) / top if top > 1e-12 else 0.0
    centre = size // 2
    # From zero frequency out to +0.5, which the shifted grid holds as −0.5 (row/column 0).
    along_x = [*gains[centre, centre:], gains[centre, 0]]
    along_y = [*gains[centre:, centre], gains[0, centre]]
    return SliceResponse(part, frequency.kernel_gains(kernel, size),
                         [float(g) for g in along_x], [float(g) for g in along_y],
                         aliased)  # fmt: skip


# Viridis (perceptually uniform, colour-blind safe) at nine evenly spaced stops: dark purple for
# gain 0 up to yellow for the largest. A flat response is all yellow, never a blank white box.
VIRIDIS = np.array([
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
    (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
], dtype=np.float64)  # fmt: skip


def viridis(values: np.ndarray) -> np.ndarray:
    """(H, W) values in 0..1 -> (H, W, 3) uint8."""
    stops = np.linspace(0, 1, len(VIRIDIS))
    values = np.clip(values, 0, 1)
    channels = [np.interp(values, stops, VIRIDIS[:, c]) for c in range(3)]
    return np.round(np.stack(channels, axis=-1)).astype(np.uint8)


def response_pixels(fields: FilterFields, result: FilterResult, shown: FrequencyView) -> np.ndarray:
    """(size, size, 3) uint8: the gain of each frequency in viridis, from 0 to the slice's largest
    gain; zero frequency in the centre, fx to the right and fy downwards (as the image's rows)."""
    index = min(shown.index, len(result.bank) - 1)
    kernel = slice_kernel(applied_kernel(fields, result, index), shown.part)
    gains = np.abs(frequency.response_2d(kernel, frequency.response_size(kernel.shape)))
    top = float(gains.max())
    return viridis(gains / top if top > 1e-12 else np.zeros_like(gains))


# The response picture's frame: a square plot with its axes (geometry in SVG units).
@dataclass(frozen=True)
class Plot:
    left: int = 64  # room for the fy ticks ("−0.25") and the axis title
    top: int = 10
    side: int = 180
    width: int = 254
    height: int = 240

    def at(self, f: float, size: int) -> float:
        """Where frequency f (cycles/pixel) falls along an axis of the plot. Pixel j of the grid
        is centred on (j − size/2) / size: the picture spans −(0.5 + 0.5/size) to 0.5 − 0.5/size."""
        return (f + 0.5 + 0.5 / size) * self.side


PLOT = Plot()


@dataclass(frozen=True)
class ProfilePlot:
    """The chart of the gains along the two axes, from 0 to 0.5 cycles/pixel."""

    left: int = 52
    top: int = 10
    plot_w: int = 192
    plot_h: int = 110
    width: int = 254
    height: int = 196

    def x(self, f: float) -> float:
        return self.left + f / 0.5 * self.plot_w

    def y(self, gain: float, top: float) -> float:
        return self.top + (1 - gain / top) * self.plot_h

    def points(self, gains: list[float], top: float) -> str:
        step = 0.5 / (len(gains) - 1)
        return " ".join(f"{self.x(i * step):.1f},{self.y(g, top):.1f}" for i, g in enumerate(gains))


PROFILE = ProfilePlot()
TICKS = (-0.5, -0.25, 0.0, 0.25, 0.5)


def frequency_context(fields: FilterFields, result: FilterResult) -> dict:
    """What templates/filters/_frequency.html needs."""
    return {
        "frequencies": kernel_frequencies(fields, result),
        "frequency_plot": PLOT,
        "frequency_ticks": TICKS,
        "frequency_profile": PROFILE,
        "half_power": frequency.HALF_POWER,
    }
