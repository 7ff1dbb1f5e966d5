"""Batch-last arrays seen batch-first.

A Conv layer's product comes out (F, *out, N) (engine.conv_batch_last). Handed on as a
transposed view, the layers after it (ReLU, pooling, the next Conv) work on it in that memory
order, and the next Conv's batch-last copy and the backward's are plain copies instead of
transposes: at batch 32 a transpose reads rows 4 KB apart, the stride that maps them all to the
same cache sets. The arrays are the same (N, C, *spatial) arrays to every caller.
"""

from __future__ import annotations

import numpy as np


def batch_first_view(a: np.ndarray) -> np.ndarray:
    """(C, *spatial, N) -> the same memory seen as (N, C, *spatial)."""
    return a.transpose(a.ndim - 1, *range(a.ndim - 1))


def batch_last_view(a: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> the same memory seen as (C, *spatial, N)."""
    return a.transpose(*range(1, a.ndim), 0)


def is_batch_last(a: np.ndarray) -> bool:
    """Whether the (N, C, *spatial) array a is laid out in (C, *spatial, N) order in memory,
    maybe with gaps (a cropped view), with more than one sample (a single sample is both)."""
    if a.ndim < 3 or a.shape[0] < 2:
        return False
    strides = batch_last_view(a).strides
    return strides[-1] == a.itemsize and all(
        outer >= inner for outer, inner in zip(strides, strides[1:], strict=False)
    )
