"""Element-wise activations and their derivatives, shared by the labs and the layers.

Each derivative takes what its forward pass has at hand: the input for ReLU and leaky ReLU, the
output for sigmoid and tanh (σ' = σ(1 − σ), tanh' = 1 − tanh²).
"""

from __future__ import annotations

import numpy as np


def relu(x):
    return np.maximum(x, 0)


def relu_grad(x):
    """d relu / dx: 1 where x > 0, else 0 (PyTorch's choice at exactly 0)."""
    return (x > 0).astype(np.result_type(x, np.float32))


def leaky_relu(x, negative_slope: float = 0.01):
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_grad(x, negative_slope: float = 0.01):
    return np.where(x > 0, 1.0, negative_slope).astype(np.result_type(x, np.float32))


def sigmoid(x):
    """1 / (1 + e^−x), computed without overflow for large |x|."""
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_grad_from_output(y):
    return y * (1 - y)


def tanh(x):
    return np.tanh(x)


def tanh_grad_from_output(y):
    return 1 - y * y
