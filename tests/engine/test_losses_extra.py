"""engine.losses.mae: values and gradients worked out by hand, and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from engine.losses import mae
from tests.engine.gradcheck import numerical_loss_gradient, rel_error


def test_mae_by_hand():
    value, grad = mae(np.array([1.0, 4.0, -2.0, 3.0]), np.array([3.0, 1.0, -2.0, 2.5]))
    # |−2| + |3| + |0| + |0.5| = 5.5, over 4 values
    assert value == pytest.approx(5.5 / 4)
    # sign(diff) / n, and 0 where the prediction is exact (as PyTorch's l1_loss)
    np.testing.assert_array_equal(grad, [-0.25, 0.25, 0.0, 0.25])


def test_mae_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    _, grad = mae(pred, target)
    numeric = numerical_loss_gradient(lambda p: mae(p, target)[0], pred)
    assert rel_error(grad, numeric) < 1e-7


def test_mae_keeps_float32_and_refuses_bad_shapes():
    _, grad = mae(np.ones(3, dtype=np.float32), np.zeros(3))
    assert grad.dtype == np.float32
    with pytest.raises(ValueError, match="same shape"):
        mae(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="empty"):
        mae(np.ones(0), np.ones(0))
