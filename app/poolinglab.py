"""The Pooling lab's state (query string), computation and the numbers it shows.

Its own parameters carry a `p` prefix (ptype, psize, pstride, ppad, prow, pcol) or are the shift
(dx, dy), so that a Filters-lab query can ride along unchanged when the input is a feature map
carried over from there (`from=filters`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app import filterlab
from app.errors import UserError
from app.forms import parse_choice, parse_int
from app.i18n import N_
from app.samples import SAMPLES
from app.sources import parse_source
from app.uploads import LRUBytesCache
from engine import edgenet
from engine.conv import conv2d
from engine.pool import avg_pool2d, max_pool2d, pool_output_size

RESOLUTIONS = (16, 32, 64, 128, 256)
POOL_TYPES = ("max", "avg")
MAX_POOL = 16
MAX_SHIFT = 16
INVARIANCE_SIZE = 256  # the translation experiment always runs on a 256-pixel image


@dataclass
class PoolState:
    source_kind: str = "image"  # "image" or "filters"
    sample: str | None = "camera"
    upload: str | None = None
    res: int = 64
    ptype: str = "max"
    size: int = 2
    stride: int | None = None  # None: the pool size, as PyTorch's default
    pad: int = 0
    row: int | None = None
    col: int | None = None
    dx: int = 4
    dy: int = 0
    filters: filterlab.FilterState | None = None  # when the input is a Filters-lab map

    @property
    def effective_stride(self) -> int:
        return self.size if self.stride is None else self.stride

    def own_items(self) -> list[tuple[str, str]]:
        items = [("ptype", self.ptype), ("psize", str(self.size))]
        if self.stride is not None:
            items.append(("pstride", str(self.stride)))
        items += [("ppad", str(self.pad)), ("dx", str(self.dx)), ("dy", str(self.dy))]
        if self.row is not None and self.col is not None:
            items += [("prow", str(self.row)), ("pcol", str(self.col))]
        return items

    def query(self, cell: bool = True) -> str:
        if self.filters is not None:
            head = [("from", "filters")]
            filters_query = self.filters.query(row=None, col=None)
        else:
            head = [("upload", self.upload)] if self.upload else [("sample", self.sample or "")]
            head.append(("pres", str(self.res)))
            filters_query = ""
        own = [(k, v) for k, v in self.own_items() if cell or k not in ("prow", "pcol")]
        text = urlencode(head + own)
        return f"{text}&{filters_query}" if filters_query else text

    def source_key(self) -> str:
        return self.filters.compute_key() if self.filters else f"{self.upload or self.sample}"


def parse_state(params) -> PoolState:
    state = PoolState()
    source = (params.get("source") or "").strip()
    if source == "filters" or (params.get("from") == "filters" and not source):
        state.source_kind = "filters"
        state.filters = filterlab.parse_state(params)
        state.sample, state.upload = state.filters.sample, state.filters.upload
    else:
        state.sample, state.upload = parse_source(params, "camera")
        state.res = parse_int(params.get("pres"), N_("Working size"), 64, 8, 256)
        state.res = min(RESOLUTIONS, key=lambda r: abs(r - state.res))
    state.ptype = parse_choice(params.get("ptype"), N_("Pooling"), POOL_TYPES, "max")
    state.size = parse_int(params.get("psize"), N_("Pool size"), 2, 1, MAX_POOL)
    if (params.get("pstride") or "").strip():
        state.stride = parse_int(params.get("pstride"), N_("Pool stride"), 2, 1, MAX_POOL)
    state.pad = parse_int(params.get("ppad"), N_("Pool padding"), 0, 0, MAX_POOL)
    if 2 * state.pad > state.size:
        raise UserError(
            N_(
                "Pool padding (%(pad)s) can be at most half the pool size (%(size)s): more would "
                "make windows that hold only padding."
            ),
            pad=state.pad,
            size=state.size,
        )
    state.dx = parse_int(params.get("dx"), N_("Shift right (dx)"), 4, -MAX_SHIFT, MAX_SHIFT)
    state.dy = parse_int(params.get("dy"), N_("Shift down (dy)"), 0, -MAX_SHIFT, MAX_SHIFT)
    if (params.get("prow") or "").strip() and (params.get("pcol") or "").strip():
        state.row = parse_int(params.get("prow"), N_("Row"), 0, 0, 100_000)
        state.col = parse_int(params.get("pcol"), N_("Column"), 0, 0, 100_000)
    return state


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


def input_map(state: PoolState, uploads, results, samples_dir) -> tuple[np.ndarray, str]:
    """The 2-D map to pool: a grey picture at the working size, or a Filters-lab feature map."""
    if state.filters is not None:
        filters_result = filterlab.compute(state.filters, uploads, results, samples_dir)
        index = min(state.filters.map_index, len(filters_result.maps) - 1)
        name = state.filters.filters[index]
        title = filterlab.KERNELS[name].title if name != "custom" else N_("Custom kernel")
        return filters_result.maps[index].astype(np.float64), title
    source = filterlab.load_source(state, uploads, samples_dir)
    pixels = filterlab.resize_to(source, state.res)
    return filterlab.grey(pixels).astype(np.float64), SAMPLES[state.sample].title if (
        state.sample
    ) else N_("Your upload")


def check_window(state: PoolState, shape: tuple[int, int]) -> None:
    for n in shape:
        if state.size > n + 2 * state.pad:
            raise UserError(
                N_(
                    "The %(size)s×%(size)s pool window is larger than the padded input "
                    "(%(padded)s pixels). Use a smaller pool or a larger working size."
                ),
                size=state.size,
                padded=n + 2 * state.pad,
            )


def compute(state: PoolState, uploads: LRUBytesCache, results: LRUBytesCache, samples_dir):
    key = "pool:" + hashlib.sha256(state.query(cell=False).encode()).hexdigest()
    cached = results.get(key)
    if cached is not None:
        return cached
    source_map, title = input_map(state, uploads, results, samples_dir)
    check_window(state, source_map.shape)
    x = source_map[None, None]
    k, s, p = state.size, state.effective_stride, state.pad
    winners = win_counts = None
    if state.ptype == "max":
        pooled, indices = max_pool2d(x, k, s, p, return_indices=True)
        winners = indices[0, 0]
        win_counts = np.bincount(winners.ravel(), minlength=source_map.size).reshape(
            source_map.shape
        )
    else:
        pooled = avg_pool2d(x, k, s, p)
    result = PoolResult(source_map, pooled[0, 0], winners, win_counts, title)
    results.put(key, result, result.nbytes)
    return result


@dataclass(frozen=True)
class WindowExplanation:
    values: np.ndarray  # (k, k) input values, NaN where the window lies on padding
    rows: np.ndarray
    cols: np.ndarray
    winner: tuple[int, int] | None  # position inside the window (max pooling)
    value: float


def explain_cell(state: PoolState, result: PoolResult) -> WindowExplanation | None:
    if state.row is None or state.col is None:
        return None
    out_h, out_w = result.pooled.shape
    state.row, state.col = min(state.row, out_h - 1), min(state.col, out_w - 1)
    k, s, p = state.size, state.effective_stride, state.pad
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


def shrink_comparison(result: PoolResult, near: tuple[int, int] | None) -> ShrinkComparison:
    """Three ways to halve a map: a stride-2 convolution with the identity kernel (keeps the
    top-left pixel of each 2×2 block), a stride-2 convolution with a 2×2 averaging kernel (= average
    pooling) and 2×2 max pooling (keeps the strongest)."""
    x = result.source_map[None, None]
    identity = np.zeros((1, 1, 2, 2))
    identity[0, 0, 0, 0] = 1.0
    average = np.full((1, 1, 2, 2), 0.25)
    maps = {
        "subsample": conv2d(x, identity, stride=2)[0, 0],
        "conv_avg": conv2d(x, average, stride=2)[0, 0],
        "max": max_pool2d(x, 2)[0, 0],
    }
    height, width = result.source_map.shape
    if near is None:
        # Where the map varies most: the block that shows the difference best.
        grid = result.source_map[: height // 4 * 4, : width // 4 * 4]
        spread = grid.reshape(height // 4, 4, width // 4, 4).std(axis=(1, 3))
        bi, bj = np.unravel_index(int(spread.argmax()), spread.shape)
        top = (int(bi) * 4, int(bj) * 4)
    else:
        top = (min(near[0] // 4 * 4, height - 4), min(near[1] // 4 * 4, width - 4))
    block = result.source_map[top[0] : top[0] + 4, top[1] : top[1] + 4]
    example_out = {
        "subsample": block[::2, ::2],
        "conv_avg": block.reshape(2, 2, 2, 2).mean(axis=(1, 3)),
        "max": block.reshape(2, 2, 2, 2).max(axis=(1, 3)),
    }
    return ShrinkComparison(maps, block, example_out, top)


def invariance(state: PoolState, uploads, results, samples_dir):
    """The curve for shifts along the direction of (dx, dy), and the features at (dx, dy)."""
    steps = max(abs(state.dx), abs(state.dy))
    direction = (state.dx / steps, state.dy / steps) if steps else (1.0, 0.0)
    key = f"inv:{state.source_key()}:{direction}"
    cached = results.get(key)
    if cached is None:
        source = filterlab.load_source(state, uploads, samples_dir)
        image = filterlab.grey(filterlab.resize_to(source, INVARIANCE_SIZE)) / 255.0
        shifts, scores = edgenet.invariance_curve(image.astype(np.float32), direction, MAX_SHIFT)
        cached = (image, shifts, scores)
        results.put(key, cached, image.nbytes + 1024)
    image, shifts, scores = cached
    current = {depth: float(values[steps]) for depth, values in scores.items()}
    return image, shifts, scores, current, steps


def stage_maps(state: PoolState, image: np.ndarray, results) -> dict[str, np.ndarray]:
    """Features of the unshifted and shifted image at each depth, for thumbnails (cached: the
    page asks for six of them at once)."""
    key = f"stages:{state.source_key()}:{state.dx}:{state.dy}"
    cached = results.get(key)
    if cached is None:
        shifted = edgenet.shift_image(image, state.dx, state.dy)
        cached = edgenet.stages(np.stack([image, shifted])[:, None].astype(np.float32))
        results.put(key, cached, sum(v.nbytes for v in cached.values()))
    return cached


def output_formula(state: PoolState, n: int) -> tuple[int, int, int, int, int]:
    k, s, p = state.size, state.effective_stride, state.pad
    return n, p, k, s, pool_output_size(n, k, s, p)
