"""Layers of a small CNN in plain NumPy: Keras' names, PyTorch's array layouts (channels first).

The layer contract
------------------
N is the batch size and ``in_shape`` the shape of one sample, e.g. (C, H, W).

``layer.forward(x, training=True) -> y``
    x: (N, *in_shape); y: (N, *layer.output_shape(in_shape)). Keeps what backward needs.
    ``training`` matters to Dropout (drop, or pass through) and BatchNorm (batch statistics, or
    the running ones); the other layers ignore it.
``layer.backward(dout, input_grad=True) -> dx``
    dout = dL/dy, shaped like the last y; dx = dL/dx, shaped like the last x (None for
    Embedding, whose input is integer ids, and when ``input_grad=False``: a network's first
    layer has no use for dx, and a convolution saves a third of its backward pass without it).
    Call it after forward. It also writes dL/dparam into ``layer.grads`` *in place*
    (overwriting, not accumulating), so the arrays an optimizer holds stay the layer's own.
``layer.params`` and ``layer.grads``
    dicts with the same keys ("weight", "bias") and shapes; empty for layers without
    parameters. A layer never updates its params: an optimizer does, in place.
``layer.buffers``
    state that is saved with the model but not learned (BatchNorm's running statistics).
``layer.output_shape(in_shape) -> tuple``
    the per-sample output shape, or a ValueError naming the layer when in_shape doesn't fit.
``layer.num_params()``, ``layer.describe()`` (also its repr), e.g. "Conv2D(1→6, 5×5, same)".

    Conv2D     x (N, C, H, W)  -> (N, F, H', W')   weight (F, C, KH, KW), bias (F,)
    Conv1D     x (N, C, L)     -> (N, F, L')       weight (F, C, K),      bias (F,)
    Dense      x (N, ..., in)  -> (N, ..., out)    weight (out, in),      bias (out,)
    BatchNorm  x (N, C, ...)   -> (N, C, ...)      weight = γ (C,),       bias = β (C,)
    Embedding  ids (N, L)      -> (N, L, D)        weight (V, D)    [(N, D, L) if channels_first]
    pools      x (N, C, *sp)   -> (N, C, *sp')     global pools -> (N, C)
    ReLU, LeakyReLU, Sigmoid, Tanh, Dropout: same shape; Flatten: (N, ...) -> (N, prod(...))

Parameters are float32 unless ``dtype`` says otherwise. Weights are drawn from the
``np.random.Generator`` passed as ``rng`` (He normal or Glorot uniform; Embedding N(0, 1) as in
PyTorch); biases start at zero. The same seed replays the same run.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.activations import (
    leaky_relu,
    leaky_relu_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad_from_output,
    tanh,
    tanh_grad_from_output,
)
from engine.conv import conv1d, conv2d, pad, resolve_padding
from engine.pool import (
    avg_pool1d,
    avg_pool2d,
    avg_pool_backward,
    global_avg_pool,
    global_max_pool,
    max_pool1d,
    max_pool2d,
    max_pool_backward,
    pool_output_size,
)

__all__ = [
    "INITS",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNorm",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "Layer",
    "LeakyReLU",
    "MaxPool1D",
    "MaxPool2D",
    "ReLU",
    "Sigmoid",
    "Tanh",
]

INITS = ("he", "glorot")
MAX_SIZE = 1 << 16  # channels, features, kernel sizes above this are surely typos
_COLS_BLOCK = 1 << 23  # values of the im2col matrix a convolution's backward builds at once
_LAYOUTS = {1: "(C, L)", 2: "(C, H, W)"}


# --------------------------------------------------------------------------------------------
# Checks and initialisation
# --------------------------------------------------------------------------------------------


def _times(sizes) -> str:
    return "×".join(str(int(s)) for s in sizes)


def _steps(sizes) -> str:
    """(2, 2) -> "2", (2, 1) -> "2×1": a stride or padding, short when it is the same per axis."""
    return str(int(sizes[0])) if len(set(sizes)) == 1 else _times(sizes)


def shape_text(shape) -> str:
    """(6, 28, 28) -> "(6, 28, 28)", (400,) -> "(400,)": a shape as Python writes it."""
    return "(" + ", ".join(str(int(s)) for s in shape) + (",)" if len(shape) == 1 else ")")


def _whole(value, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be a whole number ≥ {minimum} (got {value!r}).")
    if not minimum <= int(value) <= MAX_SIZE:
        raise ValueError(f"{what} must be between {minimum} and {MAX_SIZE} (got {value}).")
    return int(value)


def _per_axis(value, what: str, nd: int, minimum: int = 1) -> tuple[int, ...]:
    if isinstance(value, tuple | list):
        if len(value) != nd:
            raise ValueError(f"{what} needs {nd} value(s), one per axis (got {len(value)}).")
        return tuple(_whole(v, what, minimum) for v in value)
    return (_whole(value, what, minimum),) * nd


def _float_dtype(dtype, layer: str) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as err:
        raise ValueError(f"{layer}: dtype must be a float type (got {dtype!r}).") from err
    if dt.kind != "f":
        raise ValueError(f"{layer}: dtype must be a float type such as float32 (got {dt}).")
    return dt


def _generator(rng, layer: str) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"{layer}: rng must be an np.random.Generator, e.g. np.random.default_rng(0) "
            f"(got {type(rng).__name__})."
        )
    return rng


def init_weight(shape, fan_in: int, fan_out: int, init: str, rng, dtype) -> np.ndarray:
    """He normal (std √(2/fan_in), for ReLU nets) or Glorot uniform (±√(6/(fan_in+fan_out)))."""
    if init == "he":
        w = rng.standard_normal(shape) * math.sqrt(2.0 / fan_in)
    elif init == "glorot":
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        w = rng.uniform(-limit, limit, shape)
    else:
        choices = ", ".join(repr(i) for i in INITS)
        raise ValueError(f"init must be one of {choices} (got {init!r}).")
    return w.astype(dtype)


# --------------------------------------------------------------------------------------------
# Base class
# --------------------------------------------------------------------------------------------


class Layer:
    """Holds the dicts of the contract and the shared input/gradient checks."""

    dtype: np.dtype | None = None  # parameter dtype; inputs are cast to it (None: keep theirs)

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self._y_shape: tuple[int, ...] | None = None  # (N, ...) of the last output

    @property
    def name(self) -> str:
        return type(self).__name__

    def describe(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return self.describe()

    def num_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def output_shape(self, input_shape) -> tuple[int, ...]:
        return tuple(int(s) for s in input_shape)  # element-wise layers keep the shape

    def forward(self, x, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout, input_grad: bool = True) -> np.ndarray | None:
        """dL/dy -> dL/dx, filling self.grads. input_grad=False skips dx (returns None)."""
        dx = self._backward(self._dout(dout), input_grad)
        return dx if input_grad else None

    def _backward(self, dout: np.ndarray, input_grad: bool) -> np.ndarray | None:
        raise NotImplementedError  # each layer's own backward pass; dout is already checked

    def _add_param(self, key: str, value: np.ndarray) -> None:
        self.params[key] = value
        self.grads[key] = np.zeros_like(value)

    def _input(self, x) -> np.ndarray:
        """x as an array (cast to the layer's dtype) whose per-sample shape fits the layer."""
        x = np.asarray(x)
        if x.ndim == 0 or x.shape[0] == 0:
            raise ValueError(f"{self.describe()} needs a batch of at least one sample (got {x!r}).")
        if x.dtype.kind not in "biuf":
            raise ValueError(f"{self.describe()} needs real numbers (got dtype {x.dtype}).")
        if self.dtype is not None:
            x = x.astype(self.dtype, copy=False)
        elif x.dtype.kind != "f":
            x = x.astype(np.float32)
        self.output_shape(x.shape[1:])  # raises a ValueError naming the layer
        return x

    def _output(self, y: np.ndarray) -> np.ndarray:
        self._y_shape = y.shape
        return y

    def _dout(self, dout) -> np.ndarray:
        if self._y_shape is None:
            raise RuntimeError(f"{self.describe()}: call forward before backward.")
        dout = np.asarray(dout)
        if dout.shape != self._y_shape:
            raise ValueError(
                f"{self.describe()}: the gradient has shape {shape_text(dout.shape)} but the "
                f"last output had shape {shape_text(self._y_shape)}."
            )
        if self.dtype is not None:
            dout = dout.astype(self.dtype, copy=False)
        return dout

    def _rank(self, input_shape, nd: int) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) != nd + 1:
            raise ValueError(
                f"{self.describe()} expects samples shaped {_LAYOUTS[nd]} but got "
                f"{shape_text(shape)}."
            )
        return shape


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------


class _Conv(Layer):
    nd = 2
    _conv = staticmethod(conv2d)

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
        return self._output(self._conv(x, w, b, self.stride, self._pads))  # (N, F, *out)

    def _backward(self, dout, input_grad: bool) -> np.ndarray | None:  # dout: (N, F, *out)
        x = self._x
        # A few samples at a time, so the im2col matrix stays under _COLS_BLOCK values
        # (LeNet's layers take a batch of 64 in one go).
        per_sample = self.in_channels * math.prod(self.kernel_size) * math.prod(dout.shape[2:])
        step = max(1, _COLS_BLOCK // per_sample)
        dx = np.empty_like(x) if input_grad else None
        dw = np.zeros_like(self.params["weight"])
        for n0 in range(0, len(x), step):
            part = slice(n0, n0 + step)
            dw += self._backward_block(x[part], dout[part], None if dx is None else dx[part])
        self.grads["weight"][...] = dw
        self.grads["bias"][...] = dout.sum(axis=(0, *range(2, dout.ndim)))
        return dx

    def _backward_block(self, x, dout, dx) -> np.ndarray:
        """dL/dW of samples x (N, C, *spatial) given dout (N, F, *out); writes dL/dx into dx
        (N, C, *spatial) unless it is None.

        The work happens with the batch axis *last*, (C, *spatial, N): at stride 1 every
        shifted window is then a run of out_width·N contiguous values, so the copies and adds
        are long (about 2× faster than batch-first for LeNet's second convolution).
        """
        w = self.params["weight"]
        nd, k, s = self.nd, self.kernel_size, self.stride
        c, f = x.shape[1], w.shape[0]
        out = dout.shape[2:]
        taps = math.prod(k)
        spatial = tuple(range(1, 1 + nd))  # the spatial axes of a (C, *spatial, N) array
        # (N, F, *out) -> (F, *out, N) -> (F, P·N), P = prod(out)
        dy = dout.transpose(1, *range(2, 2 + nd), 0).reshape(f, -1)
        # dL/dW = dy @ colsᵀ, cols the im2col matrix of the padded input:
        # (N, C, *padded) -> (C, *padded, N) -> windows (C, *out, N, *K) -> (C·K..., P·N)
        xt = np.ascontiguousarray(pad(x, self._pads).transpose(1, *range(2, 2 + nd), 0))
        win = sliding_window_view(xt, k, axis=spatial)  # (C, *positions, N, *K), a view
        win = win[(slice(None), *(slice(None, None, st) for st in s))]  # positions -> *out
        order = (0, *range(2 + nd, 2 + 2 * nd), *spatial, 1 + nd)  # -> (C, *K, *out, N)
        cols = win.transpose(order).reshape(c * taps, -1)  # the one im2col copy
        dw = (cols @ dy.T).T.reshape(w.shape)  # (F, C·K...) -> (F, C, *K); BLAS likes this order
        if dx is None:  # e.g. the first layer of a network in training: no col2im needed
            return dw
        # dL/dx: col2im of Wᵀ @ dy, one strided add per kernel tap (not per pixel).
        dcols = (w.reshape(f, -1).T @ dy).reshape(c, taps, *out, -1)  # (C, K..., *out, N)
        dxt = np.zeros_like(xt)  # (C, *padded, N)
        for t, tap in enumerate(np.ndindex(*k)):
            # every output position o reads the padded input at o·stride + tap
            where = (
                slice(a, a + st * (o - 1) + 1, st) for a, st, o in zip(tap, s, out, strict=True)
            )
            dxt[(slice(None), *where)] += dcols[:, t]
        crop = (slice(lo, lo + n) for (lo, _), n in zip(self._pads, x.shape[2:], strict=True))
        dx[...] = dxt[(slice(None), *crop)].transpose(1 + nd, 0, *spatial)  # (N, C, *spatial)
        return dw


class Conv2D(_Conv):
    """2-D convolution (cross-correlation, as PyTorch): x (N, C, H, W) -> (N, F, H', W').

    ``kernel_size`` and ``stride`` are an int or a (KH, KW) pair; ``padding`` an int, a pair,
    per-axis (before, after) pairs, or "valid", "same", "full" (as engine.conv.conv2d; "same"
    keeps H, W at stride 1 and gives ceil(H / stride) above). Weight (F, C, KH, KW), bias (F,).
    """

    nd = 2
    _conv = staticmethod(conv2d)


class Conv1D(_Conv):
    """1-D convolution over sequences: x (N, C, L) -> (N, F, L'). Weight (F, C, K), bias (F,)."""

    nd = 1
    _conv = staticmethod(conv1d)


# --------------------------------------------------------------------------------------------
# Dense
# --------------------------------------------------------------------------------------------


class Dense(Layer):
    """Fully connected: y = x @ Wᵀ + b over the last axis. x (N, ..., in) -> (N, ..., out).

    Weight (out, in), bias (out,), as torch.nn.Linear.
    """

    def __init__(
        self, in_features: int, out_features: int, rng=None, init: str = "he", dtype=np.float32
    ) -> None:
        super().__init__()
        self.in_features = _whole(in_features, "Dense: in_features")
        self.out_features = _whole(out_features, "Dense: out_features")
        self.dtype = _float_dtype(dtype, "Dense")
        rng = _generator(rng, "Dense")
        shape = (self.out_features, self.in_features)
        w = init_weight(shape, self.in_features, self.out_features, init, rng, self.dtype)
        self._add_param("weight", w)  # (out, in)
        self._add_param("bias", np.zeros(self.out_features, dtype=self.dtype))  # (out,)
        self._x: np.ndarray | None = None

    def describe(self) -> str:
        return f"Dense({self.in_features}→{self.out_features})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if not shape or shape[-1] != self.in_features:
            hint = "; put a Flatten before it" if len(shape) > 1 else ""
            raise ValueError(
                f"{self.describe()} expects {self.in_features} features per sample but got "
                f"samples shaped {shape_text(shape)}{hint}."
            )
        return (*shape[:-1], self.out_features)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, ..., in)
        self._x = x
        return self._output(x @ self.params["weight"].T + self.params["bias"])  # (N, ..., out)

    def _backward(self, dout, input_grad: bool) -> np.ndarray | None:  # dout: (N, ..., out)
        d2 = dout.reshape(-1, self.out_features)  # (M, out)
        x2 = self._x.reshape(-1, self.in_features)  # (M, in)
        self.grads["weight"][...] = d2.T @ x2  # (out, in)
        self.grads["bias"][...] = d2.sum(axis=0)
        return dout @ self.params["weight"] if input_grad else None  # (N, ..., in)


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------


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

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, *spatial)
        self._x, self._x_shape, self._indices = x, x.shape, None
        if self.kind == "max" and training:
            y, self._indices = self._max(x, return_indices=True)  # (N, C, *out) twice
        elif self.kind == "max":
            y = self._max(x)  # the argmax costs more than the max: only found when needed
        else:
            y = (avg_pool2d if self.nd == 2 else avg_pool1d)(
                x, self.kernel_size, self.stride, self.padding
            )
        return self._output(y.astype(x.dtype, copy=False))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:  # dout: (N, C, *out)
        if self.kind == "max":
            if self._indices is None:  # forward ran in evaluation mode
                _, self._indices = self._max(self._x, return_indices=True)
            dx = max_pool_backward(dout, self._indices, self._x_shape)
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


# --------------------------------------------------------------------------------------------
# Element-wise layers and Flatten
# --------------------------------------------------------------------------------------------


class ReLU(Layer):
    """max(x, 0), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        self._x = self._input(x)
        return self._output(relu(self._x))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * relu_grad(self._x)


class LeakyReLU(Layer):
    """x where x > 0, else negative_slope·x."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if not np.isfinite(negative_slope):
            raise ValueError(f"LeakyReLU: negative_slope must be finite (got {negative_slope}).")
        self.negative_slope = float(negative_slope)

    def describe(self) -> str:
        return f"LeakyReLU({self.negative_slope:g})"

    def forward(self, x, training: bool = True) -> np.ndarray:
        self._x = self._input(x)
        return self._output(leaky_relu(self._x, self.negative_slope).astype(self._x.dtype))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * leaky_relu_grad(self._x, self.negative_slope).astype(dout.dtype)


class Sigmoid(Layer):
    """1 / (1 + e^−x), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        self._y = sigmoid(x).astype(x.dtype, copy=False)
        return self._output(self._y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * sigmoid_grad_from_output(self._y)


class Tanh(Layer):
    """tanh(x), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        self._y = tanh(self._input(x))
        return self._output(self._y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * tanh_grad_from_output(self._y)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1·d2·...), e.g. feature maps before a Dense layer."""

    def output_shape(self, input_shape) -> tuple[int, ...]:
        return (math.prod(int(s) for s in input_shape),)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        self._x_shape = x.shape
        return self._output(x.reshape(x.shape[0], -1))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout.reshape(self._x_shape)


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability p and scale the rest by
    1/(1−p); at evaluation, the identity. The mask comes from ``self.rng`` (an
    np.random.Generator given here or assigned later), so a seed replays it.
    """

    def __init__(self, p: float = 0.5, rng=None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float | np.number) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1) (got {p!r}).")
        self.p = float(p)
        self.rng = _generator(rng, "Dropout")
        self.mask: np.ndarray | None = None  # the last scaled mask: 0 or 1/(1−p)

    def describe(self) -> str:
        return f"Dropout({self.p:g})"

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        if not training or self.p == 0:
            self.mask = None
            return self._output(x)
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))
        return self._output(x * self.mask)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout if self.mask is None else dout * self.mask


# --------------------------------------------------------------------------------------------
# Batch normalisation
# --------------------------------------------------------------------------------------------


class BatchNorm(Layer):
    """Normalise each channel, then scale and shift: y = γ·(x − μ)/√(σ² + eps) + β.

    x is (N, C) or (N, C, L) like torch's BatchNorm1d, or (N, C, H, W) like BatchNorm2d; the
    statistics run over every axis but C. In training μ, σ² are the batch's (σ² biased) and
    the running statistics move towards them: running = (1 − momentum)·running +
    momentum·batch, with the *unbiased* variance for running_var, as PyTorch does. At
    evaluation the running statistics are used. params: "weight" = γ (ones), "bias" = β (zeros);
    buffers: "running_mean" (zeros), "running_var" (ones).
    """

    def __init__(
        self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float32
    ) -> None:
        super().__init__()
        self.num_features = _whole(num_features, "BatchNorm: num_features")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm: momentum must be between 0 and 1 (got {momentum}).")
        if not eps > 0:
            raise ValueError(f"BatchNorm: eps must be positive (got {eps}).")
        self.momentum, self.eps = float(momentum), float(eps)
        self.dtype = _float_dtype(dtype, "BatchNorm")
        c = self.num_features
        self._add_param("weight", np.ones(c, dtype=self.dtype))  # γ (C,)
        self._add_param("bias", np.zeros(c, dtype=self.dtype))  # β (C,)
        self.buffers["running_mean"] = np.zeros(c, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(c, dtype=self.dtype)

    def describe(self) -> str:
        return f"BatchNorm({self.num_features})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (1, 2, 3) or shape[0] != self.num_features:
            raise ValueError(
                f"{self.describe()} expects samples shaped ({self.num_features},), "
                f"({self.num_features}, L) or ({self.num_features}, H, W) but got "
                f"{shape_text(shape)}."
            )
        return shape

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, ...)
        axes = (0, *range(2, x.ndim))  # every axis but the channels
        bshape = (1, -1) + (1,) * (x.ndim - 2)  # (C,) -> broadcastable over x
        count = x.size // self.num_features  # values per channel
        if training:
            if count < 2:
                raise ValueError(
                    f"{self.describe()} needs more than one value per channel in training "
                    f"(got input shape {shape_text(x.shape)}); use a larger batch."
                )
            mean = x.mean(axis=axes)  # (C,)
            var = x.var(axis=axes)  # (C,), biased: normalises the batch
            m = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm[...] = (1 - m) * rm + m * mean
            rv[...] = (1 - m) * rv + m * var * (count / (count - 1))  # unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)  # (C,)
        self._xhat = (x - mean.reshape(bshape)) * inv_std.reshape(bshape)  # (N, C, ...)
        self._inv_std, self._axes, self._bshape = inv_std, axes, bshape
        self._batch_stats = training
        y = self._xhat * self.params["weight"].reshape(bshape) + self.params["bias"].reshape(bshape)
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:  # dout: (N, C, ...)
        axes, bshape, xhat = self._axes, self._bshape, self._xhat
        self.grads["bias"][...] = dout.sum(axis=axes)
        self.grads["weight"][...] = (dout * xhat).sum(axis=axes)
        dxhat = dout * self.params["weight"].reshape(bshape)
        inv_std = self._inv_std.reshape(bshape)
        if not self._batch_stats:  # running statistics are constants: an affine map
            return dxhat * inv_std
        # μ and σ² depend on x too: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ
        mean_d = dxhat.mean(axis=axes).reshape(bshape)
        mean_dx = (dxhat * xhat).mean(axis=axes).reshape(bshape)
        return (dxhat - mean_d - xhat * mean_dx) * inv_std


# --------------------------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------------------------


class Embedding(Layer):
    """A lookup table of learned vectors: integer ids (N, L) -> (N, L, D), row ``id`` of the weight.

    ``channels_first=True`` gives (N, D, L) instead, ready for Conv1D. Weight (V, D), drawn
    from N(0, 1) as in PyTorch. backward returns None (ids have no gradient); repeated ids add
    up their gradients.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        channels_first: bool = False,
        rng=None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.num_embeddings = _whole(num_embeddings, "Embedding: num_embeddings", 1)
        self.embedding_dim = _whole(embedding_dim, "Embedding: embedding_dim", 1)
        self.channels_first = bool(channels_first)
        self.dtype = _float_dtype(dtype, "Embedding")
        rng = _generator(rng, "Embedding")
        shape = (self.num_embeddings, self.embedding_dim)
        self._add_param("weight", rng.standard_normal(shape).astype(self.dtype))  # (V, D)
        self._ids: np.ndarray | None = None

    def describe(self) -> str:
        first = ", channels first" if self.channels_first else ""
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{first})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if self.channels_first:
            if len(shape) != 1:
                raise ValueError(
                    f"{self.describe()} expects samples of ids shaped (L,) but got "
                    f"{shape_text(shape)}."
                )
            return (self.embedding_dim, shape[0])
        return (*shape, self.embedding_dim)

    def forward(self, ids, training: bool = True) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim == 0 or ids.shape[0] == 0:
            raise ValueError(f"{self.describe()} needs a batch of at least one sequence of ids.")
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{self.describe()} takes whole-number ids but got dtype {ids.dtype}.")
        self.output_shape(ids.shape[1:])
        bad = (ids < 0) | (ids >= self.num_embeddings)
        if bad.any():
            raise ValueError(
                f"{self.describe()}: id {int(ids[bad][0])} is out of range; ids must be "
                f"between 0 and {self.num_embeddings - 1}."
            )
        self._ids = ids
        y = self.params["weight"][ids]  # (N, L, D)
        if self.channels_first:
            y = np.ascontiguousarray(y.transpose(0, 2, 1))  # (N, L, D) -> (N, D, L)
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> None:
        if self.channels_first:
            dout = dout.transpose(0, 2, 1)  # (N, D, L) -> (N, L, D)
        dw = self.grads["weight"]
        dw[...] = 0
        np.add.at(dw, self._ids.ravel(), dout.reshape(-1, self.embedding_dim))
        return None
