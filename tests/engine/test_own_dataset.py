"""engine.datasets.own: the user's own classes, split per class, checked, and learnable."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets.own import held_out_is_small, own_dataset
from engine.train import TrainConfig, train


def stripes(n: int, vertical: bool, rng, size: int = 16) -> np.ndarray:
    """(n, 1, size, size) uint8: stripes of random period, phase and contrast, with noise."""
    out = np.empty((n, 1, size, size), dtype=np.uint8)
    coords = np.arange(size)
    for i in range(n):
        period = rng.integers(3, 7)
        wave = ((coords + rng.integers(0, period)) % period) < period / 2
        plane = np.broadcast_to(wave[None, :] if vertical else wave[:, None], (size, size))
        low, high = rng.integers(0, 60), rng.integers(180, 256)
        image = np.where(plane, high, low) + rng.normal(0, 12, (size, size))
        out[i, 0] = np.clip(image, 0, 255).astype(np.uint8)
    return out


def test_every_class_sends_its_share_to_the_test_set_and_values_are_scaled():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 3, 8, 8), dtype=np.uint8)
    labels = np.repeat([0, 1, 2], 8)
    data = own_dataset(images, labels, ["thumb up", "thumb down", "nothing"], 0.25, seed=1)
    assert np.bincount(data.y_test).tolist() == [2, 2, 2]
    assert np.bincount(data.y_train).tolist() == [6, 6, 6]
    assert data.class_names == ["thumb up", "thumb down", "nothing"]
    assert data.x_train.dtype == np.float32 and data.image_shape == (3, 8, 8)
    # every picture lands once, on one side, scaled to [0, 1]
    together = np.concatenate([data.x_train, data.x_test]) * 255
    assert sorted(map(bytes, np.rint(together).astype(np.uint8))) == sorted(map(bytes, images))


@pytest.mark.parametrize(
    ("names", "counts", "message"),
    [
        (["only"], [8], "2 to 5 classes"),
        (["a", "b", "c", "d", "e", "f"], [5] * 6, "2 to 5 classes"),
        (["a", "b"], [8, 0], "too few in: b"),
        (["a", "b"], [8, 4], "at least 5 pictures; too few in: b"),
        (["a", "A "], [8, 8], "same name"),
        (["a", " "], [8, 8], "needs a name"),
    ],
)
def test_bad_class_lists_are_refused_with_the_reason(names, counts, message):
    labels = np.repeat(np.arange(len(counts)), counts)
    images = np.zeros((len(labels), 1, 4, 4), dtype=np.uint8)
    with pytest.raises(ValueError, match=message):
        own_dataset(images, labels, names)


def test_pictures_must_be_images_with_one_or_three_channels():
    with pytest.raises(ValueError, match="C = 1 or 3"):
        own_dataset(np.zeros((10, 2, 4, 4)), np.repeat([0, 1], 5), ["a", "b"])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        own_dataset(np.full((10, 1, 4, 4), 2.0), np.repeat([0, 1], 5), ["a", "b"])


def test_a_test_set_of_a_few_pictures_per_class_is_called_small():
    images = np.zeros((40, 1, 4, 4), dtype=np.uint8)
    assert held_out_is_small(own_dataset(images[:16], np.repeat([0, 1], 8), ["a", "b"], 0.25))
    assert not held_out_is_small(own_dataset(images, np.repeat([0, 1], 20), ["a", "b"], 0.25))


def test_a_small_cnn_learns_stripes_from_a_few_pictures_and_predicts_a_new_one():
    rng = np.random.default_rng(3)
    images = np.concatenate([stripes(20, False, rng), stripes(20, True, rng)])
    labels = np.repeat([0, 1], 20)
    data = own_dataset(images, labels, ["horizontal", "vertical"], 0.25, seed=0)
    config = TrainConfig(model="tiny", epochs=15, batch_size=8, seed=0, validation_fraction=0.0)
    result = train(config, data)
    predicted = result.model.predict(data.x_test).argmax(axis=1)
    assert (predicted == data.y_test).mean() >= 0.9
    fresh = stripes(2, True, np.random.default_rng(99)).astype(np.float32) / 255
    assert result.model.predict(fresh).argmax(axis=1).tolist() == [1, 1]
