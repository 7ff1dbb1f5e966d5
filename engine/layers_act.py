"""Activation layers, element-wise and shape-keeping: ReLU, LeakyReLU, Sigmoid, Tanh. The
functions and their derivatives live in engine.activations; the layer contract is at the
top of engine.layers.
"""

from __future__ import annotations

import numpy as np

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
from engine.layer_base import Layer


class ReLU(Layer):
    """max(x, 0), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        self._x = x  # for backward; the output is computed from the local x
        return self._output(relu(x))

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
        x = self._input(x)
        self._x = x
        return self._output(leaky_relu(x, self.negative_slope).astype(x.dtype))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * leaky_relu_grad(self._x, self.negative_slope).astype(dout.dtype)


class Sigmoid(Layer):
    """1 / (1 + e^−x), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        y = sigmoid(x).astype(x.dtype, copy=False)
        self._y = y
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * sigmoid_grad_from_output(self._y)


class Tanh(Layer):
    """tanh(x), element-wise."""

    def forward(self, x, training: bool = True) -> np.ndarray:
        y = tanh(self._input(x))
        self._y = y
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout * tanh_grad_from_output(self._y)
