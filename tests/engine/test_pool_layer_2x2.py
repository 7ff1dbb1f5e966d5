"""MaxPool2D(2) in a network keeps masks of each window's winner (engine.pool.Winners2x2)
instead of int64 positions. Its output and gradient must be those of a loop over the windows:
the first maximum in row-major order wins a tie, a NaN sends the layer to the general path,
an odd last row or column gets no gradient, and non-finite gradients reach only winners; in
either memory order, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest

from engine.layers import MaxPool2D
from engine.layout import batch_first_view, is_batch_last
from engine.pool import max_pool2d, max_pool_backward
from tests.engine.gradcheck import numerical_gradient


def loop_pool(x):
    """(out, dL/dx for dout) by walking every window: the reference."""
    n, c, h, w = x.shape
    out = np.empty((n, c, h // 2, w // 2), x.dtype)
    winner = np.empty(out.shape + (2,), int)
    for i in np.ndindex(*out.shape):
        a, b, y, z = i
        window = [(2 * y + r, 2 * z + col) for r in range(2) for col in range(2)]
        values = [x[a, b, p, q] for p, q in window]
        first = max(range(4), key=lambda k: (values[k], -k))  # the first of the largest
        out[i] = values[first]
        winner[i] = window[first]
    return out, winner


def loop_backward(dout, winner, shape):
    dx = np.zeros(shape, dout.dtype)
    for i in np.ndindex(*dout.shape):
        p, q = winner[i]
        dx[i[0], i[1], p, q] = dout[i]
    return dx


def batch_last(a):
    return batch_first_view(np.ascontiguousarray(a.transpose(1, 2, 3, 0)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["batch-first", "batch-last"])
@pytest.mark.parametrize("shape", [(9, 3, 8, 8), (5, 2, 7, 9), (2, 1, 2, 2), (1, 4, 5, 6)])
def test_forward_and_backward_equal_the_loop(shape, order, dtype):
    rng = np.random.default_rng(sum(shape))
    # few distinct values: many ties, which must go to the first cell in row-major order
    x = rng.integers(-2, 3, shape).astype(dtype)
    if order == "batch-last":
        x = batch_last(x)
    layer = MaxPool2D(2)
    y = layer.forward(x)
    assert layer._winners is not None  # the path under test
    expected, winner = loop_pool(np.array(x))
    np.testing.assert_array_equal(y, expected)
    dout = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, loop_backward(dout, winner, x.shape))
    assert dx.dtype == dtype and is_batch_last(dx) == is_batch_last(x)
    # the same as the general path's indices, bit for bit
    _, indices = max_pool2d(np.array(x), 2, return_indices=True)
    np.testing.assert_array_equal(dx, max_pool_backward(dout, indices, x.shape, False))


def test_gradient_matches_finite_differences_in_float64():
    rng = np.random.default_rng(3)
    x = batch_last(rng.standard_normal((4, 2, 6, 7)))
    layer = MaxPool2D(2)
    weights = rng.standard_normal((4, 2, 3, 3))

    numeric = numerical_gradient(lambda: layer.forward(x), x, weights)  # x perturbed in place
    assert is_batch_last(x)
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(weights), numeric, rtol=1e-6, atol=1e-8)


def test_a_nan_takes_the_general_path_and_wins_its_window():
    x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)
    x[1, 0, 0, 1] = np.nan
    layer = MaxPool2D(2)
    y = layer.forward(x)
    assert layer._winners is None and np.isnan(y[1, 0, 0, 0]) and not np.isnan(y[0]).any()
    dx = layer.backward(np.ones_like(y))
    assert dx[1, 0, 0, 1] == 1 and dx[1, 0, 0, 0] == 0 and dx.sum() == y.size


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_gradient_reaches_only_its_winner(bad):
    rng = np.random.default_rng(5)
    x = batch_last(rng.standard_normal((8, 2, 4, 4)).astype(np.float32))
    layer = MaxPool2D(2)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    dout[3, 1, 1, 0] = bad
    _, winner = loop_pool(np.array(x))
    expected = loop_backward(dout, winner, x.shape)
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, expected)  # NaN where expected, 0 in the other cells
    assert np.count_nonzero(~np.isfinite(dx)) == 1


def test_evaluation_then_backward_uses_that_forward():
    rng = np.random.default_rng(7)
    layer = MaxPool2D(2)
    first = rng.standard_normal((3, 2, 4, 4))
    layer.forward(first)
    x = rng.standard_normal((3, 2, 4, 4))
    layer.forward(x, training=False)
    dout = rng.standard_normal((3, 2, 2, 2))
    _, winner = loop_pool(x)
    np.testing.assert_array_equal(layer.backward(dout), loop_backward(dout, winner, x.shape))
