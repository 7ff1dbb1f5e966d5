"""engine.thin_matmul: thin products cut into pieces equal np.matmul's to rounding."""

from __future__ import annotations

import numpy as np
import pytest

from engine import thin_matmul as thin

# (M, K, N) and which way it is cut: a long sum (K), a small left matrix (N), or whole
CASES = [
    ((25, 50_176, 6), "K"),  # LeNet's first weight gradient at batch 64
    ((25, 8_192 + 37, 16), "K"),  # a last piece shorter than the others
    ((9, 70_000, 8), "K"),
    ((6, 25, 50_176), "N"),  # LeNet's first forward at batch 64
    ((6, 25, 4_096 * 3 + 5), "N"),
    ((16, 150, 6_400), None),  # not thin: one product
    ((16, 25, 50_176), None),  # a 16 × 25 left matrix: faster whole
    ((25, 900, 6), None),  # too short to cut
]


@pytest.mark.parametrize(("shape", "cut"), CASES)
def test_pieces_equal_one_product(shape, cut):
    m, k, n = shape
    rng = np.random.default_rng(m + k + n)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    assert (thin._piece(m * n, k, thin._THIN_RESULT) is not None) is (cut == "K")
    assert (thin._piece(m * k, n, thin._THIN_LEFT) is not None) is (cut == "N")
    expected = a @ b
    np.testing.assert_allclose(thin.thin_matmul(a, b), expected, rtol=1e-12, atol=1e-9)
    out = np.full((m, n), np.nan)
    assert thin.thin_matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-9)
    got32 = thin.thin_matmul(a.astype(np.float32), b.astype(np.float32))
    assert got32.dtype == np.float32
    scale = np.abs(a) @ np.abs(b)  # the float32 error grows with the sum of magnitudes
    assert np.all(np.abs(got32 - expected) <= 1e-6 * scale + 1e-6)


def test_transposed_and_strided_operands_as_a_conv_layer_passes_them():
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((25, 20_000)).astype(np.float32)
    dy = rng.standard_normal((6, 20_000)).astype(np.float32)
    got = thin.thin_matmul(cols, dy.T)  # dy.T is a transposed view
    a, b = cols.astype(np.float64), dy.T.astype(np.float64)
    assert np.all(np.abs(got - a @ b) <= 1e-6 * (np.abs(a) @ np.abs(b)))
