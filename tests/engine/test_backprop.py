"""engine.backprop's hand-checkable gradients equal Conv2D.backward (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.backprop import (
    conv_input_gradient,
    input_gradient_cell,
    kernel_gradient,
    kernel_gradient_cell,
)
from engine.layers import Conv2D
from tests.engine.gradcheck import rel_error

CASES = [  # (channels, size, kernel, stride, padding)
    (1, 7, 3, 1, 0), (2, 8, 3, 1, 1), (3, 9, 3, 2, 1), (1, 10, 5, 2, "same"), (2, 6, 2, 3, 0),
    (1, 5, 5, 1, "full"),
]  # fmt: skip


@pytest.mark.parametrize("channels, size, k, stride, padding", CASES)
def test_both_gradients_equal_the_layers_backward(channels, size, k, stride, padding):
    rng = np.random.default_rng(size + k)
    layer = Conv2D(channels, 1, k, stride=stride, padding=padding, rng=rng, dtype=np.float64)
    image = rng.normal(size=(channels, size, size))
    out = layer.forward(image[None], training=False)  # (1, 1, H_o, W_o)
    dout = rng.normal(size=out.shape[2:])
    dx = layer.backward(dout[None, None], input_grad=True)[0]
    kernel = layer.params["weight"][0]
    assert rel_error(kernel_gradient(image, dout, (k, k), stride, padding),
                     layer.grads["weight"][0]) < 1e-12  # fmt: skip
    assert rel_error(conv_input_gradient(kernel, dout, image.shape, stride, padding), dx) < 1e-12


def test_one_kernel_cell_lists_the_products_that_add_up_to_it():
    rng = np.random.default_rng(0)
    image, dout = rng.normal(size=(1, 5, 5)), rng.normal(size=(3, 3))
    cell = kernel_gradient_cell(image, dout, (3, 3), 0, 1, 2)
    assert len(cell.factors) == 9 and cell.positions.tolist()[4] == [1, 1]
    assert cell.factors[4] == image[0, 1 + 1, 1 + 2]  # output (1, 1) saw input (2, 3) there
    assert cell.value == pytest.approx(sum(image[0, r + 1, c + 2] * dout[r, c]
                                           for r in range(3) for c in range(3)))  # fmt: skip


def test_one_input_pixel_lists_the_windows_that_cover_it():
    rng = np.random.default_rng(1)
    kernel, dout = rng.normal(size=(1, 3, 3)), rng.normal(size=(3, 3))
    corner = input_gradient_cell(kernel, dout, (1, 5, 5), 0, 0, 0)
    assert corner.positions.tolist() == [[0, 0]]  # only the first window covers (0, 0)
    assert corner.value == pytest.approx(kernel[0, 0, 0] * dout[0, 0])
    middle = input_gradient_cell(kernel, dout, (1, 5, 5), 0, 2, 2)
    assert len(middle.positions) == 9  # every window covers the centre
    strided = input_gradient_cell(kernel, rng.normal(size=(2, 2)), (1, 5, 5), 0, 1, 1, stride=2)
    assert strided.positions.tolist() == [[0, 0]]


def test_a_wrong_sized_output_gradient_is_refused():
    with pytest.raises(ValueError, match="must be 3×3"):
        kernel_gradient(np.zeros((1, 5, 5)), np.zeros((4, 4)), (3, 3))
