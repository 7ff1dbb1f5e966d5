"""Pooling against naive loops, the argmax positions, gradients and the lesson's invariance."""

import itertools

import numpy as np
import pytest

import engine.pool as pool
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


def naive_pool2d(x, k, s, p, reduce):
    """Four nested loops over a padded copy: max pads with −inf, average counts padded zeros."""
    n, c, h, w = x.shape
    fill = -np.inf if reduce is np.max else 0.0
    padded = np.full((n, c, h + 2 * p[0], w + 2 * p[1]), fill)
    padded[:, :, p[0] : p[0] + h, p[1] : p[1] + w] = x
    out_h = (h + 2 * p[0] - k[0]) // s[0] + 1
    out_w = (w + 2 * p[1] - k[1]) // s[1] + 1
    out = np.empty((n, c, out_h, out_w))
    for b, ch, i, j in itertools.product(range(n), range(c), range(out_h), range(out_w)):
        window = padded[b, ch, i * s[0] : i * s[0] + k[0], j * s[1] : j * s[1] + k[1]]
        out[b, ch, i, j] = reduce(window)
    return out


CASES = [
    # (H, W, kernel, stride, padding)
    (8, 8, 2, None, 0),
    (7, 9, 2, None, 0),
    (7, 7, 3, 2, 1),
    (10, 6, (3, 2), (1, 2), (1, 1)),
    (5, 5, 5, 1, 2),
    (6, 11, 4, 3, 2),
    (9, 9, 1, 1, 0),
]


def _pair(v):
    return (v, v) if isinstance(v, int) else v


@pytest.mark.parametrize(("h", "w", "k", "s", "p"), CASES)
def test_pool2d_matches_naive_loops(h, w, k, s, p):
    x = np.random.default_rng(h * w).normal(size=(2, 3, h, w))
    kk, pp = _pair(k), _pair(p)
    ss = kk if s is None else _pair(s)
    np.testing.assert_allclose(max_pool2d(x, k, s, p), naive_pool2d(x, kk, ss, pp, np.max))
    np.testing.assert_allclose(avg_pool2d(x, k, s, p), naive_pool2d(x, kk, ss, pp, np.mean))
    assert max_pool2d(x, k, s, p).shape[2] == pool_output_size(h, kk[0], ss[0], pp[0])


@pytest.mark.parametrize(("n", "k", "s", "p"), [(9, 2, None, 0), (10, 3, 2, 1), (6, 4, 1, 2)])
def test_pool1d_matches_the_2d_version_on_a_single_row(n, k, s, p):
    x = np.random.default_rng(n).normal(size=(2, 3, n))
    as_2d = x[:, :, None, :]
    expected_max = naive_pool2d(as_2d, (1, k), (1, s or k), (0, p), np.max)[:, :, 0]
    expected_avg = naive_pool2d(as_2d, (1, k), (1, s or k), (0, p), np.mean)[:, :, 0]
    np.testing.assert_allclose(max_pool1d(x, k, s, p), expected_max)
    np.testing.assert_allclose(avg_pool1d(x, k, s, p), expected_avg)


@pytest.mark.parametrize(("h", "w", "k", "s", "p"), CASES)
def test_argmax_indices_point_at_the_maxima(h, w, k, s, p):
    x = np.random.default_rng(7).normal(size=(2, 2, h, w))
    out, indices = max_pool2d(x, k, s, p, return_indices=True)
    planes = x.reshape(2, 2, -1)
    picked = np.take_along_axis(planes, indices.reshape(2, 2, -1), axis=-1).reshape(out.shape)
    np.testing.assert_array_equal(picked, out)
    assert indices.min() >= 0 and indices.max() < h * w  # never a padded cell


def _numeric_grad(f, x, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        old = x[index]
        x[index] = old + eps
        plus = f(x)
        x[index] = old - eps
        minus = f(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * eps)
    return grad


@pytest.mark.parametrize(("h", "w", "k", "s", "p"), CASES[:5])
def test_gradients_match_finite_differences(h, w, k, s, p):
    rng = np.random.default_rng(11)
    x = rng.normal(size=(1, 2, h, w))
    out, indices = max_pool2d(x, k, s, p, return_indices=True)
    weights = rng.normal(size=out.shape)
    numeric = _numeric_grad(lambda z: float((max_pool2d(z, k, s, p) * weights).sum()), x.copy())
    np.testing.assert_allclose(max_pool_backward(weights, indices, x.shape), numeric, atol=1e-6)
    avg_weights = rng.normal(size=avg_pool2d(x, k, s, p).shape)
    numeric = _numeric_grad(lambda z: float((avg_pool2d(z, k, s, p) * avg_weights).sum()), x.copy())
    analytic = avg_pool_backward(avg_weights, x.shape, k, s, p)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_global_pools():
    x = np.random.default_rng(0).normal(size=(2, 3, 4, 5))
    np.testing.assert_allclose(global_max_pool(x), x.max(axis=(2, 3)))
    np.testing.assert_allclose(global_avg_pool(x), x.mean(axis=(2, 3)))
    values, where = global_max_pool(x, return_indices=True)
    np.testing.assert_allclose(x.reshape(2, 3, -1)[0, 1, where[0, 1]], values[0, 1])


def test_a_dot_moved_inside_one_window_leaves_max_pooling_unchanged():
    image = np.zeros((1, 1, 8, 8))
    image[0, 0, 2, 2] = 1.0
    moved = np.zeros_like(image)
    moved[0, 0, 3, 3] = 1.0  # same 2×2 window: rows 2–3, columns 2–3
    np.testing.assert_array_equal(max_pool2d(image, 2), max_pool2d(moved, 2))
    crossed = np.zeros_like(image)
    crossed[0, 0, 4, 4] = 1.0  # into the next window: the pooled map changes
    assert not np.array_equal(max_pool2d(image, 2), max_pool2d(crossed, 2))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kernel_size": 0}, "Pool size must be between 1"),
        ({"kernel_size": 2, "stride": 0}, "Pool stride must be between 1"),
        ({"kernel_size": 2, "stride": -1}, "Pool stride must be between 1"),
        ({"kernel_size": 2.5}, "whole number"),
        ({"kernel_size": 3, "padding": 2}, "at most half the pool size"),
        ({"kernel_size": 9}, "larger than the padded input"),
        ({"kernel_size": 10**9}, "Pool size must be between 1"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        max_pool2d(np.zeros((1, 1, 6, 6)), **kwargs)


def test_activations_and_derivatives():
    x = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0])
    np.testing.assert_array_equal(relu(x), [0, 0, 0, 3, 1000])
    np.testing.assert_array_equal(relu_grad(x), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(leaky_relu(x, 0.1), [-100, -0.2, 0, 3, 1000])
    np.testing.assert_allclose(leaky_relu_grad(x, 0.1), [0.1, 0.1, 0.1, 1, 1])
    y = sigmoid(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, [0, 1 / (1 + np.exp(2)), 0.5, 1 / (1 + np.exp(-3)), 1])
    np.testing.assert_allclose(tanh(x), np.tanh(x))
    for f, grad in ((sigmoid, sigmoid_grad_from_output), (tanh, tanh_grad_from_output)):
        z = np.array([-1.5, 0.2, 2.0])
        numeric = (f(z + 1e-6) - f(z - 1e-6)) / 2e-6
        np.testing.assert_allclose(grad(f(z)), numeric, rtol=1e-6)


def test_ties_go_to_the_first_maximum_and_nan_wins():
    x = np.array([[[[1.0, 1.0], [1.0, 0.0]]]])
    _, indices = max_pool2d(x, 2, return_indices=True)
    assert indices[0, 0, 0, 0] == 0
    x = np.array([[[[1.0, 5.0], [np.nan, 0.0]]]])
    values, indices = max_pool2d(x, 2, return_indices=True)
    assert np.isnan(values[0, 0, 0, 0]) and indices[0, 0, 0, 0] == 2


@pytest.mark.parametrize("shape", [(3, 2, 8, 8), (2, 3, 7, 9), (1, 1, 2, 2), (4, 5, 28, 28)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32])
def test_the_2x2_fast_path_equals_the_general_path(shape, dtype, monkeypatch):
    """2×2 pools at stride 2 take pairwise comparisons of a reshaped view. The same maxima and
    first-maximum indices as the general path, on ReLU'd and rounded values full of ties."""
    rng = np.random.default_rng(13)
    x = np.maximum(np.round(rng.normal(size=shape), 1), 0).astype(dtype)
    fast_values, fast_indices = max_pool2d(x, 2, return_indices=True)
    monkeypatch.setattr(pool, "_max_pool_2x2", lambda x: None)
    values, indices = max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(fast_values, values)
    np.testing.assert_array_equal(fast_indices, indices)
    assert fast_indices.dtype == np.int64
    np.testing.assert_array_equal(values, naive_pool2d(x, (2, 2), (2, 2), (0, 0), np.max))


@pytest.mark.parametrize(
    ("h", "w", "k", "s", "p"), [c for c in CASES if c[3] is None or c[3] == c[2]]
)
def test_backward_without_overlap_puts_what_the_sum_adds(h, w, k, s, p):
    rng = np.random.default_rng(14)
    x = np.round(rng.normal(size=(2, 3, h, w)), 1)
    out, indices = max_pool2d(x, k, s, p, return_indices=True)
    dout = rng.normal(size=out.shape).astype(np.float32)
    summed = max_pool_backward(dout, indices, x.shape)
    put = max_pool_backward(dout, indices, x.shape, overlapping=False)
    assert put.dtype == np.float32
    np.testing.assert_allclose(put, summed, rtol=1e-7)
