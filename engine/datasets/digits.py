"""The 1,797 handwritten 8×8 digits of the UCI "Optical Recognition of Handwritten Digits" set.

The data file ships with the engine (``data/digits.csv.gz``, CC BY 4.0; see ``data/CREDITS.md``).
Each row is 64 pixels from 0 to 16 and the digit; pixels are divided by 16 to land in [0, 1].

Deeper networks shrink 8×8 maps to nothing after two poolings, so ``size=16`` or ``28`` resamples
each image with bilinear interpolation in PyTorch's ``align_corners=False`` convention: output
pixel ``i`` samples the input at ``(i + 0.5) * 8 / size - 0.5``, clamped to the border. The
result is smooth, not new detail: an upsampled digit still holds 64 numbers' worth of
information.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from engine.datasets.base import Dataset, check_seed, check_test_fraction, stratified_split

__all__ = ["DIGIT_SIZES", "bilinear_matrix", "load_digits", "resize_bilinear"]

DIGIT_SIZES = (8, 16, 28)
DATA_FILE = Path(__file__).parent / "data" / "digits.csv.gz"
DESCRIPTION = (
    "1,797 handwritten digits, 8×8 pixels with 17 grey levels, written by 13 people: the test set "
    "of the UCI Optical Recognition of Handwritten Digits data (E. Alpaydin and C. Kaynak, "
    "doi:10.24432/C50P49, CC BY 4.0), as distributed with scikit-learn."
)


def bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` weights of 1-D linear interpolation (``align_corners=False``).

    Each row has at most two non-zero weights that sum to 1, so results stay in the input's range.
    """
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    m[rows, lo] += 1 - frac
    m[rows, hi] += frac
    return m


def resize_bilinear(x: np.ndarray, size: int) -> np.ndarray:
    """Resample ``(..., H, W)`` images to ``(..., size, size)`` bilinearly (rows, then columns)."""
    rows = bilinear_matrix(x.shape[-2], size)  # (size, H)
    cols = bilinear_matrix(x.shape[-1], size)  # (size, W)
    # (..., H, W) -> (..., size, size): weights along H, then along W; separable, so exact.
    return np.einsum("ih,...hw,jw->...ij", rows, x, cols, optimize=True)


def _read() -> tuple[np.ndarray, np.ndarray]:
    """Pixels ``(1797, 8, 8)`` int64 in 0..16 and labels ``(1797,)`` int64."""
    with gzip.open(DATA_FILE, "rt", encoding="ascii") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)  # (1797, 65)
    return table[:, :64].reshape(-1, 8, 8), table[:, 64]


def load_digits(size: int = 8, seed: int = 0, test_fraction: float = 0.2) -> Dataset:
    """The digits as ``(N, 1, size, size)`` float32 in [0, 1], split by class.

    ``seed`` and ``test_fraction`` fix the split: each digit sends ``round(test_fraction * count)``
    of its images to the test set, so the default gives 1,438 training and 359 test images.
    """
    if isinstance(size, bool) or size not in DIGIT_SIZES:
        raise ValueError(
            f"The digit image size must be one of {', '.join(map(str, DIGIT_SIZES))} "
            f"(got {size!r})."
        )
    seed = check_seed(seed)
    test_fraction = check_test_fraction(test_fraction)
    pixels, labels = _read()
    x = pixels[:, None].astype(np.float64) / 16.0  # (N, 8, 8) -> (N, 1, 8, 8), in [0, 1]
    if size != 8:
        x = np.clip(resize_bilinear(x, size), 0.0, 1.0)  # clip: only float round-off to remove
    x = x.astype(np.float32)
    train, test = stratified_split(labels, test_fraction, seed)
    return Dataset(
        name="digits",
        x_train=x[train],
        y_train=labels[train],
        x_test=x[test],
        y_test=labels[test],
        class_names=[str(d) for d in range(10)],
        description=DESCRIPTION,
    )
