"""Small image datasets for the training labs, ready as ``(N, 1, H, W)`` float32 arrays in [0, 1].

* :func:`load_digits` — 1,797 real handwritten digits (8×8, optionally resampled to 16 or 28),
  bundled in ``data/`` (credits and licence in ``data/CREDITS.md``);
* :func:`make_shapes` — generated grey shapes (circle, square, triangle, cross, ring, star) at
  random positions, sizes and angles.

Both return a :class:`Dataset` with a fixed, stratified train/test split: the same arguments
always give the same arrays, and every class sends the same fraction of its images to the test set.
"""

from __future__ import annotations

from engine.datasets.base import Dataset, stratified_split
from engine.datasets.digits import load_digits
from engine.datasets.shapes import make_shapes

__all__ = ["DATASETS", "Dataset", "load_dataset", "load_digits", "make_shapes", "stratified_split"]

DATASETS = ("digits", "shapes")


def load_dataset(name: str, **kw) -> Dataset:
    """``load_dataset("digits", size=16)`` or ``load_dataset("shapes", n_per_class=100)``."""
    loaders = {"digits": load_digits, "shapes": make_shapes}
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in loaders:
        raise ValueError(f"Unknown dataset {name!r}: choose one of {', '.join(DATASETS)}.")
    try:
        return loaders[key](**kw)
    except TypeError as exc:  # an unexpected keyword: say which in plain words
        raise ValueError(f"The {key} dataset does not accept these settings: {exc}.") from None
