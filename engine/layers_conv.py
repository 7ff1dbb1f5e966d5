"""Convolution layers, Conv2D and Conv1D: forward through engine.conv, backward as im2col
matmuls over blocks of samples. The layer contract is at the top of engine.layers.
"""

from __future__ import annotations

import math

import numpy as np

from engine.conv import conv_layer_forward, resolve_padding
from engine.conv_batch_last import padded_batch_last, window_view
from engine.layer_base import (
    Layer,
    _float_dtype,
    _generator,
    _per_axis,
    _steps,
    _times,
    _whole,
    init_weight,
    shape_text,
)
from engine.layout import batch_first_view, batch_last_view
from engine.scratch import scratch
from engine.thin_matmul import thin_matmul

_COLS_BLOCK = 1 << 23  # values of the im2col matrix a convolution's backward builds at once


class _Conv(Layer):
    nd = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        rng=None,
        init: str = "he",
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.in_channels = _whole(in_channels, f"{self.name}: in_channels")
        self.out_channels = _whole(out_channels, f"{self.name}: out_channels")
        self.kernel_size = _per_axis(kernel_size, f"{self.name}: kernel_size", self.nd)
        self.stride = _per_axis(stride, f"{self.name}: stride", self.nd)
        self.padding = padding.lower() if isinstance(padding, str) else padding
        try:
            self._pads = resolve_padding(padding, self.kernel_size, 1, self.nd)
        except ValueError as err:
            raise ValueError(f"{self.name}: {err}") from err
        self.dtype = _float_dtype(dtype, self.name)
        rng = _generator(rng, self.name)
        taps = math.prod(self.kernel_size)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        w = init_weight(shape, self.in_channels * taps, self.out_channels * taps, init, rng, dtype)
        self._add_param("weight", w)  # (F, C, *K)
        self._add_param("bias", np.zeros(self.out_channels, dtype=self.dtype))  # (F,)
        self._x: np.ndarray | None = None
        self._decisions: dict = {}  # engine.conv.conv_layer_forward's, per input shape
        self._windows: dict = {}  # its im2col matrices, one buffer per shape, reused
        self._cols: np.ndarray | None = None  # the last forward's, if it kept one

    def describe(self) -> str:
        parts = [f"{self.in_channels}→{self.out_channels}", _times(self.kernel_size)]
        if any(s != 1 for s in self.stride):
            parts.append(f"stride {_steps(self.stride)}")
        if isinstance(self.padding, str):
            parts.append(self.padding)
        elif any(p != (0, 0) for p in self._pads):
            parts.append(f"padding {self.padding}")
        return f"{self.name}({', '.join(parts)})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = self._rank(input_shape, self.nd)
        if shape[0] != self.in_channels:
            raise ValueError(
                f"{self.describe()} expects {self.in_channels} input channel(s) but the input "
                f"has {shape[0]} (sample shape {shape_text(shape)})."
            )
        spatial = shape[1:]
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, self._pads, strict=True))
        if any(k > p for k, p in zip(self.kernel_size, padded, strict=True)):
            after = f" ({_times(padded)} after padding)" if padded != spatial else ""
            raise ValueError(
                f"{self.describe()}: the {_times(self.kernel_size)} kernel is larger than its "
                f"{_times(spatial)} input{after}."
            )
        out = (
            (p - k) // s + 1 for p, k, s in zip(padded, self.kernel_size, self.stride, strict=True)
        )
        return (self.out_channels, *out)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, *spatial)
        self._x = x
        w, b = self.params["weight"], self.params["bias"]
        # In training the forward's im2col matrix is kept: the weight gradient needs it again.
        windows = self._windows if training else None
        y, self._cols = conv_layer_forward(
            x, w, b, self.stride, self._pads, self.nd, self._decisions, windows
        )
        return self._output(y)  # batch-last in memory when that was faster (conv_batch_last)

    def _backward(self, dout, input_grad: bool) -> np.ndarray | None:  # dout: (N, F, *out)
        x = self._x
        # A few samples at a time, so the im2col matrix stays under _COLS_BLOCK values
        # (LeNet's layers take a batch of 64 in one go).
        per_sample = self.in_channels * math.prod(self.kernel_size) * math.prod(dout.shape[2:])
        step = max(1, _COLS_BLOCK // per_sample)
        if step >= len(x):  # the whole batch at once: dx stays batch-last in memory
            dw, dx = self._backward_block(x, dout, input_grad, self._cols)
        else:
            dx = np.empty_like(x) if input_grad else None
            dw = np.zeros_like(self.params["weight"])
            for n0 in range(0, len(x), step):
                part = slice(n0, n0 + step)
                dw_part, dx_part = self._backward_block(x[part], dout[part], input_grad)
                dw += dw_part
                if dx is not None:
                    dx[part] = dx_part
        self.grads["weight"][...] = dw
        self.grads["bias"][...] = dout.sum(axis=(0, *range(2, dout.ndim)))
        return dx

    def _backward_block(self, x, dout, input_grad: bool, cols=None):
        """(dL/dW, dL/dx) of samples x (N, C, *spatial) given dout (N, F, *out); dL/dx is None
        without input_grad, else (N, C, *spatial) batch-last in memory. cols: the forward's
        im2col matrix of these samples, (C, *K, *out, N), if it kept one.

        The work happens with the batch axis *last*, (C, *spatial, N): at stride 1 every
        shifted window is then a run of out_width·N contiguous values, so the copies and adds
        are long (about 2× faster than batch-first for LeNet's second convolution).
        """
        w = self.params["weight"]
        nd, k, s = self.nd, self.kernel_size, self.stride
        c, f = x.shape[1], w.shape[0]
        out = dout.shape[2:]
        taps = math.prod(k)
        # (N, F, *out) -> (F, *out, N) -> (F, P·N), P = prod(out)
        dy = batch_last_view(dout)
        if not dy.flags.c_contiguous:  # the layers after this one kept the batch axis first
            dy = scratch("conv.dy", dy.shape, dout.dtype)
            dy[...] = batch_last_view(dout)
        dy = dy.reshape(f, -1)
        # dL/dW = dy @ colsᵀ, cols the im2col matrix of the padded input:
        # (N, C, *padded) -> (C, *padded, N) -> windows (C, *K, *out, N) -> (C·K..., P·N)
        padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], self._pads, strict=True))
        if cols is None:
            xt = padded_batch_last(x, self._pads)
            cols = scratch("conv.cols", (c, *k, *out, len(x)), x.dtype)
            cols[...] = window_view(xt, k, s, (1,) * nd, out)  # the one im2col copy
        cols = cols.reshape(c * taps, -1)
        dw = thin_matmul(cols, dy.T).T.reshape(w.shape)  # (C·K, F) is the order BLAS likes
        if not input_grad:  # e.g. the first layer of a network in training: no col2im needed
            return dw, None
        # dL/dx: col2im of Wᵀ @ dy, one strided add per kernel tap (not per pixel).
        dcols = scratch("conv.dcols", (c * taps, dy.shape[1]), dy.dtype)
        np.matmul(w.reshape(f, -1).T, dy, out=dcols)
        dcols = dcols.reshape(c, taps, *out, -1)  # (C, K..., *out, N)
        dxt = np.zeros((c, *padded, len(x)), x.dtype)  # handed on: never scratch
        for t, tap in enumerate(np.ndindex(*k)):
            # every output position o reads the padded input at o·stride + tap
            where = (
                slice(a, a + st * (o - 1) + 1, st) for a, st, o in zip(tap, s, out, strict=True)
            )
            dxt[(slice(None), *where)] += dcols[:, t]
        crop = tuple(slice(lo, lo + n) for (lo, _), n in zip(self._pads, x.shape[2:], strict=True))
        return dw, batch_first_view(dxt[(slice(None), *crop)])


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W) -> (N, F, H', W').

    ``kernel_size`` and ``stride`` are an int or a (KH, KW) pair; ``padding`` an int, a pair,
    per-axis (before, after) pairs, or "valid", "same", "full" (as engine.conv.conv2d; "same"
    keeps H, W at stride 1 and gives ceil(H / stride) above). Weight (F, C, KH, KW), bias (F,).
    """

    nd = 2


class Conv1D(_Conv):
    """1-D convolution over sequences: x (N, C, L) -> (N, F, L'). Weight (F, C, K), bias (F,)."""

    nd = 1
