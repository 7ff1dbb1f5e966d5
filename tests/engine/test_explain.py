"""explain_pixel and channel_partials agree with the naive convolution reference."""

import numpy as np
import pytest

from engine.conv import conv2d, conv_naive
from engine.explain import channel_partials, explain_pixel

CASES = [
    # (C, H, W, KH, KW, stride, padding, dilation, mode)
    (1, 9, 11, 3, 3, 1, 0, 1, "zeros"),
    (3, 10, 8, 3, 5, 2, "same", 1, "reflect"),
    (2, 12, 12, 4, 4, 1, "same", 2, "replicate"),
    (3, 7, 9, 2, 3, (2, 1), "full", 1, "circular"),
    (1, 6, 6, 5, 5, 3, 2, 1, "zeros"),
]


@pytest.mark.parametrize("case", CASES)
def test_every_output_value_matches_the_reference(case):
    channels, height, width, kh, kw, stride, padding, dilation, mode = case
    rng = np.random.default_rng(0)
    image = rng.normal(size=(channels, height, width))
    kernel = rng.normal(size=(channels, kh, kw))
    bias = 0.75
    reference = conv_naive(
        image[None], kernel[None], np.array([bias]), stride, padding, dilation, mode
    )[0, 0]
    for row in range(reference.shape[0]):
        for col in range(reference.shape[1]):
            explained = explain_pixel(
                image, kernel, bias, row, col, stride, padding, dilation, mode
            )
            assert explained.value == pytest.approx(reference[row, col], rel=1e-12, abs=1e-12)
            np.testing.assert_allclose(explained.products, explained.patch * kernel)
            assert explained.channel_sums.sum() + bias == pytest.approx(explained.value)


def test_padding_cells_are_flagged_and_hold_the_border_value():
    image = np.arange(16.0).reshape(1, 4, 4)
    kernel = np.ones((1, 3, 3))
    explained = explain_pixel(image, kernel, 0.0, 0, 0, padding=1, padding_mode="replicate")
    assert explained.in_padding[0].all() and explained.in_padding[:, 0].all()
    assert not explained.in_padding[1:, 1:].any()
    np.testing.assert_array_equal(explained.rows, [-1, 0, 1])
    np.testing.assert_array_equal(explained.patch[0], [[0, 0, 1], [0, 0, 1], [4, 4, 5]])


def test_position_outside_the_map_is_a_value_error():
    with pytest.raises(ValueError, match="outside the feature map"):
        explain_pixel(np.zeros((1, 4, 4)), np.ones((1, 3, 3)), 0.0, 2, 0)


def test_channel_partials_sum_to_the_layer_output():
    rng = np.random.default_rng(3)
    image = rng.normal(size=(3, 13, 10))
    kernels = rng.normal(size=(4, 3, 3, 3))
    partials = channel_partials(image, kernels, stride=2, padding="same", padding_mode="reflect")
    full = conv2d(image[None], kernels, stride=2, padding="same", padding_mode="reflect")[0]
    assert partials.shape == (4, 3) + full.shape[1:]
    np.testing.assert_allclose(partials.sum(axis=1), full, rtol=1e-10, atol=1e-10)
