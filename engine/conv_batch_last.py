"""Convolution as im2col with the batch axis last, for CNN layers (a batch of many-channel
samples), and the batch-last copies that a Conv layer's backward shares.

In (C, *padded, N) order every window row is a run of out_width·N contiguous values: the
im2col copy is long runs instead of out_width-long pieces, and the product is one big matrix
product instead of one per sample. engine.conv takes it when batch_last_suits says so.
"""

from __future__ import annotations

import math

import numpy as np

from engine import conv_fast as fast  # the module, so that its cost model can be patched
from engine.layout import batch_first_view
from engine.scratch import scratch
from engine.thin_matmul import thin_matmul

# The batch-last im2col pays two transposes to get long copies and one
# big matrix product. Measured on LeNet-sized layers at batch 64: 1.7x faster than batch-first
# with 6 or 16 input channels, 1.4x slower with one (its matrix is small, its output large).
_BATCH_LAST_MIN_CHANNELS = 4
_BATCH_LAST_MIN_SAMPLES = 8
_BATCH_LAST_MAX = 1 << 23  # elements of its im2col matrix (32 MB of float32), built whole
_TRANSPOSE_TILE = 128  # rows of a batch-last array turned batch-first at once


def batch_last_suits(p: fast.Plan, w, keep_batch_last: bool = False) -> bool:
    """Whether the batch-last im2col (im2col_batch_last) is the direct method for this call:
    a batch of many-channel samples with zero padding, whose im2col beats shift-and-add. A
    result that may stay batch-last (a Conv layer's) pays no transpose, so few channels do."""
    n, c = p.x.shape[:2]
    f, k_taps = w.shape[0], math.prod(w.shape[2:])
    out_pixels = math.prod(p.out_shape)
    if (
        p.mode != "zeros"
        or (c < _BATCH_LAST_MIN_CHANNELS and not keep_batch_last)
        or n < _BATCH_LAST_MIN_SAMPLES
        or n * c * k_taps * out_pixels > _BATCH_LAST_MAX
    ):
        return False
    blocks = max(1, n * f * out_pixels // fast._SHIFT_BLOCK)
    shift, im2col = fast._direct_costs(n, f, c, k_taps, fast._taps(w), out_pixels, blocks)
    return im2col < shift


def padded_batch_last(x: np.ndarray, pads, name: str = "conv.padded") -> np.ndarray:
    """x (N, C, *spatial) -> zero-padded (C, *padded, N), in one strided copy (a scratch array;
    without padding, x itself when its memory is already in that order: read it, never write).

    Straight from x, never from a padded batch-first copy: padding first and then copying the
    transpose took 11× as long on LeNet-sized batches (NumPy walks a transposed copy in the
    destination's order, an assignment in the source's), and 16 channels of 16² make rows
    16 KB apart, a stride that maps every row to the same cache sets.
    """
    nd = x.ndim - 2
    batch_last = x.transpose(1, *range(2, 2 + nd), 0)
    if not any(lo or hi for lo, hi in pads) and batch_last.flags.c_contiguous:
        return batch_last  # x is already laid out so (a Conv's or pool's output): no copy
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads, strict=True))
    xt = scratch(name, (x.shape[1], *padded, x.shape[0]), x.dtype)
    if any(lo or hi for lo, hi in pads):
        xt.fill(0)
    inner = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], pads, strict=True))
    xt[(slice(None), *inner)] = batch_last
    return xt


def im2col_batch_last(
    x, pads, w, stride, dilation, out_shape, dtype, keep_batch_last: bool = False, cols=None
) -> np.ndarray:
    """(N, F, *out) = w (F, C, *K) ⋆ x (N, C, *spatial) zero-padded by pads, as im2col with
    the batch axis last.

    In (C, *padded, N) order every window row is a run of out_width·N contiguous values, so the
    im2col copy is long runs instead of out_width-long pieces, and the product is one big
    (F, C·K) @ (C·K, P·N) instead of N small ones. The result comes back batch-first through
    one tiled transpose; with keep_batch_last, as a batch-first view of the batch-last product
    (see is_batch_last), for a layer whose next layers keep that order. `cols`, a
    (C, *K, *out, N) array, receives the im2col matrix instead of a scratch one (a Conv layer
    keeps it for its backward).
    """
    n, c = x.shape[:2]
    f, kernel = w.shape[0], w.shape[2:]
    xt = padded_batch_last(x, pads, "conv.forward.xt")
    if cols is None:
        cols = scratch("conv.forward.cols", (c, *kernel, *out_shape, n), dtype)
    cols[...] = window_view(xt, kernel, stride, dilation, out_shape)
    flat_cols = cols.reshape(c * math.prod(kernel), -1)
    if keep_batch_last:
        product = thin_matmul(w.reshape(f, -1), flat_cols)  # the caller keeps it: not scratch
        return batch_first_view(product.reshape(f, *out_shape, n))
    product = scratch("conv.forward.product", (f, math.prod(out_shape) * n), dtype)
    thin_matmul(w.reshape(f, -1), flat_cols, out=product)
    out = np.empty((n, f, *out_shape), dtype=dtype)
    batch_first(out.reshape(n, -1), product.reshape(-1, n))
    return out


def window_view(xt: np.ndarray, kernel, stride, dilation, out_shape) -> np.ndarray:
    """The windows of a C-contiguous (C, *padded, N) array, as a (C, *kernel, *out, N) view:
    the im2col matrix before its one copy. Built directly on xt's memory: sliding_window_view
    and as_strided cost 17 and 4 µs a call, which is a tenth of a LeNet layer's backward."""
    strides = xt.strides
    spatial = strides[1:-1]
    return np.ndarray(
        (xt.shape[0], *kernel, *out_shape, xt.shape[-1]),
        xt.dtype,
        xt,
        0,
        (
            strides[0],
            *(st * d for st, d in zip(spatial, dilation, strict=True)),
            *(st * s for st, s in zip(spatial, stride, strict=True)),
            strides[-1],
        ),
    )


def batch_first(dst: np.ndarray, src: np.ndarray) -> None:
    """dst (N, R) = src (R, N)ᵀ, a tile of rows at a time. NumPy's one-pass transpose walks
    one side with a long stride; in tiles both stay in cache (2× faster on LeNet's layers)."""
    for r0 in range(0, src.shape[0], _TRANSPOSE_TILE):
        dst[:, r0 : r0 + _TRANSPOSE_TILE] = src[r0 : r0 + _TRANSPOSE_TILE].T
