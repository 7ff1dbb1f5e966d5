"""A dataset of the user's own pictures: 2 to 5 named classes, a few pictures each, split once
with a share of every class held out for the test.

The pictures arrive already at the working size, as ``(N, C, H, W)`` arrays (uint8 in 0..255, or
floats in [0, 1]); decoding and resizing files is the app's job, not the engine's.

A handful of pictures per class is easy to overfit, and a test set of one or two pictures per
class says little: :func:`held_out_is_small` tells when, so the page can say it plainly.
"""

from __future__ import annotations

import numpy as np

from engine.datasets.base import Dataset, check_seed, check_test_fraction, stratified_split

__all__ = ["MAX_CLASSES", "MIN_CLASSES", "MIN_TEST_PER_CLASS", "own_dataset", "held_out_is_small"]

MIN_CLASSES, MAX_CLASSES = 2, 5
MIN_PER_CLASS = 5  # fewer, and the split leaves too little on one side or the other
MIN_TEST_PER_CLASS = 5  # below this, one picture moves a class's test accuracy by over 20 points


def own_dataset(images, labels, class_names, test_fraction: float = 0.25, seed: int = 0,
                min_per_class: int = MIN_PER_CLASS) -> Dataset:  # fmt: skip
    """``images`` (N, C, H, W) with C = 1 or 3, ``labels`` (N,) class indices into
    ``class_names`` (2 to 5 distinct, non-empty names). Every class needs ``min_per_class``
    pictures; ``round(test_fraction · count)`` of each (at least one) go to the test set."""
    names = [str(name).strip() for name in class_names]
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise ValueError(f"Give {MIN_CLASSES} to {MAX_CLASSES} classes (got {len(names)}).")
    if any(not name for name in names):
        raise ValueError("Every class needs a name.")
    if len({name.casefold() for name in names}) != len(names):
        raise ValueError("Two classes have the same name: give each its own.")
    x = np.asarray(images)
    y = np.asarray(labels)
    if x.ndim != 4 or x.shape[1] not in (1, 3) or min(x.shape[2:]) < 1:
        raise ValueError(f"images must be (N, C, H, W) with C = 1 or 3 (got {x.shape}).")
    if y.shape != (len(x),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be {len(x)} class indices (got shape {y.shape}).")
    if len(y) and (y.min() < 0 or y.max() >= len(names)):
        raise ValueError(f"labels must be between 0 and {len(names) - 1}.")
    counts = np.bincount(y, minlength=len(names)) if len(y) else np.zeros(len(names), int)
    short = [name for name, count in zip(names, counts, strict=True) if count < min_per_class]
    if short:
        raise ValueError(
            f"Every class needs at least {min_per_class} pictures; too few in: {', '.join(short)}."
        )
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / 255.0
    else:
        x = x.astype(np.float32)
        if not np.isfinite(x).all() or x.min() < 0 or x.max() > 1:
            raise ValueError("Float pictures must hold values in [0, 1].")
    train, test = stratified_split(y, check_test_fraction(test_fraction), check_seed(seed))
    return Dataset(
        name="own",
        x_train=x[train],
        y_train=y[train].astype(np.int64),
        x_test=x[test],
        y_test=y[test].astype(np.int64),
        class_names=names,
        description="Your own pictures.",
    )


def held_out_is_small(dataset: Dataset, minimum: int = MIN_TEST_PER_CLASS) -> bool:
    """True when some class has fewer than `minimum` test pictures: its test accuracy then moves
    by more than 100 / minimum points with a single picture."""
    counts = np.bincount(dataset.y_test, minlength=dataset.n_classes)
    return bool(counts.min() < minimum)
