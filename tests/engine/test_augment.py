"""engine.augment: exact cases of the warp (shifts, quarter turns, mirrors) and the Augmenter."""

from __future__ import annotations

import numpy as np
import pytest

from engine.augment import Augmenter, warp

FULL = Augmenter(max_shift=2, max_rotation=30, scale=(0.8, 1.2), flip=True, noise_std=0.1)


def batch(n=4, c=2, h=7, w=7, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(dtype)


def one_hot(h=8, w=8, at=(3, 4)):
    x = np.zeros((1, 1, h, w))
    x[(0, 0, *at)] = 1.0
    return x


def test_identity_augmenter_returns_an_exact_copy():
    x = batch()
    out = Augmenter()(x, np.random.default_rng(0))
    assert out is not x
    np.testing.assert_array_equal(out, x)
    assert not Augmenter().moves_pixels


def test_integer_shift_moves_pixels_exactly():
    out = warp(one_hot(at=(3, 4)), shift=(2, -1))  # two down, one left
    np.testing.assert_array_equal(out, one_hot(at=(5, 3)))
    x = batch(n=1, c=1, h=5, w=6)
    out = warp(x, shift=(1, 2))
    np.testing.assert_array_equal(out[..., 1:, 2:], x[..., :-1, :-2])
    assert not out[..., :1, :].any() and not out[..., :, :2].any()  # came from outside: 0


def test_random_shifts_keep_the_one_hot_pixel_whole():
    x = np.repeat(one_hot(at=(4, 4)), 50, axis=0)
    out = Augmenter(max_shift=2)(x, np.random.default_rng(1))
    assert np.array_equal(out.sum(axis=(1, 2, 3)), np.ones(50))  # still one whole pixel
    assert set(np.unique(out)) == {0.0, 1.0}
    ys, xs = np.nonzero(out[:, 0])[1:]
    assert set(ys - 4) == set(xs - 4) == {-2, -1, 0, 1, 2}  # every offset in range occurs


@pytest.mark.parametrize("size", [6, 7])
@pytest.mark.parametrize(("angle", "k"), [(90, 1), (180, 2), (270, 3), (-90, -1)])
def test_quarter_turns_match_rot90(size, angle, k):
    x = batch(h=size, w=size)
    np.testing.assert_array_equal(warp(x, angle=angle), np.rot90(x, k, axes=(2, 3)))


def test_flip_matches_reversed_columns():
    x = batch(h=5, w=6)
    np.testing.assert_array_equal(warp(x, flip=True), x[..., ::-1])
    out = Augmenter(flip=True)(np.repeat(x[:1], 40, axis=0), np.random.default_rng(0))
    flipped = np.array([np.array_equal(o, x[0, ..., ::-1]) for o in out])
    kept = np.array([np.array_equal(o, x[0]) for o in out])
    assert np.all(flipped ^ kept) and 5 < flipped.sum() < 35


def test_per_image_parameters():
    x = np.repeat(one_hot(h=5, w=5, at=(0, 2)), 3, axis=0)  # a dot at the top middle
    out = warp(x, angle=[0, 90, 180])
    assert out[0, 0, 0, 2] == 1 and out[1, 0, 2, 0] == 1 and out[2, 0, 4, 2] == 1  # ccw: to left


def test_rotation_and_scale_keep_the_centre_pixel():
    x = batch(h=9, w=9)
    out = warp(x, angle=[13.0, -41.0, 100.0, 7.5], scale=[0.7, 1.3, 1.0, 2.0])
    np.testing.assert_array_equal(out[..., 4, 4], x[..., 4, 4])


def test_scale_grows_a_blob_by_the_square_of_the_factor():
    yy, xx = np.mgrid[0:32, 0:32]
    blob = np.exp(-((yy - 15.5) ** 2 + (xx - 15.5) ** 2) / (2 * 3.0**2))[None, None]
    for s in (0.75, 1.5):
        ratio = warp(blob, scale=s).sum() / blob.sum()
        assert ratio == pytest.approx(s**2, rel=0.02)


def test_noise_has_the_requested_spread():
    x = np.zeros((20, 1, 16, 16), dtype=np.float32)
    out = Augmenter(noise_std=0.1)(x, np.random.default_rng(0))
    assert out.std() == pytest.approx(0.1, rel=0.05) and abs(out.mean()) < 0.01


def test_seeded_determinism():
    x = batch()
    a = FULL(x, np.random.default_rng(7))
    b = FULL(x, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, FULL(x, np.random.default_rng(8)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_untouched_and_dtype_shape_kept(dtype):
    x = batch(n=3, c=3, h=10, w=12, dtype=dtype)
    before = x.copy()
    out = FULL(x, np.random.default_rng(0))
    np.testing.assert_array_equal(x, before)
    assert out.shape == x.shape and out.dtype == dtype


def test_draw_reports_the_geometry_within_the_limits():
    p = FULL.draw(200, np.random.default_rng(0))
    assert p.shift.shape == (200, 2) and np.all(np.abs(p.shift) <= 2)
    assert np.all(np.abs(p.angle) <= 30) and np.all((p.scale >= 0.8) & (p.scale <= 1.2))
    assert 50 < p.flip.sum() < 150
    still = Augmenter().draw(3, np.random.default_rng(0))
    assert not still.angle.any() and np.all(still.scale == 1) and not still.flip.any()


def test_preview_shape_and_repeatability():
    x = batch(n=3, c=1, h=8, w=8)
    p = FULL.preview(x, n_copies=5, seed=2)
    assert p.shape == (3, 5, 1, 8, 8)
    np.testing.assert_array_equal(p, FULL.preview(x, n_copies=5, seed=2))
    assert not np.array_equal(p[0, 0], p[0, 1])  # copies differ
    same = Augmenter().preview(x, n_copies=2)
    np.testing.assert_array_equal(same[:, 0], x)
    np.testing.assert_array_equal(same[:, 1], x)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_shift": -1}, r"maximum shift must be from 0 to 256 pixels \(got -1\)"),
        ({"max_shift": 1.5}, "maximum shift must be a whole number"),
        ({"max_rotation": 270}, r"maximum rotation \(degrees\) must be a number from 0 to 180"),
        ({"scale": (1.2, 0.8)}, r"lowest scale \(1.2\) must not be above the highest \(0.8\)"),
        ({"scale": (0, 1)}, "lowest scale must be a number from 0.25 to 4"),
        ({"scale": 1.1}, "Scale must be a .low, high. pair"),
        ({"flip": "yes"}, "Flip must be true or false"),
        ({"noise_std": float("nan")}, "noise level must be a number from 0 to 1"),
    ],
)
def test_invalid_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Augmenter(**kwargs)


def test_invalid_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"4-D array \(N, C, H, W\) \(got shape \(8, 8\)\)"):
        FULL(np.zeros((8, 8)), rng)
    with pytest.raises(ValueError, match="must hold floats"):
        FULL(np.zeros((1, 1, 8, 8), dtype=np.uint8), rng)
    with pytest.raises(ValueError, match="Pass a random generator"):
        FULL(batch(), 0)
    with pytest.raises(ValueError, match="one value for the batch or one per image"):
        warp(batch(n=4), angle=[1.0, 2.0])
    with pytest.raises(ValueError, match="Scale factors must be finite numbers above 0"):
        warp(batch(), scale=0)
    with pytest.raises(ValueError, match="number of copies must be from 1 to 64"):
        FULL.preview(batch(), n_copies=0)


def naive_warp(x, angle, scale, shift, flip):
    """The warp written out per output pixel: undo the shift, the rotation and scale, then the
    mirror; read the four neighbours, 0 outside the image."""
    n, c, h, w = x.shape
    out = np.zeros_like(x, dtype=np.float64)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    for i in range(n):
        t = np.deg2rad(angle[i])
        cos, sin = np.cos(t), np.sin(t)
        for oy in range(h):
            for ox in range(w):
                u, v = ox - cx - shift[i][1], oy - cy - shift[i][0]
                sx, sy = (cos * u - sin * v) / scale[i], (sin * u + cos * v) / scale[i]
                sx = -sx if flip[i] else sx
                sy, sx = sy + cy, sx + cx
                y0, x0 = int(np.floor(sy)), int(np.floor(sx))
                fy, fx = sy - y0, sx - x0
                corners = [(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx),
                           (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]  # fmt: skip
                for yy, xx, weight in corners:
                    if 0 <= yy < h and 0 <= xx < w:
                        out[i, :, oy, ox] += weight * x[i, :, yy, xx]
    return out


@pytest.mark.parametrize("shape", [(3, 1, 7, 9), (2, 3, 14, 25), (2, 1, 1, 6), (2, 2, 30, 3)])
def test_warp_equals_the_per_pixel_loop_inside_across_and_beyond_the_edges(shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.standard_normal(shape)
    n = shape[0]
    angle = rng.uniform(-180, 180, n)
    scale = rng.uniform(0.3, 3.0, n)
    shift = rng.uniform(-12, 12, (n, 2))  # far enough that some pixels read nothing at all
    flip = np.arange(n) % 2 == 0
    got = warp(x, angle=angle, scale=scale, shift=shift, flip=flip)
    np.testing.assert_allclose(got, naive_warp(x, angle, scale, shift, flip), atol=1e-12)
    got32 = warp(x.astype(np.float32), angle=angle, scale=scale, shift=shift, flip=flip)
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, naive_warp(x, angle, scale, shift, flip), atol=1e-5)
