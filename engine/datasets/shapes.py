"""Generated grey shapes — circle, square, triangle, cross, ring, star — for the training labs.

Every image gets its own random position, size, rotation, stroke width, brightness and noise, so a
model has to recognise a shape wherever it sits (what convolution and pooling are good at).

How an image is drawn: each shape is a signed distance ``d`` from each pixel centre to the shape's
edge (negative inside); the pixel's ink is ``clip(0.5 - d, 0, 1)``, which is 1 deep inside, 0
outside and blends along the edge over one pixel — light antialiasing, without supersampling.
Polygons (square, triangle, cross, star) use the exact distance to their nearest edge and an
even-odd crossing test for inside; the circle and ring have closed forms. Everything is vectorised
over the images of one class.
"""

from __future__ import annotations

import numpy as np

from engine.datasets.base import Dataset, check_seed, check_test_fraction, check_whole

__all__ = ["SHAPE_CLASSES", "make_shapes"]

SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring", "star")
DEFAULT_CLASSES = ("circle", "square", "triangle", "cross")
MAX_PER_CLASS = 5000
MIN_SIZE, MAX_SIZE = 16, 64


def _regular(n: int, radius: float = 1.0, start: float = np.pi / 2) -> np.ndarray:
    """``(n, 2)`` vertices of a regular polygon with circumradius ``radius``."""
    a = start + 2 * np.pi * np.arange(n) / n
    return radius * np.stack([np.cos(a), np.sin(a)], axis=1)


def _star(inner: np.ndarray) -> np.ndarray:
    """``(B, 10, 2)`` five-pointed stars: outer radius 1, inner radius ``inner`` (B,)."""
    radius = np.where(np.arange(10) % 2 == 0, 1.0, inner[:, None])  # (B, 10)
    a = np.pi / 2 + np.pi * np.arange(10) / 5
    return np.stack([radius * np.cos(a), radius * np.sin(a)], axis=2)


def _plus(half_width: np.ndarray) -> np.ndarray:
    """``(B, 12, 2)`` plus signs with arms reaching 1 and half as wide as ``half_width`` (B,)."""
    h = half_width[:, None]
    one = np.ones_like(h)
    xs = np.concatenate([h, h, one, one, h, h, -h, -h, -one, -one, -h, -h], axis=1)
    ys = np.concatenate([one, h, h, -h, -h, -one, -one, -h, -h, h, h, one], axis=1)
    return np.stack([xs, ys], axis=2)


def _polygon_sdf(px: np.ndarray, py: np.ndarray, verts: np.ndarray) -> np.ndarray:
    """Signed distance from pixel centres to polygons (negative inside).

    ``px, py``: ``(H, W)`` pixel coordinates; ``verts``: ``(B, V, 2)`` world vertices in order.
    Returns ``(B, H, W)``. After Inigo Quilez's ``sdPolygon``: the distance is the minimum over
    edges, the sign comes from counting edge crossings of a horizontal ray (even-odd rule).
    """
    x, y = px[None], py[None]  # (1, H, W)
    vx, vy = verts[..., 0], verts[..., 1]  # (B, V)
    d2 = np.full((verts.shape[0], *px.shape), np.inf)
    inside = np.zeros(d2.shape, dtype=bool)
    for i in range(verts.shape[1]):
        j = i - 1  # the edge from vertex j to vertex i; -1 wraps round to the last vertex
        ax, ay = vx[:, i, None, None], vy[:, i, None, None]  # (B, 1, 1)
        ex, ey = vx[:, j, None, None] - ax, vy[:, j, None, None] - ay
        wx, wy = x - ax, y - ay  # (B, H, W)
        t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        bx, by = wx - ex * t, wy - ey * t
        np.minimum(d2, bx * bx + by * by, out=d2)
        above, below, left = y >= ay, y < vy[:, j, None, None], ex * wy > ey * wx
        inside ^= (above & below & left) | (~above & ~below & ~left)
    return np.where(inside, -1.0, 1.0) * np.sqrt(d2)


def _draw(kind: str, px, py, cx, cy, radius, angle, stroke, inner) -> np.ndarray:
    """Signed distances ``(B, H, W)`` of ``B`` shapes of one kind; arguments are ``(B,)``."""
    if kind in ("circle", "ring"):
        r = np.hypot(px[None] - cx[:, None, None], py[None] - cy[:, None, None])
        if kind == "circle":
            return r - radius[:, None, None]
        # A band of width `stroke` whose outer edge is at `radius`.
        mid = (radius - stroke / 2)[:, None, None]
        return np.abs(r - mid) - (stroke / 2)[:, None, None]
    b = len(cx)
    if kind == "square":
        canon = np.broadcast_to(_regular(4, start=np.pi / 4), (b, 4, 2))
    elif kind == "triangle":
        canon = np.broadcast_to(_regular(3), (b, 3, 2))
    elif kind == "cross":
        canon = _plus(stroke / (2 * radius))
    else:  # star
        canon = _star(inner)
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x = canon[..., 0] * radius[:, None]
    y = canon[..., 1] * radius[:, None]
    verts = np.stack([cx[:, None] + cos * x - sin * y, cy[:, None] + sin * x + cos * y], axis=2)
    return _polygon_sdf(px, py, verts)


def _check_classes(classes) -> tuple[str, ...]:
    if isinstance(classes, str) or not isinstance(classes, list | tuple):
        raise ValueError("Shape classes must be a list of names, like ['circle', 'square'].")
    classes = tuple(classes)
    unknown = [c for c in classes if c not in SHAPE_CLASSES]
    if unknown:
        raise ValueError(f"Unknown shape {unknown[0]!r}: choose from {', '.join(SHAPE_CLASSES)}.")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError("Choose at least two different shape classes, each once.")
    return classes


def make_shapes(
    n_per_class: int = 500,
    size: int = 28,
    seed: int = 0,
    classes: tuple[str, ...] | list[str] = DEFAULT_CLASSES,
    test_fraction: float = 0.2,
    noise: float = 0.1,
) -> Dataset:
    """Draw ``n_per_class`` images of each shape in ``classes``, ``(N, 1, size, size)`` float32.

    Per image: circumradius 22–42 % of ``size``, centre anywhere that keeps the shape inside,
    any rotation, stroke width (ring band, cross arm) 1.5–3.5 px at 28×28, brightness 0.6–1 on
    black, and Gaussian noise with a standard deviation drawn from 0 to ``noise``; clipped to
    [0, 1]. Classes are interleaved (label ``i % len(classes)``); the last
    ``round(test_fraction * n_per_class)`` images of each class form the test set.
    """
    n_per_class = check_whole(n_per_class, "The number of images per class", 2, MAX_PER_CLASS)
    size = check_whole(size, "The image size", MIN_SIZE, MAX_SIZE)
    seed = check_seed(seed)
    classes = _check_classes(classes)
    test_fraction = check_test_fraction(test_fraction)
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.integer | np.floating):
        raise ValueError(f"The noise level must be a number from 0 to 1 (got {noise!r}).")
    if not 0 <= noise <= 1:  # also rejects NaN
        raise ValueError(f"The noise level must be from 0 to 1 (got {noise}).")

    k = len(classes)
    n = n_per_class * k
    labels = np.tile(np.arange(k, dtype=np.int64), n_per_class)  # 0, 1, ..., k-1, 0, 1, ...
    rng = np.random.default_rng(seed)
    # Every random number is drawn up front, in a fixed order, so a seed replays the same set.
    radius = rng.uniform(0.22, 0.42, n) * size
    margin = radius + 0.5
    cx = rng.uniform(margin, size - 1 - margin)
    cy = rng.uniform(margin, size - 1 - margin)
    angle = rng.uniform(0, 2 * np.pi, n)
    stroke = rng.uniform(1.5, 3.5, n) * (size / 28)
    inner = rng.uniform(0.38, 0.5, n)  # star: inner radius over outer radius
    brightness = rng.uniform(0.6, 1.0, n)
    noise_std = rng.uniform(0, noise, n)
    grain = rng.standard_normal((n, size, size))

    py, px = np.mgrid[0:size, 0:size].astype(np.float64)  # pixel centres, y down
    ink = np.empty((n, size, size))
    for c, kind in enumerate(classes):
        idx = np.flatnonzero(labels == c)
        sdf = _draw(kind, px, py, *(a[idx] for a in (cx, cy, radius, angle, stroke, inner)))
        ink[idx] = np.clip(0.5 - sdf, 0.0, 1.0)
    x = ink * brightness[:, None, None] + grain * noise_std[:, None, None]
    x = np.clip(x, 0.0, 1.0).astype(np.float32)[:, None]  # (N, H, W) -> (N, 1, H, W)

    n_test = min(max(round(test_fraction * n_per_class), 1), n_per_class - 1)
    split = (n_per_class - n_test) * k  # classes are interleaved, so every class splits alike
    names = ", ".join(classes)
    return Dataset(
        name="shapes",
        x_train=x[:split],
        y_train=labels[:split],
        x_test=x[split:],
        y_test=labels[split:],
        class_names=list(classes),
        description=(
            f"{n:,} generated {size}×{size} grey images of {k} shapes ({names}) at random "
            f"positions, sizes and angles, with noise (seed {seed})."
        ),
    )
