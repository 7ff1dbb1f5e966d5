"""The Pooling lab's "Backward" mode: where a pooling layer sends the output gradient dL/dy.

Max pooling passes each window's gradient whole to the cell that won the window (the others
get 0); average pooling spreads it evenly, dL/dy / k² to each of the window's k² cells (the
shares of padded cells fall outside the map and are lost). Overlapping windows (stride < size)
add up. The routing is written out here window by window, and compared with the engine's
MaxPool2D / AvgPool2D backward, the largest difference shown.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.labs.pooling.fields import PoolFields
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.png import diverging_rgb, symmetric_limit
from engine.layers import AvgPool2D, MaxPool2D

GRADIENTS = ("ones", "cell", "map")


@dataclass
class PoolBackward:
    dout: np.ndarray  # (H', W') dL/dy, the output gradient chosen
    input_grad: np.ndarray  # (H, W) dL/dinput, routed
    winners: np.ndarray | None  # (H', W', 2) each window's winner (row, col) in the map (max)
    cell: tuple[int, int] | None  # where the one-cell gradient is 1
    layer_diff: float  # max |routed − the engine layer's backward|

    @property
    def nbytes(self) -> int:
        return (
            self.dout.nbytes
            + self.input_grad.nbytes
            + (self.winners.nbytes if self.winners is not None else 0)
        )


def output_gradient(state: PoolFields, pooled: np.ndarray) -> tuple[np.ndarray, tuple | None]:
    """dL/dy for L = Σ y (all ones), L = y[row, col] (one cell), or L = ½·Σ y² (the map)."""
    if state.pool_grad == "ones":
        return np.ones(pooled.shape), None
    if state.pool_grad == "map":
        return pooled.astype(np.float64), None
    out_h, out_w = pooled.shape
    if state.row is not None and state.col is not None:
        cell = (min(state.row, out_h - 1), min(state.col, out_w - 1))
    else:
        cell = (out_h // 2, out_w // 2)  # nothing explained yet: the centre
    dout = np.zeros(pooled.shape)
    dout[cell] = 1.0
    return dout, cell


def window_winners(source: np.ndarray, out_shape, k: int, s: int, p: int) -> np.ndarray:
    """(H', W', 2): the (row, col) in the map of each window's largest value, the first one in
    reading order on a tie (padding never wins: it counts as −∞)."""
    height, width = source.shape
    padded = np.pad(source, p, constant_values=-np.inf)
    out_h, out_w = out_shape
    best = np.full(out_shape, -np.inf)
    where = np.zeros((*out_shape, 2), dtype=np.int64)
    for a in range(k):  # the k² offsets in reading order; only a strictly larger value moves
        for b in range(k):
            values = padded[a : a + s * (out_h - 1) + 1 : s, b : b + s * (out_w - 1) + 1 : s]
            larger = values > best
            best[larger] = values[larger]
            where[larger] = (a, b)
    rows = np.arange(out_h)[:, None] * s - p + where[..., 0]
    cols = np.arange(out_w)[None, :] * s - p + where[..., 1]
    return np.stack([rows, cols], axis=-1)


def route(source: np.ndarray, dout: np.ndarray, state: PoolFields):
    """dL/dinput (H, W), and the winners for max pooling: each window's gradient to its winner,
    or dL/dy / k² to each of its cells inside the map."""
    k, s, p = state.pool_size, state.effective_stride, state.pool_pad
    height, width = source.shape
    grad = np.zeros((height, width))
    if state.ptype == "max":
        winners = window_winners(source, dout.shape, k, s, p)
        np.add.at(grad, (winners[..., 0], winners[..., 1]), dout)  # overlaps add up
        return grad, winners
    out_h, out_w = dout.shape
    padded = np.zeros((height + 2 * p, width + 2 * p))
    for a in range(k):
        for b in range(k):
            padded[a : a + s * (out_h - 1) + 1 : s, b : b + s * (out_w - 1) + 1 : s] += dout / k**2
    return padded[p : p + height, p : p + width].copy(), None


def layer_gradient(source: np.ndarray, dout: np.ndarray, state: PoolFields) -> np.ndarray:
    """The engine's pooling layer: forward on the map, then backward with dL/dy."""
    kind = MaxPool2D if state.ptype == "max" else AvgPool2D
    layer = kind(state.pool_size, state.effective_stride, state.pool_pad)
    layer.forward(source[None, None], training=True)
    return layer.backward(dout[None, None])[0, 0]


def compute(state: PoolFields, source: np.ndarray, pooled: np.ndarray) -> PoolBackward:
    dout, cell = output_gradient(state, pooled)
    grad, winners = route(source, dout, state)
    diff = float(np.abs(grad - layer_gradient(source, dout, state)).max())
    return PoolBackward(dout, grad, winners, cell, diff)


def cached(state: PoolFields, result, media) -> PoolBackward:
    cell = (state.row, state.col) if state.pool_grad == "cell" else None
    key = f"pool-backward:{state.query(prow=None, pcol=None)}:{cell}"
    return media.results.get_or_compute(
        key, lambda: compute(state, result.source_map, result.pooled)
    )


@dataclass(frozen=True)
class WindowGradient:
    """The explained window's share of the backward pass."""

    dout: float  # dL/dy at the window's output cell
    sent: np.ndarray  # (k, k) what this window sends to each of its cells; NaN on padding
    total: np.ndarray  # (k, k) dL/dinput there, from every window; NaN on padding
    winner: tuple[int, int] | None  # (row, col) in the map (max pooling)

    @property
    def on_padding(self) -> bool:
        return bool(np.isnan(self.sent).any())


def window_gradient(state: PoolFields, back: PoolBackward, rows, cols) -> WindowGradient:
    """For the explained cell (state.row, state.col) whose window covers `rows` × `cols`."""
    height, width = back.input_grad.shape
    k = state.pool_size
    g = float(back.dout[state.row, state.col])
    inside = ((rows >= 0) & (rows < height))[:, None] & ((cols >= 0) & (cols < width))[None, :]
    sent = np.where(inside, 0.0, np.nan)
    winner = None
    if back.winners is not None:
        winner = tuple(int(v) for v in back.winners[state.row, state.col])
        sent[winner[0] - rows[0], winner[1] - cols[0]] = g
    else:
        sent[inside] = g / k**2
    total = np.full((k, k), np.nan)
    r, c = np.meshgrid(np.clip(rows, 0, height - 1), np.clip(cols, 0, width - 1), indexing="ij")
    total[inside] = back.input_grad[r[inside], c[inside]]
    return WindowGradient(g, sent, total, winner)


def context(state: PoolFields, result, media, explanation) -> dict | None:
    if state.pool_grad == "off":
        return None
    back = cached(state, result, media)
    window = None
    if explanation is not None:
        window = window_gradient(state, back, explanation.rows, explanation.cols)
    return {
        "back": back,
        "window": window,
        "input_limit": symmetric_limit(back.input_grad),
        "dout_limit": symmetric_limit(back.dout),
        "receivers": int(np.count_nonzero(back.input_grad)),
    }


def image_pixels(state: PoolFields, result, media, view: str) -> np.ndarray:
    """dL/dy ("grad-out") or the routed dL/dinput ("grad-input"), diverging around zero."""
    if state.pool_grad == "off":
        raise UserError(N_("Choose an output gradient to see the backward pass."))
    back = cached(state, result, media)
    values = back.dout if view == "grad-out" else back.input_grad
    return diverging_rgb(values, symmetric_limit(values))
