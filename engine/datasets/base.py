"""What the datasets share: the Dataset record, the stratified split and the argument checks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images and labels, split once into train and test.

    ``x_*`` are ``(N, C, H, W)`` float32 in [0, 1]; ``y_*`` are ``(N,)`` int64 class indices
    into ``class_names``.
    """

    name: str  # "digits", "shapes"
    x_train: np.ndarray  # (N_train, C, H, W) float32
    y_train: np.ndarray  # (N_train,) int64
    x_test: np.ndarray  # (N_test, C, H, W) float32
    y_test: np.ndarray  # (N_test,) int64
    class_names: list[str]  # label i is class_names[i]
    description: str  # one paragraph for the page, with the source

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of one image."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}, train={len(self.y_train)}, test={len(self.y_test)}, "
            f"image_shape={self.image_shape}, classes={self.n_classes})"
        )


def check_test_fraction(test_fraction) -> float:
    ok = not isinstance(test_fraction, bool) and isinstance(
        test_fraction, int | float | np.integer | np.floating
    )
    if not ok or not 0 < float(test_fraction) < 1:  # also rejects NaN
        raise ValueError(
            f"The test fraction must be a number between 0 and 1, like 0.2 (got {test_fraction!r})."
        )
    return float(test_fraction)


def stratified_split(
    y: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(train, test)`` of a split that sends ``test_fraction`` of every class to test.

    Each class gives ``round(test_fraction * count)`` images (at least one, and at least one left
    for training), picked by a generator seeded with ``seed``. Both index arrays are sorted, so
    the images keep their original order.
    """
    rng = np.random.default_rng(seed)
    test = []
    for c in np.unique(y):  # in class order, so the draws do not depend on dict or set order
        members = np.flatnonzero(y == c)
        n_test = min(max(round(test_fraction * len(members)), 1), len(members) - 1)
        test.append(rng.permutation(members)[:n_test])
    test_idx = np.sort(np.concatenate(test))
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[test_idx] = False
    return np.flatnonzero(train_mask), test_idx


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"The seed must be a whole number ≥ 0 (got {seed!r}).")
    return int(seed)


def check_whole(value, what: str, low: int, high: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer | float | np.floating)
    if not ok or not math.isfinite(float(value)) or float(value) != int(value):
        raise ValueError(f"{what} must be a whole number from {low} to {high} (got {value!r}).")
    if not low <= int(value) <= high:
        raise ValueError(f"{what} must be from {low} to {high} (got {int(value)}).")
    return int(value)


# The loaders need Dataset and the helpers above, so they are imported after them.
