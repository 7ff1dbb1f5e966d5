"""engine.conv against its loop reference, SciPy, NumPy and hand-computed values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine.conv as ec
import engine.conv_batch_last as batch_last
import engine.conv_fast as fast
from engine.conv import (
    conv,
    conv1d,
    conv2d,
    conv3d,
    conv_naive,
    output_size,
    pad,
    resolve_padding,
    true_convolve,
)

signal = pytest.importorskip("scipy.signal")

BY_NDIM = {1: conv1d, 2: conv2d, 3: conv3d}

# (spatial size, kernel size, stride, padding, dilation, padding_mode, N, C, F, bias)
CASES = [
    # 1-D
    ((11,), (3,), 1, 0, 1, "zeros", 1, 1, 1, False),
    ((12,), (4,), 1, "same", 1, "zeros", 2, 3, 2, True),
    ((13,), (5,), 2, "full", 1, "zeros", 1, 2, 3, True),
    ((10,), (3,), 3, 2, 2, "reflect", 2, 1, 2, False),
    ((9,), (2,), (2,), (3,), (3,), "replicate", 1, 2, 1, True),
    ((8,), (3,), 1, "same", 2, "circular", 3, 2, 2, True),
    ((7,), (7,), 1, "valid", 1, "zeros", 2, 1, 1, False),
    ((16,), (6,), 4, ((2, 5),), 1, "reflect", 1, 3, 4, True),
    # 2-D
    ((9, 8), (3, 3), 1, 0, 1, "zeros", 1, 1, 1, False),
    ((10, 9), (4, 2), 1, "same", 1, "zeros", 2, 3, 4, True),
    ((8, 11), (3, 5), (2, 1), "full", 1, "zeros", 1, 2, 3, True),
    ((9, 9), (3, 3), 2, (1, 2), (2, 1), "reflect", 2, 2, 2, False),
    ((7, 10), (2, 3), (1, 3), "same", (1, 2), "replicate", 1, 3, 2, True),
    ((6, 6), (3, 3), 1, "full", 1, "circular", 2, 1, 3, True),
    ((12, 7), (5, 4), (3, 2), ((1, 3), (0, 2)), 1, "zeros", 1, 2, 2, True),
    ((8, 8), (2, 2), 1, "same", 3, "reflect", 3, 1, 1, False),
    ((5, 5), (5, 5), 1, "valid", 1, "zeros", 2, 2, 2, True),
    ((13, 12), (6, 6), 2, "same", 1, "circular", 1, 1, 2, False),
    # 3-D
    ((6, 5, 7), (3, 3, 3), 1, 0, 1, "zeros", 1, 1, 1, False),
    ((6, 6, 5), (2, 3, 2), 1, "same", 1, "zeros", 2, 2, 3, True),
    ((5, 7, 6), (3, 2, 3), (2, 1, 2), "full", 1, "replicate", 1, 2, 2, True),
    ((7, 6, 6), (3, 3, 2), 1, (1, 0, 2), (2, 1, 1), "reflect", 1, 3, 2, False),
    ((6, 6, 6), (2, 2, 2), 2, "same", 2, "circular", 2, 1, 2, True),
]

IDS = [f"{len(c[0])}d-{i}" for i, c in enumerate(CASES)]


def make_case(case, seed=0, dtype=np.float64):
    size, kernel, stride, padding, dilation, mode, n, c, f, bias = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, *size)).astype(dtype)
    w = rng.standard_normal((f, c, *kernel)).astype(dtype)
    b = rng.standard_normal(f).astype(dtype) if bias else None
    kwargs = dict(stride=stride, padding=padding, dilation=dilation, padding_mode=mode)
    return x, w, b, kwargs


@pytest.fixture(params=["shift", "im2col", "im2col-batch-last"])
def direct_strategy(request, monkeypatch):
    """Force one of the direct strategies, so each is checked on every case (the batch-last
    im2col takes every zero-padded case, whatever its batch and channels)."""
    if request.param == "shift":
        monkeypatch.setattr(fast, "_direct_costs", lambda *a: (0.0, 1.0))
    else:
        monkeypatch.setattr(fast, "_direct_costs", lambda *a: (1.0, 0.0))
    forced = request.param == "im2col-batch-last"
    monkeypatch.setattr(batch_last, "_BATCH_LAST_MIN_CHANNELS", 1 if forced else 10**9)
    monkeypatch.setattr(batch_last, "_BATCH_LAST_MIN_SAMPLES", 1)
    monkeypatch.setattr(batch_last, "_TRANSPOSE_TILE", 3)  # several tiles even on tiny outputs
    return request.param


# --- against the loop reference ------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_direct_matches_naive(case, direct_strategy):
    x, w, b, kwargs = make_case(case)
    expected = conv_naive(x, w, b, **kwargs)
    got = BY_NDIM[x.ndim - 2](x, w, b, method="direct", **kwargs)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fft_matches_naive(case):
    x, w, b, kwargs = make_case(case, seed=1)
    expected = conv_naive(x, w, b, **kwargs)
    got = BY_NDIM[x.ndim - 2](x, w, b, method="fft", **kwargs)
    assert got.dtype == np.float64
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", CASES[::4], ids=IDS[::4])
def test_auto_matches_naive(case):
    x, w, b, kwargs = make_case(case, seed=2)
    np.testing.assert_allclose(conv(x, w, b, **kwargs), conv_naive(x, w, b, **kwargs), rtol=1e-9)


@pytest.mark.parametrize("case", [CASES[1], CASES[11], CASES[14], CASES[20]])
@pytest.mark.parametrize("method", ["shift", "im2col", "fft"])
def test_blocked_and_threaded_paths(case, method, monkeypatch):
    """Tiny blocks and thresholds push small inputs through the chunked and threaded code."""
    monkeypatch.setattr(fast, "_SHIFT_BLOCK", 7)
    monkeypatch.setattr(fast, "_IM2COL_BLOCK", 40)
    monkeypatch.setattr(fast, "_PARALLEL_MIN_NS", 0.0)
    monkeypatch.setattr(fast, "_THREADS", 2)
    if method != "fft":
        costs = (0.0, 1.0) if method == "shift" else (1.0, 0.0)
        monkeypatch.setattr(fast, "_direct_costs", lambda *a: costs)
    x, w, b, kwargs = make_case(case, seed=3)
    got = conv(x, w, b, method="fft" if method == "fft" else "direct", **kwargs)
    np.testing.assert_allclose(got, conv_naive(x, w, b, **kwargs), rtol=1e-9, atol=1e-11)


def test_zero_taps_and_zero_filter(direct_strategy):
    """Shift-and-add skips zero weights; an all-zero filter must still give zeros (plus bias)."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 2, 7, 7))
    w = rng.standard_normal((3, 2, 3, 3))
    w[0] = 0.0
    w[1, :, 1, :] = 0.0
    b = np.array([0.5, -1.0, 2.0])
    got = conv2d(x, w, b, padding=1, method="direct")
    np.testing.assert_allclose(got, conv_naive(x, w, b, padding=1), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(got[:, 0], 0.5)


# --- hand-computed values --------------------------------------------------------------------


def test_small_1d_by_hand():
    x = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    w = np.array([[[1.0, 0.0, -1.0]]])
    for method in ("direct", "fft"):
        np.testing.assert_allclose(conv1d(x, w, method=method)[0, 0], [-2, -2, -2], atol=1e-12)
        np.testing.assert_allclose(
            conv1d(x, w, stride=2, method=method)[0, 0], [-2, -2], atol=1e-12
        )
        np.testing.assert_allclose(
            conv1d(x, w, padding=1, method=method)[0, 0], [-2, -2, -2, -2, 4], atol=1e-12
        )
        # dilation 2: x[i] - x[i + 4]
        np.testing.assert_allclose(
            conv1d(x, w, dilation=2, padding=2, method=method)[0, 0],
            [-3, -4, -4, 2, 3],
            atol=1e-12,
        )
        np.testing.assert_allclose(
            conv1d(x, w, np.array([10.0]), method=method)[0, 0], [8, 8, 8], atol=1e-12
        )


def test_border_modes_by_hand():
    x = np.array([[[1.0, 2.0, 3.0]]])
    w = np.array([[[1.0, 1.0, 1.0]]])  # sums of three neighbours
    expected = {
        "zeros": [3, 6, 5],  # 0+1+2, 1+2+3, 2+3+0
        "reflect": [5, 6, 7],  # 2+1+2, 1+2+3, 2+3+2
        "replicate": [4, 6, 8],  # 1+1+2, 1+2+3, 2+3+3
        "circular": [6, 6, 6],  # 3+1+2, 1+2+3, 2+3+1
    }
    for mode, values in expected.items():
        for method in ("direct", "fft"):
            got = conv1d(x, w, padding="same", padding_mode=mode, method=method)
            np.testing.assert_allclose(got[0, 0], values, atol=1e-12, err_msg=mode)


def test_cross_correlation_does_not_flip():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 1.0
    w = np.arange(9.0).reshape(1, 1, 3, 3)
    for method in ("direct", "fft"):
        got = conv2d(x, w, padding="same", method=method)[0, 0]
        # an impulse under cross-correlation draws the kernel rotated by 180°
        np.testing.assert_allclose(got[1:4, 1:4], w[0, 0, ::-1, ::-1], atol=1e-12)
        got = true_convolve(x, w, padding="same", method=method)[0, 0]
        np.testing.assert_allclose(got[1:4, 1:4], w[0, 0], atol=1e-12)


# --- against SciPy, single channel -----------------------------------------------------------


@pytest.mark.parametrize(
    "shape,kshape", [((40,), (5,)), ((17, 23), (4, 3)), ((7, 8, 9), (3, 2, 4))]
)
@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_matches_scipy_correlate(shape, kshape, mode, method):
    rng = np.random.default_rng(5)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(kshape)
    expected = signal.correlate(x, w, mode=mode, method="direct")
    got = conv(x[None, None], w[None, None], padding=mode, method=method)[0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    "shape,kshape", [((40,), (5,)), ((17, 23), (4, 3)), ((7, 8, 9), (3, 2, 4))]
)
@pytest.mark.parametrize("mode", ["valid", "full"])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_true_convolve_matches_scipy_convolve(shape, kshape, mode, method):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(kshape)
    expected = signal.convolve(x, w, mode=mode, method="direct")
    got = true_convolve(x[None, None], w[None, None], padding=mode, method=method)[0, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_true_convolve_matches_numpy_convolve():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    w = np.array([1.0, 10.0, 100.0])
    got = true_convolve(x[None, None], w[None, None], padding="full")[0, 0]
    np.testing.assert_allclose(got, np.convolve(x, w), atol=1e-12)


@pytest.mark.parametrize("case", CASES[::3], ids=IDS[::3])
def test_true_convolve_is_correlation_with_flipped_kernel(case):
    x, w, b, kwargs = make_case(case, seed=7)
    flipped = np.flip(w, axis=tuple(range(2, w.ndim)))
    np.testing.assert_allclose(
        true_convolve(x, w, b, **kwargs), conv_naive(x, flipped, b, **kwargs), rtol=1e-9
    )


# --- "same" padding ----------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("dilation", [1, 2, 3])
def test_same_keeps_size(k, dilation):
    rng = np.random.default_rng(k)
    for nd, size in ((1, (13,)), (2, (9, 8)), (3, (5, 6, 7))):
        x = rng.standard_normal((1, 1, *size))
        w = rng.standard_normal((1, 1, *(k,) * nd))
        for method in ("direct", "fft"):
            out = BY_NDIM[nd](x, w, padding="same", dilation=dilation, method=method)
            assert out.shape[2:] == size


def test_same_puts_the_extra_pad_after():
    x = np.arange(1.0, 9.0)[None, None]  # (1, 1, 8)
    for j, expected in (
        (0, [0, 1, 2, 3, 4, 5, 6, 7]),  # reads x[i - 1]: the single pad is before
        (1, [1, 2, 3, 4, 5, 6, 7, 8]),  # reads x[i]
        (3, [3, 4, 5, 6, 7, 8, 0, 0]),  # reads x[i + 2]: the two pads are after
    ):
        w = np.zeros((1, 1, 4))
        w[0, 0, j] = 1.0
        for method in ("direct", "fft"):
            got = conv1d(x, w, padding="same", method=method)[0, 0]
            np.testing.assert_allclose(got, expected, atol=1e-12)
    assert resolve_padding("same", (4,), 1, 1) == ((1, 2),)


def test_same_at_stride_two_gives_ceil():
    x = np.ones((1, 1, 9, 10))
    w = np.ones((1, 1, 3, 3))
    assert conv2d(x, w, padding="same", stride=2).shape == (1, 1, 5, 5)


# --- resolve_padding, output_size ------------------------------------------------------------


def test_resolve_padding_forms():
    assert resolve_padding(2, (3, 3), 1, 2) == ((2, 2), (2, 2))
    assert resolve_padding((1, 0), (3, 3), 1, 2) == ((1, 1), (0, 0))
    assert resolve_padding(((1, 2), 3), (3, 3), 1, 2) == ((1, 2), (3, 3))
    assert resolve_padding("valid", (5, 5), 1, 2) == ((0, 0), (0, 0))
    assert resolve_padding("same", (3, 4), 1, 2) == ((1, 1), (1, 2))
    assert resolve_padding("same", (3, 4), (2, 3), 2) == ((2, 2), (4, 5))
    assert resolve_padding("full", (3, 2), (1, 4), 2) == ((2, 2), (4, 4))
    assert resolve_padding("SAME", (3,)) == ((1, 1),)


def test_output_size_matches_actual_shapes():
    x_len = {n: np.ones((1, 1, n)) for n in range(1, 10)}
    checked = 0
    for n in range(1, 10):
        for k in range(1, 5):
            w = np.ones((1, 1, k))
            for s in (1, 2, 3):
                for p in (0, 1, 2, (0, 2), (3, 1), "valid", "same", "full"):
                    for d in (1, 2, 3):
                        padding = (p,) if isinstance(p, tuple) else p
                        try:
                            actual = conv1d(x_len[n], w, stride=s, padding=padding, dilation=d)
                        except ValueError:
                            with pytest.raises(ValueError, match="larger than the padded input"):
                                output_size(n, k, s, p, d)
                            continue
                        assert output_size(n, k, s, p, d) == actual.shape[2], (n, k, s, p, d)
                        checked += 1
    assert checked > 1000


def test_output_size_formula():
    assert output_size(28, 5) == 24
    assert output_size(28, 5, padding=2) == 28
    assert output_size(28, 3, stride=2, padding=1) == 14
    assert output_size(10, 3, dilation=2) == 6
    assert output_size(10, 3, padding="full") == 12
    assert output_size(10, 4, stride=3, padding=(0, 2)) == 3


def test_output_size_in_two_dimensions():
    x = np.ones((1, 2, 11, 14))
    w = np.ones((3, 2, 4, 3))
    out = conv2d(x, w, stride=(2, 3), padding=(1, 2), dilation=(2, 1))
    assert out.shape == (
        1,
        3,
        output_size(11, 4, 2, 1, 2),
        output_size(14, 3, 3, 2, 1),
    )


# --- pad -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode,np_mode",
    [("zeros", "constant"), ("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")],
)
def test_pad_matches_numpy(mode, np_mode):
    x = np.random.default_rng(8).standard_normal((2, 3, 5, 6))
    pads = ((1, 2), (3, 0))
    expected = np.pad(x, ((0, 0), (0, 0), *pads), mode=np_mode)
    np.testing.assert_array_equal(pad(x, pads, mode), expected)
    # 1-D and 3-D too
    np.testing.assert_array_equal(
        pad(x[0], ((2, 4),), mode), np.pad(x[0], ((0, 0), (0, 0), (2, 4)), mode=np_mode)
    )
    np.testing.assert_array_equal(
        pad(x, ((0, 1), (1, 0), (2, 2)), mode),
        np.pad(x, ((0, 0), (0, 1), (1, 0), (2, 2)), mode=np_mode),
    )


def test_pad_limits_like_pytorch():
    x = np.ones((1, 1, 4, 4))
    with pytest.raises(ValueError, match="Reflect padding must be smaller"):
        pad(x, ((4, 0), (0, 0)), "reflect")
    assert pad(x, ((3, 3), (0, 0)), "reflect").shape == (1, 1, 10, 4)
    with pytest.raises(ValueError, match="Circular padding can wrap at most once"):
        pad(x, ((0, 5), (0, 0)), "circular")
    assert pad(x, ((4, 4), (0, 0)), "circular").shape == (1, 1, 12, 4)
    assert pad(x, ((9, 9), (9, 9)), "replicate").shape == (1, 1, 22, 22)
    with pytest.raises(ValueError, match="Reflect padding must be smaller"):
        conv2d(x, np.ones((1, 1, 3, 3)), padding=4, padding_mode="reflect")
    with pytest.raises(ValueError, match="Padding mode must be one of"):
        pad(x, ((1, 1), (1, 1)), "mirror")
    with pytest.raises(ValueError, match="Padding must be a whole number ≥ 0"):
        pad(x, ((-1, 1), (1, 1)), "zeros")


def test_pad_without_padding_returns_input():
    x = np.ones((1, 1, 3))
    assert pad(x, ((0, 0),), "reflect") is x


# --- dispatch and dtypes -----------------------------------------------------------------------


def test_conv_dispatches_on_ndim():
    rng = np.random.default_rng(9)
    for nd, fn in BY_NDIM.items():
        x = rng.standard_normal((1, 2, *(6,) * nd))
        w = rng.standard_normal((3, 2, *(3,) * nd))
        np.testing.assert_array_equal(conv(x, w, padding=1), fn(x, w, padding=1))
    with pytest.raises(ValueError, match="3, 4 or 5 axes"):
        conv(np.ones((3, 3)), np.ones((1, 1, 3)))


@pytest.mark.parametrize("method", ["direct", "fft"])
def test_float32_in_float32_out(method):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 40, 36)).astype(np.float32)
    w = rng.standard_normal((4, 3, 5, 5)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    got = conv2d(x, w, b, padding="same", method=method)
    assert got.dtype == np.float32
    expected = conv2d(
        x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), padding="same"
    )
    assert expected.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())


@pytest.mark.parametrize(
    ("n", "c", "f", "size", "k", "padding", "stride", "dilation", "expect_batch_last"),
    [
        (16, 6, 16, 14, 5, 0, 1, 1, True),  # LeNet's second convolution
        (12, 16, 8, 9, 3, 1, 2, 1, True),
        (9, 4, 5, 11, 3, 2, 1, 2, True),
        (16, 1, 6, 28, 5, 2, 1, 1, False),  # one channel: batch-first is faster
        (2, 16, 8, 9, 3, 1, 1, 1, False),  # two samples
    ],
)
def test_cnn_layer_shapes_take_the_batch_last_im2col(
    n, c, f, size, k, padding, stride, dilation, expect_batch_last
):
    """The path CNN layers take by default, in float32 within 1e-5 of the float64 loop, and
    in float64 to 1e-12."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((n, c, size, size))
    w = rng.standard_normal((f, c, k, k))
    b = rng.standard_normal(f)
    kwargs = dict(stride=stride, padding=padding, dilation=dilation)
    plan = ec._plan(x, w, b, stride, padding, dilation, "zeros", 2, "conv2d")
    assert batch_last.batch_last_suits(plan, w) is expect_batch_last
    expected = conv_naive(x, w, b, **kwargs)
    np.testing.assert_allclose(conv2d(x, w, b, **kwargs), expected, rtol=1e-12, atol=1e-12)
    got32 = conv2d(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), **kwargs)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_float32_big_image_both_methods_agree():
    """The benchmark's shape, smaller: shift-and-add vs FFT in float32."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((1, 1, 300, 280)).astype(np.float32)
    w = rng.standard_normal((1, 1, 7, 7)).astype(np.float32)
    a = conv2d(x, w, padding="same", method="direct")
    b = conv2d(x, w, padding="same", method="fft")
    assert a.dtype == b.dtype == np.float32
    expected = conv2d(x.astype(np.float64), w.astype(np.float64), padding="same", method="direct")
    scale = np.abs(expected).max()
    np.testing.assert_allclose(a, expected, rtol=1e-4, atol=1e-5 * scale)
    np.testing.assert_allclose(b, expected, rtol=1e-4, atol=1e-5 * scale)


def test_integer_and_mixed_inputs_give_float64():
    x = np.arange(16).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 2, 2), dtype=np.int32)
    out = conv2d(x, w)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out[0, 0], [[10, 14, 18], [26, 30, 34], [42, 46, 50]])
    assert conv2d(x.astype(np.float32), w.astype(np.float64)).dtype == np.float64


def test_naive_accepts_lists_and_is_float64():
    out = conv_naive([[[1, 2, 3]]], [[[1, 1]]])
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [[[3, 5]]])


def test_auto_method_choice_on_big_images():
    """The cost model: a 3×3 kernel on 1024×1024 goes direct, 31×31 goes FFT."""
    x = np.zeros((1, 1, 1024, 1024), dtype=np.float32)
    rng = np.random.default_rng(12)
    for k, expected in ((3, "direct"), (31, "fft")):
        w = rng.standard_normal((1, 1, k, k)).astype(np.float32)
        plan = ec._plan(x, w, None, 1, "same", 1, "zeros", 2, "conv2d")
        assert fast.choose(plan, w) == expected
    # a small CNN layer stays direct (im2col + matmul)
    x = np.zeros((64, 16, 14, 14), dtype=np.float32)
    w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
    assert fast.choose(ec._plan(x, w, None, 1, 0, 1, "zeros", 2, "conv2d"), w) == "direct"


def test_fast_len_is_5_smooth_and_minimal():
    def smooth(m):
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in range(1, 2000):
        got = fast.fast_len(n)
        assert got >= n and smooth(got)
        assert not any(smooth(m) for m in range(n, got))


# --- errors ------------------------------------------------------------------------------------

X2 = np.ones((1, 1, 5, 5))
W2 = np.ones((1, 1, 3, 3))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(stride=0), r"Stride must be a whole number ≥ 1 \(got 0\)\."),
        (dict(stride=-2), r"Stride must be a whole number ≥ 1 \(got -2\)\."),
        (dict(stride=5000), r"Stride must be at most 4096 \(got 5000\)\."),
        (dict(stride=1.5), r"Stride must be a whole number ≥ 1 \(got 1\.5\)\."),
        (dict(stride=True), r"Stride must be a whole number"),
        (dict(stride="2"), r"Stride must be a whole number"),
        (dict(stride=(1, 1, 1)), r"Stride needs one value per spatial axis \(2 for a 2-D"),
        (dict(dilation=0), r"Dilation must be a whole number ≥ 1 \(got 0\)\."),
        (dict(dilation=10**6), r"Dilation must be at most 4096"),
        (dict(padding=-1), r"Padding must be a whole number ≥ 0 \(got -1\)\."),
        (dict(padding="middle"), r"Padding must be a whole number ≥ 0, one per axis, or one of"),
        (dict(padding=None), r"Padding must be a whole number ≥ 0, one per axis, or one of"),
        (dict(padding=(1, 2, 3)), r"Padding needs one value per spatial axis"),
        (dict(padding_mode="mirror"), r"Padding mode must be one of 'zeros', 'reflect'"),
        (dict(method="magic"), r"Method must be one of 'auto', 'direct', 'fft'"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        conv2d(X2, W2, **kwargs)


def test_kernel_larger_than_padded_input():
    message = (
        r"The kernel \(7×7 after dilation\) is larger than the padded input \(5×5\); "
        r"use 'same' or 'full' padding or a smaller kernel\."
    )
    with pytest.raises(ValueError, match=message):
        conv2d(X2, np.ones((1, 1, 7, 7)), padding="valid")
    with pytest.raises(ValueError, match=r"\(5×5 after dilation\) is larger than the padded"):
        conv2d(X2[:, :, :4], W2, dilation=2)
    # 'same' and 'full' always fit
    assert conv2d(X2, np.ones((1, 1, 7, 7)), padding="same").shape == (1, 1, 5, 5)
    assert conv2d(X2, np.ones((1, 1, 7, 7)), padding="full").shape == (1, 1, 11, 11)


def test_shape_errors():
    with pytest.raises(ValueError, match=r"x has 3 input channels but the kernel expects 1"):
        conv2d(np.ones((1, 3, 5, 5)), W2)
    with pytest.raises(ValueError, match=r"conv2d expects x shaped \(N, C, H, W\)"):
        conv2d(np.ones((5, 5)), W2)
    with pytest.raises(ValueError, match=r"conv1d expects the kernel w shaped \(F, C, K\)"):
        conv1d(np.ones((1, 1, 5)), np.ones((1, 1, 3, 3)))
    with pytest.raises(ValueError, match=r"bias needs one value per filter: expected shape \(1,\)"):
        conv2d(X2, W2, np.ones(2))
    with pytest.raises(ValueError, match="empty"):
        conv2d(np.ones((1, 1, 0, 5)), W2)
    with pytest.raises(ValueError, match="real numbers"):
        conv2d(X2 + 1j, W2)
    with pytest.raises(ValueError, match="3, 4 or 5 axes"):
        true_convolve(np.ones(5), np.ones(3))
    with pytest.raises(ValueError, match="at least one tap"):
        resolve_padding("same", (0, 3))


def test_engine_imports_only_numpy():
    code = (
        "import sys, engine, engine.conv, engine.kernels; "
        "bad = [m for m in ('scipy', 'PIL', 'fastapi', 'jinja2', 'torch') if m in sys.modules]; "
        "sys.exit(', '.join(bad) or None)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr
