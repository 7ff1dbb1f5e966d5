"""engine.datasets: the bundled digits, the generated shapes and their fixed, stratified splits."""

from __future__ import annotations

import numpy as np
import pytest

from engine.datasets import DATASETS, Dataset, load_dataset, load_digits, make_shapes
from engine.datasets.digits import bilinear_matrix, resize_bilinear
from engine.datasets.shapes import SHAPE_CLASSES, _draw

DIGIT_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits()


def rows(x: np.ndarray) -> set[bytes]:
    return {img.tobytes() for img in x}


# --- digits -----------------------------------------------------------------------------------


def test_digits_sizes_types_and_class_counts(digits):
    assert digits.name == "digits"
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert digits.x_train.shape == (1438, 1, 8, 8) and digits.x_test.shape == (359, 1, 8, 8)
    assert digits.x_train.dtype == np.float32 and digits.y_train.dtype == np.int64
    assert digits.class_names == [str(d) for d in range(10)]
    assert digits.n_classes == 10 and digits.image_shape == (1, 8, 8)
    y = np.concatenate([digits.y_train, digits.y_test])
    assert np.bincount(y).tolist() == DIGIT_COUNTS
    assert "CC BY 4.0" in digits.description


def test_digits_pixels_are_sixteenths_in_0_1(digits):
    x = np.concatenate([digits.x_train, digits.x_test])
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(x * 16, np.round(x * 16))  # 17 grey levels, 0..16


def test_digits_split_is_stratified_and_disjoint(digits):
    test_counts = np.bincount(digits.y_test, minlength=10)
    for count, n_test in zip(DIGIT_COUNTS, test_counts, strict=True):
        assert abs(n_test - 0.2 * count) <= 1
    # Every image is distinct in the file, so comparing pixels checks the indices.
    train, test = rows(digits.x_train), rows(digits.x_test)
    assert len(train) == 1438 and len(test) == 359 and not train & test


def test_digits_split_is_fixed_for_a_seed_and_moves_with_it(digits):
    again = load_digits()
    np.testing.assert_array_equal(again.x_test, digits.x_test)
    np.testing.assert_array_equal(again.y_train, digits.y_train)
    other = load_digits(seed=1)
    assert rows(other.x_test) != rows(digits.x_test)
    assert np.bincount(other.y_test).tolist() == np.bincount(digits.y_test).tolist()
    half = load_digits(test_fraction=0.5)
    half_counts = np.bincount(half.y_test)
    assert all(abs(n - c / 2) <= 1 for n, c in zip(half_counts, DIGIT_COUNTS, strict=True))


@pytest.mark.parametrize("size", [16, 28])
def test_digits_upsampled(digits, size):
    big = load_digits(size=size)
    assert big.x_train.shape == (1438, 1, size, size) and big.x_train.dtype == np.float32
    assert big.x_train.min() >= 0.0 and big.x_train.max() <= 1.0
    np.testing.assert_array_equal(big.y_train, digits.y_train)  # the same split
    # Bilinear upsampling keeps each image's average brightness close.
    np.testing.assert_allclose(
        big.x_train.mean(axis=(2, 3)), digits.x_train.mean(axis=(2, 3)), atol=0.03
    )


def test_bilinear_matrix_by_hand():
    # 2 -> 4: output pixel i samples (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped.
    expected = [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]]
    np.testing.assert_allclose(bilinear_matrix(2, 4), expected)
    np.testing.assert_allclose(bilinear_matrix(8, 28).sum(axis=1), 1.0)
    np.testing.assert_allclose(bilinear_matrix(8, 8), np.eye(8))
    img = np.array([[0.0, 1.0], [1.0, 1.0]])
    out = resize_bilinear(img, 4)
    assert out[0, 0] == 0.0 and out[3, 3] == 1.0
    assert out[1, 1] == pytest.approx(0.75 * 0.75 * 0 + (1 - 0.75 * 0.75) * 1)


def test_digits_invalid_arguments():
    with pytest.raises(ValueError, match=r"size must be one of 8, 16, 28 \(got 10\)"):
        load_digits(size=10)
    for bad in (0, 1, 1.5, float("nan"), "0.2"):
        with pytest.raises(ValueError, match="test fraction must be a number between 0 and 1"):
            load_digits(test_fraction=bad)
    with pytest.raises(ValueError, match="seed must be a whole number"):
        load_digits(seed=-1)


# --- shapes -----------------------------------------------------------------------------------


def test_shapes_are_deterministic_and_seeded():
    a = make_shapes(n_per_class=20, seed=3)
    b = make_shapes(n_per_class=20, seed=3)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    c = make_shapes(n_per_class=20, seed=4)
    assert not np.array_equal(a.x_train, c.x_train)


def test_shapes_sizes_balance_and_range():
    d = make_shapes(n_per_class=50, classes=SHAPE_CLASSES)
    assert d.name == "shapes" and d.class_names == list(SHAPE_CLASSES)
    assert d.x_train.shape == (240, 1, 28, 28) and d.x_test.shape == (60, 1, 28, 28)
    assert d.x_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert np.bincount(d.y_train).tolist() == [40] * 6
    assert np.bincount(d.y_test).tolist() == [10] * 6
    assert d.x_train.min() >= 0.0 and d.x_train.max() <= 1.0
    assert make_shapes(n_per_class=4, size=16).image_shape == (1, 16, 16)


def test_shapes_are_visible_and_move_around():
    d = make_shapes(n_per_class=100, noise=0.0, classes=SHAPE_CLASSES)
    x = d.x_train[:, 0]
    ink = x.sum(axis=(1, 2))
    assert ink.min() > 8  # even a small thin cross covers several pixels
    assert (x > 0.5).any(axis=(1, 2)).all()
    ys, xs = np.mgrid[0:28, 0:28]
    cy = (x * ys).sum(axis=(1, 2)) / ink
    cx = (x * xs).sum(axis=(1, 2)) / ink
    assert cx.std() > 2 and cy.std() > 2  # not all in the middle
    assert cx.min() < 10 and cx.max() > 17


def test_shapes_classes_can_be_told_apart():
    # Nearest class centroid on the magnitude of the 2-D Fourier transform, which does not change
    # when a shape moves: far from perfect (rotation and size vary), but well above chance.
    d = make_shapes(n_per_class=100, noise=0.0, classes=SHAPE_CLASSES)

    def features(x):
        f = np.abs(np.fft.fft2(x[:, 0])).reshape(len(x), -1)
        return f / np.linalg.norm(f, axis=1, keepdims=True)

    train, test = features(d.x_train), features(d.x_test)
    centroids = np.stack([train[d.y_train == c].mean(axis=0) for c in range(6)])
    predicted = np.argmin(((test[:, None] - centroids[None]) ** 2).sum(axis=2), axis=1)
    assert (predicted == d.y_test).mean() > 0.5  # chance is 1/6
    for c in range(6):
        assert (predicted[d.y_test == c] == c).mean() > 0.3, SHAPE_CLASSES[c]


def test_rasterised_areas_match_geometry():
    # Antialiased ink adds up to the true area: a good check of the distances and the inside test.
    py, px = np.mgrid[0:64, 0:64].astype(np.float64)
    one = np.ones(1)

    def area(kind, radius=20.0, angle=0.3, stroke=4.0, inner=0.4):
        sdf = _draw(kind, px, py, one * 31.5, one * 31.5, one * radius, one * angle,
                    one * stroke, one * inner)  # fmt: skip
        return np.clip(0.5 - sdf, 0, 1).sum()

    r = 20.0
    assert area("circle") == pytest.approx(np.pi * r**2, rel=0.01)
    assert area("square") == pytest.approx(2 * r**2, rel=0.01)  # half-diagonal r
    assert area("triangle") == pytest.approx(3 * np.sqrt(3) / 4 * r**2, rel=0.01)
    assert area("ring") == pytest.approx(np.pi * (r**2 - (r - 4) ** 2), rel=0.02)
    assert area("cross") == pytest.approx(2 * (2 * r * 4) - 4 * 4, rel=0.02)
    # A star is 10 triangles (centre, outer tip, inner notch): 10 * r * 0.4r * sin(36°) / 2.
    assert area("star") == pytest.approx(5 * 0.4 * r**2 * np.sin(np.pi / 5), rel=0.02)


def test_shapes_invalid_arguments():
    with pytest.raises(ValueError, match="Unknown shape 'hexagon'"):
        make_shapes(classes=("circle", "hexagon"))
    with pytest.raises(ValueError, match="at least two different shape classes"):
        make_shapes(classes=("circle", "circle"))
    with pytest.raises(ValueError, match="list of names"):
        make_shapes(classes="circle")
    with pytest.raises(ValueError, match=r"images per class must be from 2 to 5000 \(got 1\)"):
        make_shapes(n_per_class=1)
    with pytest.raises(ValueError, match="image size must be from 16 to 64"):
        make_shapes(size=8)
    with pytest.raises(ValueError, match="noise level must be from 0 to 1"):
        make_shapes(noise=-0.1)


# --- load_dataset -----------------------------------------------------------------------------


def test_load_dataset_by_name():
    assert DATASETS == ("digits", "shapes")
    assert load_dataset("digits", size=16).image_shape == (1, 16, 16)
    assert load_dataset("Shapes", n_per_class=5).n_classes == 4
    with pytest.raises(ValueError, match="Unknown dataset 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="does not accept these settings"):
        load_dataset("digits", colour=True)
