"""Named 2-D filters (blur, sharpen, edge detectors...) as small float64 arrays.

Each filter is meant for cross-correlation (:func:`engine.conv.conv2d`), so ``sobel_x`` is positive
where brightness increases to the right. ``KERNELS`` keeps the display order; ``get_kernel`` builds
one with checked parameters.

Titles and explanations are English; the app translates them. ``N_`` marks them for the message
extractor without translating anything here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["KERNELS", "N_", "NamedKernel", "get_kernel"]


def N_(message: str) -> str:
    """Mark a string for translation without translating it (the app does that later)."""
    return message


MAX_SIZE = 15
MAX_SIGMA = 10.0


@dataclass(frozen=True)
class NamedKernel:
    name: str
    title: str  # short English label, translated by the app
    explanation: str  # one English sentence, translated by the app
    build: Callable[..., np.ndarray]  # keyword parameters -> (K, K') float64 array
    params: dict = field(default_factory=dict)  # the parameters build accepts, with defaults


def _size(size, name: str) -> int:
    if isinstance(size, bool) or not isinstance(size, int | np.integer | float):
        raise ValueError(f"The {name} size must be a whole number from 1 to {MAX_SIZE}.")
    if float(size) != int(size) or not 1 <= int(size) <= MAX_SIZE:
        raise ValueError(
            f"The {name} size must be a whole number from 1 to {MAX_SIZE} (got {size})."
        )
    return int(size)


def _sigma(sigma) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, int | float | np.integer | np.floating):
        raise ValueError(f"Sigma must be a number above 0 and at most {MAX_SIGMA:g}.")
    sigma = float(sigma)
    if not (0 < sigma <= MAX_SIGMA):  # also rejects NaN
        raise ValueError(f"Sigma must be above 0 and at most {MAX_SIGMA:g} (got {sigma:g}).")
    return sigma


def _identity() -> np.ndarray:
    k = np.zeros((3, 3))
    k[1, 1] = 1.0
    return k


def _box_blur(size: int = 3) -> np.ndarray:
    size = _size(size, "box blur")
    return np.full((size, size), 1.0 / size**2)


def _gaussian_1d(size: int, sigma: float) -> np.ndarray:
    # Centred on the middle of the window; for even sizes that middle falls between two taps.
    t = np.arange(size) - (size - 1) / 2
    g = np.exp(-(t**2) / (2 * sigma**2))
    return g / g.sum()


def _gaussian(size: int = 5, sigma: float = 1.0) -> np.ndarray:
    size = _size(size, "Gaussian")
    sigma = _sigma(sigma)
    g = _gaussian_1d(size, sigma)
    return np.outer(g, g)  # separable: the outer product of two 1-D Gaussians, sums to 1


def _sharpen() -> np.ndarray:
    return np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64)


def _unsharp_mask(amount: float = 1.0) -> np.ndarray:
    if isinstance(amount, bool) or not isinstance(amount, int | float | np.integer | np.floating):
        raise ValueError("The unsharp mask amount must be a number from 0 to 10.")
    amount = float(amount)
    if not 0 <= amount <= 10:
        raise ValueError(f"The unsharp mask amount must be from 0 to 10 (got {amount:g}).")
    identity = np.zeros((5, 5))
    identity[2, 2] = 1.0
    # Add back `amount` times what the blur removed: the detail.
    return identity + amount * (identity - _gaussian(5, 1.0))


def _sobel_x() -> np.ndarray:
    return np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)


def _sobel_y() -> np.ndarray:
    return _sobel_x().T.copy()


def _prewitt_x() -> np.ndarray:
    return np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]], dtype=np.float64)


def _prewitt_y() -> np.ndarray:
    return _prewitt_x().T.copy()


def _laplacian() -> np.ndarray:
    return np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64)


def _emboss() -> np.ndarray:
    return np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=np.float64)


def _outline() -> np.ndarray:
    return np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float64)


_ALL = (
    NamedKernel(
        "identity",
        N_("Identity"),
        N_("Copies the image unchanged: a single 1 in the centre."),
        _identity,
    ),
    NamedKernel(
        "box_blur",
        N_("Box blur"),
        N_("Replaces each pixel by the plain average of its neighbourhood."),
        _box_blur,
        {"size": 3},
    ),
    NamedKernel(
        "gaussian",
        N_("Gaussian blur"),
        N_("A weighted average that trusts near neighbours more: a smooth blur."),
        _gaussian,
        {"size": 5, "sigma": 1.0},
    ),
    NamedKernel(
        "sharpen",
        N_("Sharpen"),
        N_("Boosts each pixel against its four neighbours, so edges look crisper."),
        _sharpen,
    ),
    NamedKernel(
        "unsharp_mask",
        N_("Unsharp mask"),
        N_("Adds back the detail a Gaussian blur removes: a gentler, tunable sharpen."),
        _unsharp_mask,
        {"amount": 1.0},
    ),
    NamedKernel(
        "sobel_x",
        N_("Sobel x"),
        N_("Responds to left-to-right brightness changes: vertical edges."),
        _sobel_x,
    ),
    NamedKernel(
        "sobel_y",
        N_("Sobel y"),
        N_("Responds to top-to-bottom brightness changes: horizontal edges."),
        _sobel_y,
    ),
    NamedKernel(
        "prewitt_x",
        N_("Prewitt x"),
        N_("Like Sobel x, but all three rows count equally."),
        _prewitt_x,
    ),
    NamedKernel(
        "prewitt_y",
        N_("Prewitt y"),
        N_("Like Sobel y, but all three columns count equally."),
        _prewitt_y,
    ),
    NamedKernel(
        "laplacian",
        N_("Laplacian"),
        N_("Compares each pixel with its four neighbours: edges in every direction."),
        _laplacian,
    ),
    NamedKernel(
        "emboss",
        N_("Emboss"),
        N_("Lights the image from the top left, so it looks pressed into metal."),
        _emboss,
    ),
    NamedKernel(
        "outline",
        N_("Outline"),
        N_("Compares each pixel with all eight neighbours: flat areas go black, edges stay."),
        _outline,
    ),
)

KERNELS: dict[str, NamedKernel] = {k.name: k for k in _ALL}  # in display order


def get_kernel(name: str, **params) -> np.ndarray:
    """Build the named filter as a float64 array; unknown names or parameters raise ValueError."""
    if not isinstance(name, str) or name not in KERNELS:
        raise ValueError(f"Unknown filter {name!r}.")
    kernel = KERNELS[name]
    unknown = sorted(set(params) - set(kernel.params))
    if unknown:
        if kernel.params:
            accepted = ", ".join(kernel.params)
            raise ValueError(f"The {name} filter takes only {accepted}; got {', '.join(unknown)}.")
        raise ValueError(f"The {name} filter takes no parameters; got {', '.join(unknown)}.")
    return kernel.build(**{**kernel.params, **params})
