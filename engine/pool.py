"""Pooling over 1-D and 2-D feature maps, with the gradients the training engine needs.

Layouts are PyTorch's: x (N, C, L) or (N, C, H, W). The results equal
torch.nn.functional.{max,avg}_pool{1,2}d with the same kernel_size, stride and padding
(ceil_mode=False): max pooling pads with −inf, average pooling counts padded cells
(count_include_pad=True), and padding may be at most half the kernel.

    max_pool2d(x, 2)                      -> (N, C, H//2, W//2)
    max_pool2d(x, 2, return_indices=True) -> (out, indices), indices into each H×W plane
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from engine.layout import batch_first_view, batch_last_view

MAX_WINDOW = 4096


def _tuple(value, what: str, nd: int, minimum: int) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, tuple | list) else (value,) * nd
    if len(values) != nd:
        raise ValueError(f"{what} needs {nd} value(s), one per axis (got {len(values)}).")
    checked = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise ValueError(f"{what} must be a whole number (got {v!r}).")
        if not minimum <= int(v) <= MAX_WINDOW:
            raise ValueError(f"{what} must be between {minimum} and {MAX_WINDOW} (got {v}).")
        checked.append(int(v))
    return tuple(checked)


def pool_output_size(n: int, k: int, stride: int | None = None, padding: int = 0) -> int:
    """floor((n + 2p − k) / s) + 1, the size PyTorch's pooling produces along one axis."""
    s = k if stride is None else stride
    return (n + 2 * padding - k) // s + 1


def _setup(x, kernel_size, stride, padding, nd: int, name: str):
    x = np.asarray(x)
    if x.ndim != nd + 2:
        layout = "(N, C, L)" if nd == 1 else "(N, C, H, W)"
        raise ValueError(f"{name} expects x shaped {layout}, got {x.ndim} dimensions.")
    k = _tuple(kernel_size, "Pool size", nd, 1)
    s = k if stride is None else _tuple(stride, "Pool stride", nd, 1)
    p = _tuple(padding, "Pool padding", nd, 0)
    sizes = x.shape[2:]
    for axis, (n, kk, pp) in enumerate(zip(sizes, k, p, strict=True)):
        if 2 * pp > kk:
            raise ValueError(
                f"Pool padding ({pp}) can be at most half the pool size ({kk}): "
                "more would make windows that hold only padding."
            )
        if kk > n + 2 * pp:
            raise ValueError(
                f"The pool window ({kk}) is larger than the padded input ({n + 2 * pp}) "
                f"along axis {axis + 1}."
            )
    return x, k, s, p


def _offset_slices(x, k, s, p, fill: float):
    """Yield (offset, view) for each position inside the window: view[..., i, j] is the cell at
    that offset in output window (i, j). K×K strided views, no copies beyond the padding.

    Looping over the K×K offsets (few) instead of the output positions (many) keeps every
    reduction a whole-array NumPy operation.
    """
    if any(p):
        x = np.pad(x, [(0, 0), (0, 0), *[(pp, pp) for pp in p]], constant_values=fill)
    out = [(n - kk) // ss + 1 for n, kk, ss in zip(x.shape[2:], k, s, strict=True)]
    for offset in np.ndindex(*k):
        index = (slice(None), slice(None)) + tuple(
            slice(o, o + s[a] * (out[a] - 1) + 1, s[a]) for a, o in enumerate(offset)
        )
        yield offset, x[index]


def _float(x):
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _max_pool_2x2(x):
    """2×2 windows at stride 2 without padding (nearly every CNN's pool), with the indices,
    from the winners' masks (max_pool_2x2_winners): 2.6× faster than the masked copies of the
    general path. None when a NaN is in play (the general path lets it win its window)."""
    found = max_pool_2x2_winners(x)
    if found is None:
        return None
    best, (right_top, right_bottom, bottom) = found
    h, w = x.shape[2:]
    column = np.where(bottom, right_bottom, right_top)  # the winning row's right cell won
    rows = np.arange(0, 2 * (h // 2), 2).reshape(-1, 1) + bottom  # (oh, 1) + (N, C, oh, ow)
    columns = np.arange(0, 2 * (w // 2), 2) + column
    return best, rows * w + columns  # flat positions in each H×W plane, int64


class Winners2x2(NamedTuple):
    """Which cell won each 2×2 window, as max_pool_2x2_winners found it: three masks of the
    output's shape (N, C, H', W') instead of int64 positions (a quarter of the bytes and no
    index arithmetic; a layer's backward needs nothing else)."""

    right_top: np.ndarray  # the top row's right cell beat its left one
    right_bottom: np.ndarray  # the same in the bottom row
    bottom: np.ndarray  # the bottom row's larger cell beat the top row's


def max_pool_2x2_winners(x) -> tuple[np.ndarray, Winners2x2] | None:
    """Max pooling with 2×2 windows at stride 2, no padding (a layer's forward, and the
    indices of _max_pool_2x2): the pooled map and which cell won each window (the first
    maximum in row-major order, as PyTorch's indices), from six whole-array passes over strided
    views of the four cells. The results keep x's memory order (batch-last stays batch-last).
    None when a NaN is in play (the general path lets it win its window)."""
    n, c, h, w = x.shape
    oh, ow = h // 2, w // 2
    cells = x[:, :, : 2 * oh, : 2 * ow].reshape(n, c, oh, 2, ow, 2)
    top_left, top_right = cells[:, :, :, 0, :, 0], cells[:, :, :, 0, :, 1]
    bottom_left, bottom_right = cells[:, :, :, 1, :, 0], cells[:, :, :, 1, :, 1]
    top = np.maximum(top_left, top_right)
    bottom = np.maximum(bottom_left, bottom_right)
    best = np.maximum(top, bottom)
    if np.isnan(best).any():
        return None
    winners = Winners2x2(top_right > top_left, bottom_right > bottom_left, bottom > top)
    return best, winners


def max_pool_2x2_backward(dout, winners: Winners2x2, input_shape, batch_last: bool):
    """dL/dx of max_pool_2x2_winners: each output gradient goes to its window's winner, every
    other cell (and an odd last row or column) gets 0. With batch_last, dx is laid out
    (C, H, W, N) in memory, as the Conv layer before it wants it."""
    n, c, h, w = input_shape
    oh, ow = dout.shape[2:]
    dtype = np.result_type(dout.dtype, np.float32)
    if batch_last:  # all in memory order, (C, H', W', N): NumPy walks masked copies as given
        memory = np.zeros((c, h, w, n), dtype=dtype)
        cells = memory[:, : 2 * oh, : 2 * ow].reshape(c, oh, 2, ow, 2, n)
        cell = lambda r, col: cells[:, :, r, :, col]  # noqa: E731
        dout, masks = batch_last_view(dout), [batch_last_view(m) for m in winners]
        dx = batch_first_view(memory)
    else:
        dx = np.zeros(input_shape, dtype=dtype)
        cells = dx[:, :, : 2 * oh, : 2 * ow].reshape(n, c, oh, 2, ow, 2)
        cell = lambda r, col: cells[:, :, :, r, :, col]  # noqa: E731
        masks = list(winners)
    right_top, right_bottom, bottom = masks
    if not np.isfinite(dout).all():  # ∞ · 0 would be NaN: masked copies keep the others 0
        rows = ((np.where(bottom, 0, dout), right_top), (np.where(bottom, dout, 0), right_bottom))
        for r, (grad, right) in enumerate(rows):
            np.copyto(cell(r, 1), grad, where=right)
            np.copyto(cell(r, 0), grad, where=~right)
        return dx
    # Products with the masks and differences, exact for finite numbers (g · 1 = g, g − g = 0):
    # 10× faster than np.where or masked copies, which branch on every element.
    grad_bottom = np.multiply(dout, bottom)
    grad_top = np.subtract(dout, grad_bottom)
    for r, (grad, right) in enumerate(((grad_top, right_top), (grad_bottom, right_bottom))):
        np.multiply(grad, right, out=cell(r, 1))
        np.subtract(grad, cell(r, 1), out=cell(r, 0))
    return dx


def _max_pool(x, kernel_size, stride, padding, return_indices, nd, name):
    x, k, s, p = _setup(x, kernel_size, stride, padding, nd, name)
    x = _float(x)
    if return_indices and nd == 2 and k == s == (2, 2) and p == (0, 0):
        fast = _max_pool_2x2(x)
        if fast is not None:
            return fast
    views = [view for _, view in _offset_slices(x, k, s, p, -np.inf)]
    best = views[0].copy()
    for view in views[1:]:
        np.maximum(best, view, out=best)  # NaN propagates, as in PyTorch
    if not return_indices:
        return best
    # Which offset won: walking from the last offset to the first leaves the first maximum, as
    # PyTorch keeps it; a NaN wins its window.
    which = np.zeros(best.shape, dtype=np.int16)
    for position in range(len(views) - 1, -1, -1):
        np.copyto(which, position, where=views[position] == best)
    if np.isnan(best).any():
        for position in range(len(views) - 1, -1, -1):
            np.copyto(which, position, where=np.isnan(views[position]))
    offsets = np.unravel_index(which, k)
    coords = []
    for axis in range(nd):
        start = np.arange(best.shape[2 + axis]) * s[axis] - p[axis]
        shape = [1] * (2 + nd)
        shape[2 + axis] = -1
        coords.append(start.reshape(shape) + offsets[axis])
    # Flat index into each input plane, as PyTorch's return_indices gives.
    indices = coords[0] if nd == 1 else coords[0] * x.shape[3] + coords[1]
    return best, indices.astype(np.int64)


def _avg_pool(x, kernel_size, stride, padding, nd, name):
    x, k, s, p = _setup(x, kernel_size, stride, padding, nd, name)
    x = _float(x)
    total = None
    for _, view in _offset_slices(x, k, s, p, 0.0):
        total = view.copy() if total is None else np.add(total, view, out=total)
    return total / np.prod(k)  # padded zeros count: count_include_pad


def max_pool1d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """x (N, C, L) -> (N, C, L'); with return_indices also the argmax index of each window."""
    return _max_pool(x, kernel_size, stride, padding, return_indices, 1, "max_pool1d")


def max_pool2d(x, kernel_size, stride=None, padding=0, return_indices=False):
    """x (N, C, H, W) -> (N, C, H', W'); indices are flat positions h·W + w in each plane."""
    return _max_pool(x, kernel_size, stride, padding, return_indices, 2, "max_pool2d")


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """x (N, C, L) -> (N, C, L'); padded cells count as zeros in the average."""
    return _avg_pool(x, kernel_size, stride, padding, 1, "avg_pool1d")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """x (N, C, H, W) -> (N, C, H', W'); padded cells count as zeros in the average."""
    return _avg_pool(x, kernel_size, stride, padding, 2, "avg_pool2d")


def global_max_pool(x, return_indices: bool = False):
    """(N, C, *spatial) -> (N, C): the strongest response of each map, wherever it was."""
    x = np.asarray(x)
    flat = x.reshape(*x.shape[:2], -1)
    if return_indices:
        return flat.max(axis=-1), flat.argmax(axis=-1)
    return flat.max(axis=-1)


def global_avg_pool(x):
    """(N, C, *spatial) -> (N, C): the mean response of each map."""
    x = np.asarray(x)
    return x.reshape(*x.shape[:2], -1).mean(axis=-1)


def max_pool_backward(
    dout, indices, input_shape, overlapping: bool = True, batch_last: bool = False
):
    """Route each output gradient to the input cell that won its window (summing over overlaps).

    dout, indices: (N, C, *out); input_shape: (N, C, *spatial) -> dx of input_shape. With
    ``overlapping=False`` (windows that share no cell: stride ≥ pool size) every cell wins at
    most one window, and the gradients are put in place rather than summed (1.5× faster);
    with ``batch_last`` too, dx is laid out (C, *spatial, N) in memory, as a Conv layer's
    output is (engine.conv_batch_last), so the Conv's backward needs no transpose.
    """
    n, c = input_shape[:2]
    plane = int(np.prod(input_shape[2:]))
    dtype = np.result_type(dout.dtype, np.float32)
    if not overlapping and batch_last:
        # (n, c, cell) sits at (c·plane + cell)·N + n
        base = (np.arange(c) * (plane * n)).reshape(1, c, *([1] * (dout.ndim - 2)))
        base = base + np.arange(n).reshape(n, *([1] * (dout.ndim - 1)))
        dx = np.zeros((c, *input_shape[2:], n), dtype=dtype)
        dx.reshape(-1)[indices * n + base] = dout
        return dx.transpose(dx.ndim - 1, *range(dx.ndim - 1))
    base = (np.arange(n * c) * plane).reshape(n, c, *([1] * (dout.ndim - 2)))
    flat = (indices + base).ravel()
    if not overlapping:
        dx = np.zeros(input_shape, dtype=dtype)
        dx.reshape(-1)[flat] = dout.ravel()
        return dx
    dx = np.bincount(flat, weights=dout.ravel().astype(np.float64), minlength=n * c * plane)
    return dx.reshape(input_shape).astype(dout.dtype, copy=False)


def avg_pool_backward(dout, input_shape, kernel_size, stride=None, padding=0):
    """Spread each output gradient evenly over its window (padded cells included, then cut off)."""
    nd = len(input_shape) - 2
    k = _tuple(kernel_size, "Pool size", nd, 1)
    s = k if stride is None else _tuple(stride, "Pool stride", nd, 1)
    p = _tuple(padding, "Pool padding", nd, 0)
    padded = [n + 2 * pp for n, pp in zip(input_shape[2:], p, strict=True)]
    dx = np.zeros((*input_shape[:2], *padded), dtype=np.result_type(dout.dtype, np.float32))
    share = dout / np.prod(k)
    out = dout.shape[2:]
    for offset in np.ndindex(*k):  # K or K×K small loops, each a strided slice add
        index = (slice(None), slice(None)) + tuple(
            slice(o, o + s[a] * (out[a] - 1) + 1, s[a]) for a, o in enumerate(offset)
        )
        dx[index] += share
    crop = (slice(None), slice(None)) + tuple(
        slice(pp, pp + n) for pp, n in zip(p, input_shape[2:], strict=True)
    )
    return dx[crop]
