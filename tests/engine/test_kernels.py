"""engine.kernels: shapes, sums, orientation and parameter checks of the named filters."""

from __future__ import annotations

import numpy as np
import pytest

from engine.conv import conv2d
from engine.kernels import KERNELS, N_, NamedKernel, get_kernel

ORDER = [
    "identity",
    "box_blur",
    "gaussian",
    "sharpen",
    "unsharp_mask",
    "sobel_x",
    "sobel_y",
    "prewitt_x",
    "prewitt_y",
    "laplacian",
    "emboss",
    "outline",
]
SUMS = {
    "identity": 1.0,
    "box_blur": 1.0,
    "gaussian": 1.0,
    "sharpen": 1.0,
    "unsharp_mask": 1.0,
    "sobel_x": 0.0,
    "sobel_y": 0.0,
    "prewitt_x": 0.0,
    "prewitt_y": 0.0,
    "laplacian": 0.0,
    "emboss": 1.0,
    "outline": 0.0,
}
SHAPES = {"box_blur": (3, 3), "gaussian": (5, 5), "unsharp_mask": (5, 5)}


def test_registry_order_and_metadata():
    assert list(KERNELS) == ORDER
    for name, kernel in KERNELS.items():
        assert isinstance(kernel, NamedKernel)
        assert kernel.name == name
        assert kernel.title and kernel.title[0].isupper()
        assert kernel.explanation.endswith(".")
    assert KERNELS["box_blur"].params == {"size": 3}
    assert KERNELS["gaussian"].params == {"size": 5, "sigma": 1.0}
    assert KERNELS["sobel_x"].params == {}
    assert N_("Sobel x") == "Sobel x"


@pytest.mark.parametrize("name", ORDER)
def test_shape_dtype_and_sum(name):
    k = get_kernel(name)
    assert k.dtype == np.float64
    assert k.shape == SHAPES.get(name, (3, 3))
    assert np.all(np.isfinite(k))
    assert k.sum() == pytest.approx(SUMS[name], abs=1e-12)


def test_exact_values():
    np.testing.assert_array_equal(get_kernel("sobel_x"), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(get_kernel("sobel_y"), get_kernel("sobel_x").T)
    np.testing.assert_array_equal(get_kernel("prewitt_x"), [[-1, 0, 1]] * 3)
    np.testing.assert_array_equal(get_kernel("prewitt_y"), get_kernel("prewitt_x").T)
    np.testing.assert_array_equal(get_kernel("laplacian"), [[0, 1, 0], [1, -4, 1], [0, 1, 0]])
    np.testing.assert_array_equal(get_kernel("outline"), [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
    np.testing.assert_array_equal(get_kernel("emboss"), [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])
    np.testing.assert_array_equal(get_kernel("sharpen"), [[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
    np.testing.assert_array_equal(get_kernel("identity"), [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    np.testing.assert_allclose(get_kernel("box_blur", size=5), np.full((5, 5), 1 / 25))


def test_sobel_x_is_positive_on_a_dark_to_bright_step():
    image = np.zeros((8, 8))
    image[:, 4:] = 1.0  # dark left half, bright right half
    out = conv2d(image[None, None], get_kernel("sobel_x")[None, None])[0, 0]  # (6, 6)
    # windows centred on columns 3 and 4 straddle the edge
    np.testing.assert_allclose(out[:, 2:4], 4.0)
    np.testing.assert_allclose(out[:, [0, 1, 4, 5]], 0.0)
    # sobel_y sees no change from top to bottom here, and responds to the rotated image
    assert np.allclose(conv2d(image[None, None], get_kernel("sobel_y")[None, None]), 0.0)
    rotated = image.T.copy()  # dark top, bright bottom
    out_y = conv2d(rotated[None, None], get_kernel("sobel_y")[None, None])[0, 0]
    np.testing.assert_allclose(out_y[2:4, :], 4.0)


def test_blurs_keep_a_flat_image_and_edges_cancel():
    flat = np.full((1, 1, 12, 12), 0.7)
    for name in ORDER:
        out = conv2d(flat, get_kernel(name)[None, None])
        np.testing.assert_allclose(out, 0.7 * SUMS[name], atol=1e-12, err_msg=name)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 7, 15])
@pytest.mark.parametrize("sigma", [0.3, 1.0, 2.5, 10.0])
def test_gaussian_symmetric_and_normalised(size, sigma):
    g = get_kernel("gaussian", size=size, sigma=sigma)
    assert g.shape == (size, size)
    assert g.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(g, g.T, atol=1e-15)
    np.testing.assert_allclose(g, g[::-1, ::-1], atol=1e-15)
    assert np.all(g > 0)
    if size % 2 == 1:
        assert g[size // 2, size // 2] == g.max()


def test_gaussian_narrower_with_smaller_sigma():
    wide = get_kernel("gaussian", size=7, sigma=3.0)
    narrow = get_kernel("gaussian", size=7, sigma=0.8)
    assert narrow[3, 3] > wide[3, 3]
    assert narrow[0, 0] < wide[0, 0]


def test_unsharp_mask_definition():
    identity = np.zeros((5, 5))
    identity[2, 2] = 1.0
    gauss = get_kernel("gaussian", size=5, sigma=1.0)
    for amount in (0.0, 0.5, 1.0, 2.0):
        expected = identity + amount * (identity - gauss)
        np.testing.assert_allclose(get_kernel("unsharp_mask", amount=amount), expected, atol=1e-15)


@pytest.mark.parametrize(
    "name,params",
    [
        ("gaussian", {"size": 0}),
        ("gaussian", {"size": 16}),
        ("gaussian", {"size": 2.5}),
        ("gaussian", {"sigma": 0}),
        ("gaussian", {"sigma": -1.0}),
        ("gaussian", {"sigma": 10.5}),
        ("gaussian", {"sigma": float("nan")}),
        ("gaussian", {"sigma": "1"}),
        ("box_blur", {"size": 0}),
        ("box_blur", {"size": 16}),
        ("box_blur", {"size": True}),
        ("unsharp_mask", {"amount": -1}),
        ("sobel_x", {"size": 3}),
        ("box_blur", {"sigma": 1.0}),
    ],
)
def test_bad_parameters_raise(name, params):
    with pytest.raises(ValueError):
        get_kernel(name, **params)


def test_boundary_parameters_accepted():
    assert get_kernel("gaussian", size=15, sigma=10).shape == (15, 15)
    assert get_kernel("box_blur", size=1).shape == (1, 1)
    assert get_kernel("box_blur", size=15.0).shape == (15, 15)


def test_unknown_filter():
    with pytest.raises(ValueError, match=r"^Unknown filter 'xyz'\.$"):
        get_kernel("xyz")
    with pytest.raises(ValueError, match="Unknown filter"):
        get_kernel(None)
