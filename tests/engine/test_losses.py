"""engine.losses: hand-derived values and gradients, finite differences, extreme inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.losses import (
    BCE_EPS,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    mse,
    softmax,
)
from tests.engine.gradcheck import numerical_loss_gradient, rel_error

# --- hand-derived values ---------------------------------------------------------------------


def test_mse_by_hand():
    value, grad = mse(np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 0.0]))
    assert value == pytest.approx(13 / 3)
    np.testing.assert_allclose(grad, [0, 4 / 3, 2])  # 2·(pred − target)/n


def test_binary_cross_entropy_by_hand():
    value, grad = binary_cross_entropy(np.array([0.5, 0.9]), np.array([1.0, 0.0]))
    assert value == pytest.approx(-(math.log(0.5) + math.log(0.1)) / 2)
    np.testing.assert_allclose(grad, [-1.0, 5.0])  # (p − t) / (p(1 − p)) / n


def test_binary_cross_entropy_clamps_the_log_at_minus_100():
    value, grad = binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    assert value == 100.0  # both logs clamped at −100, as PyTorch
    np.testing.assert_allclose(grad, [-0.5 / BCE_EPS, 0.5 / BCE_EPS])  # finite
    value, grad = binary_cross_entropy(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    assert value == 0.0
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def test_bce_with_logits_by_hand_and_at_extremes():
    value, grad = binary_cross_entropy_with_logits(np.array([0.0]), np.array([1.0]))
    assert value == pytest.approx(math.log(2))
    np.testing.assert_allclose(grad, [-0.5])  # sigmoid(0) − 1
    value, grad = binary_cross_entropy_with_logits(np.array([1e4, -1e4]), np.array([0.0, 1.0]))
    assert value == pytest.approx(1e4)  # each costs 1e4 nats, the mean too
    np.testing.assert_allclose(grad, [0.5, -0.5])
    value, grad = binary_cross_entropy_with_logits(np.array([1e4, -1e4]), np.array([1.0, 0.0]))
    assert value == 0.0
    np.testing.assert_array_equal(grad, [0.0, 0.0])


def test_cross_entropy_by_hand():
    value, grad = cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    assert value == pytest.approx(math.log(4))
    np.testing.assert_allclose(grad, [[-0.375, 0.125, 0.125, 0.125], [0.125, 0.125, 0.125, -0.375]])
    logits = np.array([[math.log(1), math.log(3)]])  # softmax (0.25, 0.75)
    value, grad = cross_entropy(logits, np.array([1]))
    assert value == pytest.approx(-math.log(0.75))
    np.testing.assert_allclose(grad, [[0.25, -0.25]])


def test_cross_entropy_at_extreme_logits():
    logits = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]])
    value, grad = cross_entropy(logits, np.array([0, 1]))
    assert value == pytest.approx((0 + 2e4) / 2)
    np.testing.assert_allclose(grad, [[0, 0, 0], [0.5, -0.5, 0]], atol=1e-300)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_softmax_and_log_softmax_are_stable():
    np.testing.assert_allclose(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])
    np.testing.assert_allclose(log_softmax(np.array([-1e4, 1e4])), [-2e4, 0.0])
    x = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_allclose(softmax(x).sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(x + 100), softmax(x))
    np.testing.assert_allclose(np.exp(log_softmax(x)), softmax(x))
    np.testing.assert_allclose(log_softmax(x, axis=0), x - np.log(np.exp(x).sum(axis=0)))


# --- gradients against finite differences ----------------------------------------------------


def _check(loss, first, second):
    _, analytic = loss(first, second)
    numeric = numerical_loss_gradient(lambda a: loss(a, second)[0], first)
    # Absolute slack for entries near zero: with large logits some are 1e-12, where the
    # difference quotient is only rounding noise (about 1e-9 here).
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-7)
    big = np.abs(numeric) > 1e-3
    assert rel_error(analytic[big], numeric[big]) < 1e-7


@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_gradients_match_finite_differences(scale):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((5, 4)) * scale
    _check(mse, logits, rng.standard_normal((5, 4)))
    _check(binary_cross_entropy_with_logits, logits, rng.random((5, 4)))
    _check(cross_entropy, logits, rng.integers(0, 4, 5))
    _check(binary_cross_entropy, rng.uniform(0.05, 0.95, (5, 4)), rng.random((5, 4)))


def test_float32_inputs_give_float32_gradients():
    logits = np.array([[1e4, -1e4, 3.0]], dtype=np.float32)
    value, grad = cross_entropy(logits, np.array([2]))
    assert grad.dtype == np.float32 and isinstance(value, float)
    assert value == pytest.approx(1e4 - 3)
    _, grad = binary_cross_entropy_with_logits(logits, np.ones_like(logits))
    assert grad.dtype == np.float32 and np.all(np.isfinite(grad))


# --- messages --------------------------------------------------------------------------------


def test_cross_entropy_names_the_bad_label_and_the_class_count():
    with pytest.raises(ValueError, match=r"label 3 is out of range for 3 classes"):
        cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"label -1 is out of range for 3 classes"):
        cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="whole numbers"):
        cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"one label per sample: labels shaped \(2,\)"):
        cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"logits shaped \(N, K\)"):
        cross_entropy(np.zeros(3), np.array([0]))


def test_binary_losses_check_their_inputs():
    with pytest.raises(ValueError, match="probabilities between 0 and 1 but got 1.5"):
        binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="same shape"):
        binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="mse: pred and target must have the same shape"):
        mse(np.zeros((2, 1)), np.zeros(2))
    with pytest.raises(ValueError, match="is empty"):
        mse(np.zeros(0), np.zeros(0))
