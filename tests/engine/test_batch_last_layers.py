"""A Conv layer's output and gradients may be batch-last in memory (engine.layout): the arrays
must be the same to every caller, through the layers after it and back, in float64 against
finite differences and in float32 against the naive loop."""

from __future__ import annotations

import numpy as np
import pytest

import engine.layers_conv as layers_conv
from engine.conv import conv_naive
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.layout import is_batch_last
from engine.model import Sequential
from engine.pool import max_pool2d, max_pool_backward
from tests.engine.gradcheck import numerical_gradient

F64 = np.float64

# (in channels, out channels, kernel, stride, padding, side): LeNet's layers and odd ones
CASES = [
    (1, 6, 5, 1, "same", 12),
    (6, 16, 5, 1, "same", 8),
    (6, 16, 5, 1, "valid", 9),
    (4, 5, 3, 2, 1, 9),
    (5, 3, (3, 2), (2, 1), "same", 7),
]


@pytest.mark.parametrize(("c", "f", "k", "s", "pad", "side"), CASES)
def test_conv_layer_output_is_batch_last_and_equals_the_naive_loop(c, f, k, s, pad, side):
    rng = np.random.default_rng(0)
    layer = Conv2D(c, f, k, s, pad, rng=rng)
    layer.params["bias"][...] = rng.standard_normal(f)
    x = rng.standard_normal((12, c, side, side)).astype(np.float32)
    y = layer.forward(x)
    assert is_batch_last(y)  # the path under test, not a batch-first copy
    pads = layer._pads
    expected = conv_naive(
        x.astype(F64), layer.params["weight"].astype(F64), layer.params["bias"].astype(F64),
        s, pads,
    )  # fmt: skip
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("c", "f", "k", "s", "pad", "side"), CASES)
def test_a_batch_last_input_gives_the_same_output_and_is_left_as_it_was(c, f, k, s, pad, side):
    """The input a pool or Conv hands on (batch-last in memory): without padding its memory is
    read in place, with padding copied; either way the output and gradients equal those of the
    same values batch-first, and the input is not written."""
    rng = np.random.default_rng(1)
    layer = Conv2D(c, f, k, s, pad, rng=rng)
    layer.params["bias"][...] = rng.standard_normal(f)
    x = rng.standard_normal((12, c, side, side)).astype(np.float32)
    x_last = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    kept = x_last.copy()
    assert is_batch_last(x_last) and np.array_equal(x_last, x)
    y_first = layer.forward(x).copy()
    dout = rng.standard_normal(y_first.shape).astype(np.float32)
    dx_first = layer.backward(dout).copy()
    dw_first = layer.grads["weight"].copy()
    y_last = layer.forward(x_last)
    np.testing.assert_array_equal(y_last, y_first)
    np.testing.assert_array_equal(layer.backward(dout), dx_first)
    np.testing.assert_array_equal(layer.grads["weight"], dw_first)
    np.testing.assert_array_equal(x_last, kept)


def norm_error(analytic, numeric) -> float:
    """‖a − n‖ / ‖n‖. The element-wise rel_error trips on gradients near zero here: summed over
    up to 400 terms, the finite differences carry about 1e-9 of noise, while a wrong gradient
    is off by its own size."""
    return float(np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric))


@pytest.mark.parametrize(("c", "f", "k", "s", "pad", "side"), CASES)
def test_conv_layer_gradients_on_batch_last_arrays_match_finite_differences(c, f, k, s, pad, side):
    layer = Conv2D(c, f, k, s, pad, rng=np.random.default_rng(1), dtype=F64)
    x = np.random.default_rng(2).standard_normal((8, c, side, side))
    y = layer.forward(x)
    dout = np.random.default_rng(3).standard_normal(y.shape)
    dx = layer.backward(dout)
    assert is_batch_last(y) and is_batch_last(dx)
    grads = {key: g.copy() for key, g in layer.grads.items()}

    def run():
        return layer.forward(x)

    assert norm_error(dx, numerical_gradient(run, x, dout)) < 1e-8
    for key, param in layer.params.items():
        assert norm_error(grads[key], numerical_gradient(run, param, dout)) < 1e-8, key


def test_conv_backward_is_the_same_for_either_memory_order_of_dout():
    rng = np.random.default_rng(3)
    layer = Conv2D(6, 16, 5, padding="same", rng=rng, dtype=F64)
    x = rng.standard_normal((10, 6, 8, 8))
    y = layer.forward(x)
    assert is_batch_last(y)
    dout = rng.standard_normal(y.shape)  # batch-first in memory
    dx_first = layer.backward(dout)
    dw_first = layer.grads["weight"].copy()
    dout_last = np.empty_like(y)  # batch-last, like y
    dout_last[...] = dout
    assert is_batch_last(dout_last)
    dx_last = layer.backward(dout_last)
    np.testing.assert_array_equal(dx_first, dx_last)
    np.testing.assert_array_equal(dw_first, layer.grads["weight"])


def test_conv_backward_in_blocks_of_samples_equals_the_whole_batch(monkeypatch):
    rng = np.random.default_rng(4)
    layer = Conv2D(6, 4, 3, padding=1, rng=rng, dtype=F64)
    x = rng.standard_normal((12, 6, 7, 7))
    dout = rng.standard_normal(layer.forward(x).shape)
    whole_dx = layer.backward(dout)
    whole_dw = layer.grads["weight"].copy()
    monkeypatch.setattr(layers_conv, "_COLS_BLOCK", 6 * 9 * 49 * 5)  # blocks of 5 samples
    block_dx = layer.backward(dout)
    np.testing.assert_allclose(block_dx, whole_dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], whole_dw, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("overlapping", [False, True])
def test_max_pool_backward_batch_last_equals_batch_first(overlapping):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((9, 3, 6, 8))
    y, indices = max_pool2d(x, 2, return_indices=True)
    dout = rng.standard_normal(y.shape)
    first = max_pool_backward(dout, indices, x.shape, overlapping)
    last = max_pool_backward(dout, indices, x.shape, overlapping, batch_last=True)
    np.testing.assert_array_equal(first, last)
    # only the non-overlapping put has a batch-last layout; the sum keeps batch-first
    assert is_batch_last(last) is (not overlapping)
    # each output gradient sits at its window's maximum
    expected = np.zeros_like(x)
    for n, ch, i, j in np.ndindex(*y.shape):
        window = x[n, ch, 2 * i : 2 * i + 2, 2 * j : 2 * j + 2]
        a, b = np.unravel_index(np.argmax(window), (2, 2))
        expected[n, ch, 2 * i + a, 2 * j + b] += dout[n, ch, i, j]
    np.testing.assert_array_equal(last, expected)


def _lenet_like(dtype):
    rng = np.random.default_rng(6)
    return Sequential(
        [
            Conv2D(1, 4, 3, padding="same", rng=rng, dtype=dtype),
            ReLU(),
            MaxPool2D(2),
            Conv2D(4, 5, 3, padding="same", rng=rng, dtype=dtype),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(5 * 2 * 2, 3, rng=rng, dtype=dtype),
        ]
    )


def test_a_network_of_batch_last_layers_matches_finite_differences():
    model = _lenet_like(F64)
    x = np.random.default_rng(7).standard_normal((8, 1, 8, 8))
    dout = np.random.default_rng(8).standard_normal((8, 3))
    model.forward(x, training=True)
    assert is_batch_last(model.layers[2]._x)  # the pool saw the conv's memory order
    dx = model.backward(dout, input_grad=True)
    grads = [g.copy() for g in model.gradients()]

    def run():
        return model.forward(x, training=True)

    assert norm_error(dx, numerical_gradient(run, x, dout)) < 1e-8
    for param, grad in zip(model.parameters(), grads, strict=True):
        assert norm_error(grad, numerical_gradient(run, param, dout)) < 1e-8


def test_float32_network_equals_its_float64_twin():
    x = np.random.default_rng(9).standard_normal((16, 1, 8, 8))
    dout = np.random.default_rng(10).standard_normal((16, 3))
    results = []
    for dtype in (np.float32, F64):
        model = _lenet_like(dtype)
        y = model.forward(x.astype(dtype), training=True)
        dx = model.backward(dout.astype(dtype), input_grad=True)
        results.append((y, dx, [g.copy() for g in model.gradients()]))
    (y32, dx32, g32), (y64, dx64, g64) = results
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)
    for a, b in zip(g32, g64, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_a_layer_decides_once_per_input_shape_and_each_shape_gets_its_own_answer():
    """conv_layer_forward keeps its checks and its choice per input shape: alternating shapes
    (one batch-last, one not; a one-sample batch) must each give the naive loop's numbers."""
    rng = np.random.default_rng(11)
    layer = Conv2D(6, 4, 3, padding="same", rng=rng, dtype=F64)
    w, b = layer.params["weight"], layer.params["bias"]
    shapes = [(12, 6, 9, 9), (1, 6, 5, 7), (12, 6, 9, 9), (3, 6, 4, 4), (1, 6, 5, 7)]
    for shape in shapes:
        x = rng.standard_normal(shape)
        expected = conv_naive(x, w, b, 1, layer._pads)
        np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12, atol=1e-12)
    assert len(layer._decisions) == 3
    w[...] = rng.standard_normal(w.shape)  # new weights: same decision, new numbers
    x = rng.standard_normal(shapes[0])
    np.testing.assert_allclose(layer.forward(x), conv_naive(x, w, b, 1, layer._pads), atol=1e-12)


@pytest.mark.parametrize("second_training", [True, False])
def test_the_backward_uses_the_last_forwards_windows(second_training):
    """The weight gradient reuses the im2col matrix the last forward built (in training); after
    another forward, of other samples or in evaluation, it must be that forward's."""
    rng = np.random.default_rng(12)
    x1, x2 = rng.standard_normal((2, 10, 6, 8, 8))
    dout = rng.standard_normal((10, 16, 8, 8))
    layer = Conv2D(6, 16, 5, padding="same", rng=np.random.default_rng(13), dtype=F64)
    twin = Conv2D(6, 16, 5, padding="same", rng=np.random.default_rng(13), dtype=F64)
    layer.forward(x1)
    assert layer._cols is not None  # the path under test
    layer.forward(x2, training=second_training)
    assert (layer._cols is not None) is second_training
    dx = layer.backward(dout)
    twin.forward(x2, training=False)  # its backward builds the matrix itself
    np.testing.assert_allclose(dx, twin.backward(dout), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.grads["weight"], twin.grads["weight"], rtol=1e-12)


def naive_conv_backward(x, w, dout, stride, pads):
    """dL/dx and dL/dW by loops over the output positions and kernel taps, float64."""
    (sh, sw), ((pt, pb), (pl, pr)) = stride, pads
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    kh, kw = w.shape[2:]
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            g = dout[:, :, i, j]  # (N, F)
            for a in range(kh):
                for b in range(kw):
                    patch = xp[:, :, i * sh + a, j * sw + b]  # (N, C)
                    dw[:, :, a, b] += g.T @ patch
                    dxp[:, :, i * sh + a, j * sw + b] += g @ w[:, :, a, b]
    return dxp[:, :, pt : pt + x.shape[2], pl : pl + x.shape[3]], dw


@pytest.mark.parametrize("seed", range(12))
def test_random_layers_forward_and_backward_equal_the_loops(seed):
    """Random channels, kernels, strides, paddings and sizes, batches big enough for the
    batch-last path: float64 to 1e-10, float32 within 1e-4 of the scale."""
    rng = np.random.default_rng(100 + seed)
    c, f = int(rng.integers(1, 7)), int(rng.integers(1, 9))
    k = (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
    stride = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    padding = [0, 1, 2, "same", "valid"][int(rng.integers(0, 5))]
    if padding == "same":
        stride = (1, 1)  # "same" keeps the size at stride 1
    h, w_ = int(rng.integers(max(k[0], 3), 13)), int(rng.integers(max(k[1], 3), 13))
    n = int(rng.integers(8, 20))
    x = rng.standard_normal((n, c, h, w_))
    for dtype, tol in ((F64, 1e-10), (np.float32, 1e-4)):
        layer = Conv2D(c, f, k, stride, padding, rng=np.random.default_rng(seed), dtype=dtype)
        layer.params["bias"][...] = rng.standard_normal(f)
        weight = layer.params["weight"].astype(F64)
        y = layer.forward(x.astype(dtype))
        expected = conv_naive(x, weight, layer.params["bias"].astype(F64), stride, layer._pads)
        scale = max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(y, expected, atol=tol * scale, rtol=0)
        dout = rng.standard_normal(y.shape)
        dx = layer.backward(dout.astype(dtype))
        dx_loop, dw_loop = naive_conv_backward(x, weight, dout, stride, layer._pads)
        for got, want in ((dx, dx_loop), (layer.grads["weight"], dw_loop)):
            scale = max(1.0, float(np.abs(want).max()))
            np.testing.assert_allclose(got, want, atol=tol * scale * 10, rtol=0)
        bias_scale = max(1.0, float(np.abs(dout).sum(axis=(0, 2, 3)).max()))
        np.testing.assert_allclose(
            layer.grads["bias"], dout.sum(axis=(0, 2, 3)), atol=tol * bias_scale, rtol=0
        )
