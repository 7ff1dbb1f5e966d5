"""Pooling layers: max and average pools over windows (1-D and 2-D) and their global forms,
which reduce each channel to one value. The layer contract is at the top of engine.layers.
"""

from __future__ import annotations

import math

import numpy as np

from engine.layer_base import Layer, _per_axis, _steps, _times
from engine.layout import is_batch_last
from engine.pool import (
    Winners2x2,
    avg_pool1d,
    avg_pool2d,
    avg_pool_backward,
    global_avg_pool,
    global_max_pool,
    max_pool1d,
    max_pool2d,
    max_pool_2x2_backward,
    max_pool_2x2_winners,
    max_pool_backward,
    pool_output_size,
)


class _Pool(Layer):
    nd = 2
    kind = "max"

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__()
        self.kernel_size = _per_axis(kernel_size, f"{self.name}: kernel_size", self.nd)
        given = self.kernel_size if stride is None else stride
        self.stride = _per_axis(given, f"{self.name}: stride", self.nd)
        self.padding = _per_axis(padding, f"{self.name}: padding", self.nd, minimum=0)
        for k, p in zip(self.kernel_size, self.padding, strict=True):
            if 2 * p > k:
                raise ValueError(
                    f"{self.name}: padding ({p}) can be at most half the pool size ({k})."
                )
        self._x_shape: tuple[int, ...] | None = None
        self._indices: np.ndarray | None = None
        self._winners: Winners2x2 | None = None

    def describe(self) -> str:
        parts = [_times(self.kernel_size)]
        if self.stride != self.kernel_size:
            parts.append(f"stride {_steps(self.stride)}")
        if any(self.padding):
            parts.append(f"padding {_steps(self.padding)}")
        return f"{self.name}({', '.join(parts)})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = self._rank(input_shape, self.nd)
        spatial = shape[1:]
        padded = tuple(n + 2 * p for n, p in zip(spatial, self.padding, strict=True))
        if any(k > p for k, p in zip(self.kernel_size, padded, strict=True)):
            raise ValueError(
                f"{self.describe()}: the {_times(self.kernel_size)} window is larger than its "
                f"{_times(spatial)} input."
            )
        out = (
            pool_output_size(n, k, s, p)
            for n, k, s, p in zip(spatial, self.kernel_size, self.stride, self.padding, strict=True)
        )
        return (shape[0], *out)

    def _max(self, x, return_indices: bool = False):
        fn = max_pool2d if self.nd == 2 else max_pool1d
        return fn(x, self.kernel_size, self.stride, self.padding, return_indices=return_indices)

    def _two_by_two(self, x) -> bool:
        """Nearly every CNN's pool: 2×2 windows at stride 2, no padding, on float maps."""
        return (self.nd == 2 and self.kernel_size == self.stride == (2, 2)
                and self.padding == (0, 0) and np.issubdtype(x.dtype, np.floating))  # fmt: skip

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, *spatial)
        self._x, self._x_shape, self._indices, self._winners = x, x.shape, None, None
        found = self._two_by_two(x) and self.kind == "max" and max_pool_2x2_winners(x)
        if found:
            y, self._winners = found  # masks, not indices: 4× faster here, 2× in the backward
        elif self.kind == "max" and training:
            y, self._indices = self._max(x, return_indices=True)  # (N, C, *out) twice
        elif self.kind == "max":
            y = self._max(x)  # the argmax costs more than the max: only found when needed
        else:
            y = (avg_pool2d if self.nd == 2 else avg_pool1d)(
                x, self.kernel_size, self.stride, self.padding
            )
        return self._output(y.astype(x.dtype, copy=False))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:  # dout: (N, C, *out)
        if self._winners is not None:
            dx = max_pool_2x2_backward(dout, self._winners, self._x_shape, is_batch_last(self._x))
        elif self.kind == "max":
            if self._indices is None:  # forward ran in evaluation mode
                _, self._indices = self._max(self._x, return_indices=True)
            overlapping = any(s < k for s, k in zip(self.stride, self.kernel_size, strict=True))
            dx = max_pool_backward(
                dout, self._indices, self._x_shape, overlapping, is_batch_last(self._x)
            )
        else:
            dx = avg_pool_backward(dout, self._x_shape, self.kernel_size, self.stride, self.padding)
        return dx.astype(dout.dtype, copy=False)  # (N, C, *spatial)


class MaxPool2D(_Pool):
    """Largest value of each window: x (N, C, H, W) -> (N, C, H', W'); stride = size by default."""

    nd, kind = 2, "max"


class AvgPool2D(_Pool):
    """Mean of each window (padded cells count as zeros): x (N, C, H, W) -> (N, C, H', W')."""

    nd, kind = 2, "avg"


class MaxPool1D(_Pool):
    """Largest value of each window along a sequence: x (N, C, L) -> (N, C, L')."""

    nd, kind = 1, "max"


class AvgPool1D(_Pool):
    """Mean of each window along a sequence: x (N, C, L) -> (N, C, L')."""

    nd, kind = 1, "avg"


class _GlobalPool(Layer):
    nd = 1
    kind = "max"

    def __init__(self) -> None:
        super().__init__()
        self._x_shape: tuple[int, ...] | None = None
        self._indices: np.ndarray | None = None

    def output_shape(self, input_shape) -> tuple[int, ...]:
        return (self._rank(input_shape, self.nd)[0],)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, *spatial)
        self._x_shape = x.shape
        if self.kind == "max":
            y, self._indices = global_max_pool(x, return_indices=True)  # (N, C) twice
        else:
            y = global_avg_pool(x)  # (N, C)
        return self._output(y.astype(x.dtype, copy=False))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:  # dout: (N, C)
        n, c = self._x_shape[:2]
        if self.kind == "max":
            dx = np.zeros((n, c, math.prod(self._x_shape[2:])), dtype=dout.dtype)
            np.put_along_axis(dx, self._indices[..., None], dout[..., None], axis=-1)
            return dx.reshape(self._x_shape)
        share = dout / math.prod(self._x_shape[2:])  # (N, C)
        return np.broadcast_to(share.reshape(n, c, *[1] * self.nd), self._x_shape).copy()


class GlobalMaxPool1D(_GlobalPool):
    """Strongest response of each channel over the whole sequence: (N, C, L) -> (N, C)."""

    nd, kind = 1, "max"


class GlobalMaxPool2D(_GlobalPool):
    """Strongest response of each feature map: (N, C, H, W) -> (N, C)."""

    nd, kind = 2, "max"


class GlobalAvgPool1D(_GlobalPool):
    """Mean of each channel over the sequence: (N, C, L) -> (N, C)."""

    nd, kind = 1, "avg"


class GlobalAvgPool2D(_GlobalPool):
    """Mean of each feature map: (N, C, H, W) -> (N, C)."""

    nd, kind = 2, "avg"
