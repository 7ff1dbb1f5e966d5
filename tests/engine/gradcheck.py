"""Gradient checking by centred finite differences in float64, in the style of CS231n's
gradient_check.py: perturb one value at a time by ±h and compare the slope of the loss with
what backward computed, through a relative error.

    errors = check_layer(Conv2D(2, 3, 3, dtype=np.float64), x)   # {"x": 3e-10, "weight": ...}
    assert max(errors.values()) < 1e-7

The scalar that gets differentiated is sum(output · dout) for a fixed random dout, whose
gradient with respect to the output is dout itself: exactly what backward receives.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(a, b) -> float:
    """max |a − b| / max(1e-8, |a| + |b|): about 1e-7 or less means the gradients agree."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"Cannot compare gradients shaped {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f: Callable[[], np.ndarray], x: np.ndarray, dout, h: float = 1e-5):
    """d sum(f() · dout) / dx by centred differences; f reads x, which is perturbed in place
    (and restored). x must be a float64 array."""
    if x.dtype != np.float64:
        raise ValueError(f"Gradient checks need float64 arrays (got {x.dtype}).")
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.sum(f() * dout)
        x[i] = old - h
        minus = np.sum(f() * dout)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def numerical_loss_gradient(loss: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6):
    """d loss(x) / dx by centred differences, for a loss returning a number."""
    x = np.array(x, dtype=np.float64)
    return numerical_gradient(lambda: np.float64(loss(x)), x, 1.0, h)


def check_layer(
    layer,
    x: np.ndarray,
    training: bool = True,
    prepare: Callable | None = None,
    seed: int = 0,
    h: float = 1e-5,
) -> dict[str, float]:
    """Relative errors of layer.backward against finite differences: one entry for the input
    (when it is a float array) and one per parameter.

    ``prepare(layer)`` runs before every forward pass, e.g. to reset Dropout's generator so
    each pass draws the same mask.
    """
    rng = np.random.default_rng(seed)
    prepare = prepare or (lambda layer: None)

    def run() -> np.ndarray:
        prepare(layer)
        return layer.forward(x, training=training)

    out = run()
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    errors = {}
    if x.dtype.kind == "f":
        errors["x"] = rel_error(dx, numerical_gradient(run, x, dout, h))
    for key, param in layer.params.items():
        errors[key] = rel_error(analytic[key], numerical_gradient(run, param, dout, h))
    return errors
