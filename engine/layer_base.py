"""The Layer base class and what every layer shares: argument checks and weight initialisation.

The layer contract the base class holds is written once, at the top of engine.layers; import
layers from there.
"""

from __future__ import annotations

import math

import numpy as np

INITS = ("he", "glorot")
MAX_SIZE = 1 << 16  # channels, features, kernel sizes above this are surely typos
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
