"""What the Pooling lab computes and shows: the pooled map with its winners, the explained window,
three ways to halve a map, and the translation experiment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.config import LIMITS
from app.labs.pooling import backward
from app.labs.pooling.fields import RESOLUTIONS, PoolFields
from app.labs.pooling.slide import lab_strip
from app.media import filterbank
from app.media.images import grey, resize_to
from app.media.samples import SAMPLES
from app.web.charts import Series, line_chart
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import Numbers
from engine import edgenet
from engine.conv import conv2d
from engine.pool import avg_pool2d, max_pool2d, pool_output_size

INVARIANCE_SIZE = 256  # the translation experiment always runs on a 256-pixel image
INVARIANCE_MIN = 4  # two 2×2 pooling stages leave nothing of a thinner picture
DEPTH_TITLES = {
    "conv1": N_("conv map (layer 1)"),
    "pool1": N_("after conv → ReLU → pool"),
    "pool2": N_("after two conv → ReLU → pool stages"),
}
OUT_OF_VIEW = N_(
    "A shift this large moves the whole picture out of view: at the experiment's size, shifts "
    "along this direction go up to %(reach)s pixels."
)
SHRINK_TITLES = {
    "subsample": N_("stride-2 convolution, identity kernel"),
    "conv_avg": N_("stride-2 convolution, 2×2 average kernel"),
    "max": N_("2×2 max pooling"),
}


@dataclass
class PoolResult:
    source_map: np.ndarray  # (H, W) the map that is pooled
    pooled: np.ndarray  # (H', W')
    winners: np.ndarray | None  # (H', W') flat index of each window's winner (max pooling)
    win_counts: np.ndarray | None  # (H, W) how many windows each input cell won
    source_title: str  # msgid or filter title, for the caption

    @property
    def nbytes(self) -> int:
        return self.source_map.nbytes * 3 + self.pooled.nbytes * 2


def input_map(state: PoolFields, media) -> tuple[np.ndarray, str]:
    """The 2-D map to pool: a grey picture at the working size, or a Filters-lab feature map."""
    if state.from_filters:
        filters_result = filterbank.compute(state, media)
        index = min(state.map_index, len(filters_result.maps) - 1)
        title = filterbank.kernel_title(state.filters[index])
        return filters_result.maps[index].astype(np.float64), title
    pixels = resize_to(state.picture(media), state.pool_res)
    title = SAMPLES[state.sample].title if state.sample else N_("Your picture")
    return grey(pixels).astype(np.float64), title


def check_window(state: PoolFields, shape: tuple[int, int]) -> None:
    for n in shape:
        if state.pool_size > n + 2 * state.pool_pad:
            raise UserError(
                N_(
                    "The %(size)s×%(size)s pool window is larger than the padded input "
                    "(%(padded)s pixels). Use a smaller pool or a larger working size."
                ),
                size=state.pool_size,
                padded=n + 2 * state.pool_pad,
            )


def compute(state: PoolFields, media) -> PoolResult:
    key = "pool:" + state.query(prow=None, pcol=None)
    return media.results.get_or_compute(key, lambda: _pool(state, media))


def _pool(state: PoolFields, media) -> PoolResult:
    source_map, title = input_map(state, media)
    check_window(state, source_map.shape)
    x = source_map[None, None]
    k, s, p = state.pool_size, state.effective_stride, state.pool_pad
    winners = win_counts = None
    if state.ptype == "max":
        pooled, indices = max_pool2d(x, k, s, p, return_indices=True)
        winners = indices[0, 0]
        win_counts = np.bincount(winners.ravel(), minlength=source_map.size).reshape(
            source_map.shape
        )
    else:
        pooled = avg_pool2d(x, k, s, p)
    return PoolResult(source_map, pooled[0, 0], winners, win_counts, title)


@dataclass(frozen=True)
class WindowExplanation:
    values: np.ndarray  # (k, k) input values, NaN where the window lies on padding
    rows: np.ndarray
    cols: np.ndarray
    winner: tuple[int, int] | None  # position inside the window (max pooling)
    value: float


def explain_cell(state: PoolFields, result: PoolResult) -> WindowExplanation | None:
    if state.row is None or state.col is None:
        return None
    out_h, out_w = result.pooled.shape
    state.row, state.col = min(state.row, out_h - 1), min(state.col, out_w - 1)
    k, s, p = state.pool_size, state.effective_stride, state.pool_pad
    rows = state.row * s - p + np.arange(k)
    cols = state.col * s - p + np.arange(k)
    height, width = result.source_map.shape
    inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None, :]
    values = np.full((k, k), np.nan)
    values[inside] = result.source_map[
        np.clip(rows, 0, height - 1)[:, None].repeat(k, 1)[inside],
        np.clip(cols, 0, width - 1)[None, :].repeat(k, 0)[inside],
    ]
    winner = None
    if result.winners is not None:
        flat = int(result.winners[state.row, state.col])
        winner = (flat // width - rows[0], flat % width - cols[0])
    return WindowExplanation(values, rows, cols, winner, float(result.pooled[state.row, state.col]))


@dataclass(frozen=True)
class ShrinkComparison:
    maps: dict[str, np.ndarray]  # method -> (H/2, W/2)
    example: np.ndarray  # (4, 4) block of the input
    example_out: dict[str, np.ndarray]  # method -> (2, 2)
    top: tuple[int, int]  # where the example block starts


SHRINK_METHODS = ("subsample", "conv_avg", "max")


SHRINK_MIN = 4  # the example is one 4×4 block of the map


def shrink_comparison(result: PoolResult, near: tuple[int, int] | None) -> ShrinkComparison | None:
    """Three ways to halve a map: a stride-2 convolution with the identity kernel (keeps the
    top-left pixel of each 2×2 block), a stride-2 convolution with a 2×2 averaging kernel (= average
    pooling) and 2×2 max pooling (keeps the strongest). None for a map thinner than one block."""
    height, width = result.source_map.shape
    if min(height, width) < SHRINK_MIN:
        return None
    x = result.source_map[None, None]
    identity = np.zeros((1, 1, 2, 2))
    identity[0, 0, 0, 0] = 1.0
    average = np.full((1, 1, 2, 2), 0.25)
    maps = {
        "subsample": conv2d(x, identity, stride=2)[0, 0],
        "conv_avg": conv2d(x, average, stride=2)[0, 0],
        "max": max_pool2d(x, 2)[0, 0],
    }
    if near is None:
        # Where the map varies most: the block that shows the difference best.
        grid = result.source_map[: height // 4 * 4, : width // 4 * 4]
        spread = grid.reshape(height // 4, 4, width // 4, 4).std(axis=(1, 3))
        bi, bj = np.unravel_index(int(spread.argmax()), spread.shape)
        top = (int(bi) * 4, int(bj) * 4)
    else:
        # The explained window may start on padding, above or left of the map.
        top = (min(max(near[0], 0) // 4 * 4, height - 4), min(max(near[1], 0) // 4 * 4, width - 4))
    block = result.source_map[top[0] : top[0] + 4, top[1] : top[1] + 4]
    example_out = {
        "subsample": block[::2, ::2],
        "conv_avg": block.reshape(2, 2, 2, 2).mean(axis=(1, 3)),
        "max": block.reshape(2, 2, 2, 2).max(axis=(1, 3)),
    }
    return ShrinkComparison(maps, block, example_out, top)


@dataclass(frozen=True)
class Invariance:
    image: np.ndarray  # (H, W) in 0..1, the long side INVARIANCE_SIZE
    shifts: np.ndarray  # (T,) 0..reach
    scores: dict[str, np.ndarray]  # depth -> (T,) similarity to the unshifted features
    steps: int  # how far along the direction the chosen (dx, dy) goes
    reach: int  # the largest shift that leaves some of the picture in view

    @property
    def current(self) -> dict[str, float] | None:
        """Similarity at the chosen shift; None when that moves the whole picture out."""
        if self.steps > self.reach:
            return None
        return {depth: float(values[self.steps]) for depth, values in self.scores.items()}


def experiment_image(picture) -> np.ndarray:
    """Grey, 0..1, long side INVARIANCE_SIZE: large pictures are scaled down, small ones (an icon)
    enlarged by a whole factor, each pixel a block, so every picture gets the same experiment."""
    pixels = grey(resize_to(picture, INVARIANCE_SIZE))
    factor = INVARIANCE_SIZE // max(pixels.shape)
    if factor > 1:
        pixels = pixels.repeat(factor, axis=0).repeat(factor, axis=1)
    return (pixels / 255.0).astype(np.float32)


def invariance(state: PoolFields, media) -> Invariance | None:
    """The curve for shifts along the direction of (dx, dy), and the features at (dx, dy). None
    for a picture too thin for two pooling stages."""
    steps = max(abs(state.dx), abs(state.dy))
    direction = (state.dx / steps, state.dy / steps) if steps else (1.0, 0.0)

    def curve():
        image = experiment_image(state.picture(media))
        if min(image.shape) < INVARIANCE_MIN:
            return image, None, None, 0
        reach = edgenet.largest_shift(image.shape, direction, LIMITS.max_shift)
        return image, *edgenet.invariance_curve(image, direction, reach), reach

    image, shifts, scores, reach = media.results.get_or_compute(
        f"inv:{state.source_key()}:{direction}", curve, nbytes=lambda c: c[0].nbytes + 1024
    )
    return None if shifts is None else Invariance(image, shifts, scores, steps, reach)


def stage_maps(state: PoolFields, image: np.ndarray, results) -> dict[str, np.ndarray]:
    """For the thumbnails, per depth: (2, H, W) the rectified responses of all channels summed,
    unshifted and shifted. Cached (the page asks for six at once), as the sums: a seventh of
    the features' bytes."""

    def features():
        height, width = image.shape
        in_view = abs(state.dx) < width and abs(state.dy) < height
        # A shift past the picture leaves nothing: its thumbnails are not shown (the note says
        # why), but the unshifted ones are.
        shifted = edgenet.shift_image(image, state.dx, state.dy) if in_view else 0 * image
        maps = edgenet.stages(np.stack([image, shifted])[:, None].astype(np.float32))
        return {depth: np.maximum(maps[depth], 0).sum(axis=1) for depth in edgenet.DEPTHS}

    return results.get_or_compute(
        f"stages:{state.source_key()}:{state.dx}:{state.dy}", features,
        nbytes=lambda maps: sum(v.nbytes for v in maps.values()),
    )  # fmt: skip


def output_formula(state: PoolFields, n: int) -> tuple[int, int, int, int, int]:
    k, s, p = state.pool_size, state.effective_stride, state.pool_pad
    return n, p, k, s, pool_output_size(n, k, s, p)


def page_context() -> dict:
    return {
        "samples": SAMPLES, "resolutions": RESOLUTIONS, "shrink_methods": SHRINK_METHODS,
        "depth_titles": DEPTH_TITLES, "shrink_titles": SHRINK_TITLES,
        "layer1": edgenet.LAYER1, "layer2": edgenet.LAYER2,
    }  # fmt: skip


def lab_context(state: PoolFields, media, gettext, numbers: Numbers) -> dict:
    result = compute(state, media)
    explanation = explain_cell(state, result)
    backward_view = backward.context(state, result, media, explanation)
    near = (explanation.rows[0], explanation.cols[0]) if explanation else None
    shrink = shrink_comparison(result, near)
    experiment = invariance(state, media)
    chart = None
    if experiment is not None:
        chart = line_chart(
            [Series(gettext(DEPTH_TITLES[d]), experiment.shifts.tolist(), values.tolist())
             for d, values in experiment.scores.items()],
            x_label=gettext("shift along the chosen direction (pixels)"),
            y_label=gettext("cosine similarity"),
            title=gettext("Similarity of features, shifted vs unshifted"),
            y_range=(0.0, 1.0),
            marker_x=experiment.steps if experiment.current is not None else None,
            marker_label=gettext("now"),
            numbers=numbers,
        )  # fmt: skip
    height, width = result.source_map.shape
    return {
        **page_context(),
        "state": state,
        "result": result,
        "explanation": explanation,
        "slide": lab_strip(state, result),  # explain_cell has clamped the cell
        "shrink": shrink,
        "chart": chart,
        "experiment": experiment,
        "experiment_min": INVARIANCE_MIN,
        "shrink_min": SHRINK_MIN,
        "formulas": [
            (N_("height"), *output_formula(state, height)),
            (N_("width"), *output_formula(state, width)),
        ],
        "upload": media.uploads.get(state.upload) if state.upload else None,
        "filters_fields": state.filters_items() if state.from_filters else [],
        "error": None,
        "backward": backward_view,
    }


def error_context(request, error, messages: list[str]) -> dict:
    """The page again with what the user sent and the message, no results."""
    return {**page_context(), "state": None, "raw": request.query_params, "result": None,
            "error": messages, "filters_fields": [], "upload": None}  # fmt: skip
