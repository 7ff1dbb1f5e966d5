"""The named-filter network and the translation experiment behave as the lesson says."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.edgenet import (
    LAYER1,
    LAYER2,
    cosine_similarity,
    invariance_curve,
    largest_shift,
    layer1_bank,
    layer2_bank,
    shift_image,
    stages,
)


def test_banks_have_one_named_filter_per_channel():
    assert layer1_bank().shape == (len(LAYER1), 1, 3, 3)
    assert layer2_bank().shape == (len(LAYER2), len(LAYER1), 3, 3)
    assert len(LAYER2) > len(LAYER1)  # channels grow with depth
    np.testing.assert_allclose(layer2_bank().sum(axis=(1, 2, 3)), 1.0, rtol=1e-6)


def test_vertical_edge_filter_fires_on_a_vertical_edge_only():
    image = np.zeros((1, 1, 16, 16), dtype=np.float32)
    image[..., 8:] = 1.0  # dark left, bright right
    conv1 = stages(image)["conv1"][0]
    assert conv1[0].max() == pytest.approx(4.0)  # dark→light vertical
    assert conv1[1, :, :-1].max() <= 0  # light→dark: positive only where zero padding starts
    assert np.abs(conv1[2, 2:-2, 2:-2]).max() == 0  # horizontal: nothing away from the border


def test_shapes_shrink_and_channels_grow():
    out = stages(np.zeros((2, 1, 32, 32)))
    assert out["conv1"].shape == (2, 8, 32, 32)
    assert out["pool1"].shape == (2, 8, 16, 16)
    assert out["pool2"].shape == (2, 12, 8, 8)


def test_shift_image_moves_content_and_fills_with_zeros():
    image = np.arange(16.0).reshape(4, 4)
    moved = shift_image(image, 1, 2)
    np.testing.assert_array_equal(moved[2:, 1:], image[:2, :3])
    assert moved[:2].sum() == 0 and moved[:, 0].sum() == 0
    with pytest.raises(ValueError, match="moves the whole"):
        shift_image(image, 4, 0)


def test_largest_shift_keeps_part_of_the_image_in_view():
    assert largest_shift((8, 256), (1.0, 0.0), 16) == 16
    assert largest_shift((8, 256), (0.0, 1.0), 16) == 7  # an 8-pixel-tall strip
    assert largest_shift((16, 16), (1.0, -1.0), 16) == 15
    assert largest_shift((16, 16), (1.0, 0.5), 40) == 15  # the x part runs out first
    assert largest_shift((1, 1), (1.0, 0.0), 16) == 0
    for t in range(largest_shift((8, 20), (0.5, 1.0), 16) + 1):
        shift_image(np.ones((8, 20)), int(t * 0.5), int(t * 1.0))  # none moves it all out


def test_cosine_similarity():
    a = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    b = np.array([[0.0, 1.0], [2.0, 2.0], [0.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), [0.0, 1.0, 1.0])


def test_a_dot_moving_inside_a_pooling_window_keeps_pooled_features():
    image = np.zeros((2, 1, 16, 16), dtype=np.float32)
    image[0, 0, 4, 4] = 1.0
    image[1, 0, 4, 5] = 1.0  # one pixel right
    out = stages(image)
    conv_similarity = cosine_similarity(out["conv1"][:1], out["conv1"][1:])[0]
    pool_similarity = cosine_similarity(out["pool2"][:1], out["pool2"][1:])[0]
    assert conv_similarity < 0.5 < pool_similarity


def test_deeper_pooled_features_change_least_on_a_real_picture():
    photo = Path(__file__).resolve().parents[2] / "static" / "samples" / "camera.png"
    image = np.asarray(Image.open(photo).convert("L").resize((128, 128)), dtype=np.float32) / 255
    shifts, scores = invariance_curve(image, (1, 0), 8)
    assert list(shifts) == list(range(9))
    for depth in scores:
        assert scores[depth][0] == pytest.approx(1.0)
    for t in (2, 4, 8):
        assert scores["conv1"][t] < scores["pool1"][t] < scores["pool2"][t]


def test_similarity_to_first_equals_pairwise_cosine():
    from engine.edgenet import similarity_to_first

    features = np.random.default_rng(2).random((5, 3, 4, 4)).astype(np.float32)
    expected = cosine_similarity(np.repeat(features[:1], 5, axis=0), features)
    np.testing.assert_allclose(similarity_to_first(features), expected, rtol=1e-5)


def test_the_curve_in_chunks_equals_one_batch_through_the_network():
    from engine.edgenet import similarity_to_first

    rng = np.random.default_rng(3)
    image = rng.random((40, 36)).astype(np.float32)
    shifts, scores = invariance_curve(image, (1.0, 0.5), 9)  # 10 shifts: chunks of 4, 4, 2
    batch = np.stack([shift_image(image, int(t * 1.0), int(t * 0.5)) for t in shifts])[:, None]
    features = stages(batch)
    for depth, values in scores.items():
        np.testing.assert_allclose(values, similarity_to_first(features[depth]), atol=1e-6)
        assert values.shape == (10,)
