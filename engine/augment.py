"""Data augmentation: random shifts, rotations, zooms, mirror flips and noise, per batch.

An :class:`Augmenter` is applied to each training batch as it is drawn (``x = aug(x, rng)``), so
the network sees a slightly different version of every image each epoch; nothing is stored.
Randomness comes from the ``np.random.Generator`` passed in, so a seed replays a run.

The geometry of one image is a single affine warp about the image centre, done by
:func:`warp` for the whole batch at once: mirror (optional), then rotate and scale, then shift.
Each output pixel looks up where it came from in the input and interpolates bilinearly between
the four nearest pixels; whatever comes from outside the image is 0 (black). Integer shifts,
mirror flips and quarter turns land exactly on pixel centres, so they move values without
blurring them.

Conventions: arrays are ``(N, C, H, W)`` floats; a positive angle turns the picture
counter-clockwise as displayed (row 0 at the top), like ``np.rot90``; a shift is
``(down, right)`` in pixels; a scale above 1 enlarges the content.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Augmenter", "WarpParams", "warp"]

MAX_SHIFT = 256  # pixels; beyond any image the labs use
MIN_SCALE, MAX_SCALE = 0.25, 4.0
MAX_COPIES = 64
_SAMPLE_PAD = 2  # rows and columns of zeros around a batch being sampled


def _check_batch(x) -> np.ndarray:
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        shape = getattr(x, "shape", None)
        raise ValueError(f"Images must be a 4-D array (N, C, H, W) (got shape {shape}).")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"Images must hold floats, like float32 (got {x.dtype}).")
    return x


def _bilinear_sample(x: np.ndarray, src_y: np.ndarray, src_x: np.ndarray) -> np.ndarray:
    """Sample ``x`` ``(N, C, H, W)`` at ``(src_y, src_x)`` ``(N, H, W)``; 0 outside the image.

    The batch is padded with two rows and columns of zeros: a pixel whose four neighbours are
    partly outside then reads zeros there, and one wholly outside is sent to the padding's
    corner. So each corner is one gather from a flat array, with no masks (4× faster than
    masking each corner, on a batch of 32 digits).
    """
    n, c, h, w = x.shape
    pad = _SAMPLE_PAD
    hp, wp = h + 2 * pad, w + 2 * pad
    padded = np.zeros((n, c, hp, wp), dtype=x.dtype)
    padded[:, :, pad : pad + h, pad : pad + w] = x
    y0, x0 = np.floor(src_y), np.floor(src_x)
    fy, fx = (src_y - y0).astype(x.dtype), (src_x - x0).astype(x.dtype)
    y0, x0 = y0 + pad, x0 + pad  # in the padded image
    # A corner pair (y0, y0 + 1) inside the padded image has y0 in [0, hp - 2]; beyond, every
    # neighbour is outside the picture, as are the padding's first two rows and columns.
    outside = (y0 < 0) | (y0 > hp - 2) | (x0 < 0) | (x0 > wp - 2)
    corner = np.where(outside, 0, y0 * wp + x0).astype(np.intp)  # (N, H, W) in each plane
    corner = corner.reshape(n, 1, h * w)
    if c == 1:  # a grey batch: the sample's plane, folded into the corner
        index = corner + (np.arange(n, dtype=np.intp) * (hp * wp)).reshape(n, 1, 1)
    else:
        index = corner + (np.arange(n * c, dtype=np.intp) * (hp * wp)).reshape(n, c, 1)
    flat = padded.reshape(-1)  # index (N, C, H*W) is into this
    out = np.zeros((n, c, h * w), dtype=x.dtype)
    for offset, weight in (
        (0, (1 - fy) * (1 - fx)),
        (1, (1 - fy) * fx),
        (wp, fy * (1 - fx)),
        (wp + 1, fy * fx),
    ):
        # Skip corners with no weight anywhere: exact moves then add nothing, not even 0 * inf.
        if weight.any():
            out += weight.reshape(n, 1, h * w) * np.take(flat[offset:], index)
    return out.reshape(n, c, h, w)


def warp(x: np.ndarray, angle=0.0, scale=1.0, shift=(0.0, 0.0), flip=False) -> np.ndarray:
    """Mirror, rotate, scale and shift every image of ``x`` about its centre, in one warp.

    ``x``: ``(N, C, H, W)`` floats. Each parameter is one value for the whole batch or one per
    image: ``angle`` in degrees (counter-clockwise) ``()`` or ``(N,)``; ``scale`` ``()`` or
    ``(N,)``; ``shift`` ``(2,)`` or ``(N, 2)`` as (down, right) pixels; ``flip`` (mirror
    left-right first) ``()`` or ``(N,)``. Returns a new ``(N, C, H, W)`` array of ``x.dtype``.
    """
    x = _check_batch(x)
    n, _, h, w = x.shape
    try:
        angle = np.broadcast_to(np.asarray(angle, dtype=np.float64), (n,))
        scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), (n,))
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), (n, 2))
        flip = np.broadcast_to(np.asarray(flip, dtype=bool), (n,))
    except ValueError:
        raise ValueError(
            "Warp parameters must be one value for the batch or one per image "
            f"({n} images; a shift is a (down, right) pair)."
        ) from None
    if not (np.all(np.isfinite(angle)) and np.all(np.isfinite(shift))):
        raise ValueError("Angles and shifts must be finite numbers.")
    if not np.all((scale > 0) & np.isfinite(scale)):
        raise ValueError("Scale factors must be finite numbers above 0.")

    theta = np.deg2rad(angle)
    cos, sin = np.cos(theta), np.sin(theta)
    # cos(90°) is 6e-17 in floating point: make quarter turns land exactly on pixel centres.
    cos = np.where(np.abs(cos) < 1e-12, 0.0, cos)[:, None, None]  # (N, 1, 1)
    sin = np.where(np.abs(sin) < 1e-12, 0.0, sin)[:, None, None]
    s = scale[:, None, None]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    oy = np.arange(h, dtype=np.float64)[:, None]  # output pixel centres, (H, 1) and (1, W)
    ox = np.arange(w, dtype=np.float64)[None, :]
    # Work backwards from each output pixel: undo the shift, then the rotation and scale
    # (rows point down, so a counter-clockwise turn on screen is this matrix), then the mirror.
    u = ox[None] - cx - shift[:, 1, None, None]  # (N, 1, W), to the right of the centre
    v = oy[None] - cy - shift[:, 0, None, None]  # (N, H, 1), below the centre
    src_x = (cos * u - sin * v) / s
    src_y = (sin * u + cos * v) / s
    src_x = np.where(flip[:, None, None], -src_x, src_x)
    return _bilinear_sample(x, src_y + cy, src_x + cx)


@dataclass(frozen=True)
class WarpParams:
    """The random draws for one batch, ``(N,)`` each (``shift`` is ``(N, 2)``), for display."""

    angle: np.ndarray  # degrees, counter-clockwise
    scale: np.ndarray  # zoom factor
    shift: np.ndarray  # (down, right) in whole pixels
    flip: np.ndarray  # mirrored left-right


def _range(value, what: str, low: float, high: float) -> float:
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.integer | np.floating)
    if not ok or not low <= float(value) <= high:  # also rejects NaN
        raise ValueError(f"{what} must be a number from {low:g} to {high:g} (got {value!r}).")
    return float(value)


@dataclass(frozen=True)
class Augmenter:
    """Random changes applied to each batch on the fly; all off by default (the identity)."""

    max_shift: int = 0  # shift each axis by a whole number of pixels in [-max_shift, max_shift]
    max_rotation: float = 0.0  # rotate by an angle in [-max_rotation, max_rotation] degrees
    scale: tuple[float, float] = (1.0, 1.0)  # zoom by a factor drawn from [low, high]
    flip: bool = False  # mirror left-right with probability 1/2 (not for digits: 2 vs 5!)
    noise_std: float = 0.0  # add Gaussian noise with this standard deviation after the warp

    def __post_init__(self) -> None:
        shift = self.max_shift
        if isinstance(shift, float) and shift.is_integer():
            shift = int(shift)
        if isinstance(shift, bool) or not isinstance(shift, int | np.integer):
            raise ValueError(f"The maximum shift must be a whole number of pixels (got {shift!r}).")
        if not 0 <= shift <= MAX_SHIFT:
            raise ValueError(
                f"The maximum shift must be from 0 to {MAX_SHIFT} pixels (got {shift})."
            )
        object.__setattr__(self, "max_shift", int(shift))
        rotation = _range(self.max_rotation, "The maximum rotation (degrees)", 0, 180)
        object.__setattr__(self, "max_rotation", rotation)
        if not isinstance(self.scale, list | tuple) or len(self.scale) != 2:
            raise ValueError(
                f"Scale must be a (low, high) pair like (0.9, 1.1) (got {self.scale!r})."
            )
        low = _range(self.scale[0], "The lowest scale", MIN_SCALE, MAX_SCALE)
        high = _range(self.scale[1], "The highest scale", MIN_SCALE, MAX_SCALE)
        if low > high:
            raise ValueError(
                f"The lowest scale ({low:g}) must not be above the highest ({high:g})."
            )
        object.__setattr__(self, "scale", (low, high))
        if not isinstance(self.flip, bool | np.bool_):
            raise ValueError(f"Flip must be true or false (got {self.flip!r}).")
        object.__setattr__(self, "flip", bool(self.flip))
        object.__setattr__(self, "noise_std", _range(self.noise_std, "The noise level", 0, 1))

    @property
    def moves_pixels(self) -> bool:
        """Whether any geometric change is switched on (else only noise, or nothing)."""
        return bool(self.max_shift or self.max_rotation or self.scale != (1.0, 1.0) or self.flip)

    def draw(self, n: int, rng: np.random.Generator) -> WarpParams:
        """The random geometry for ``n`` images; a change that is off draws nothing."""
        shift = np.zeros((n, 2))
        angle, scale = np.zeros(n), np.ones(n)
        flip = np.zeros(n, dtype=bool)
        if self.max_shift:
            shift = rng.integers(-self.max_shift, self.max_shift + 1, size=(n, 2)).astype(float)
        if self.max_rotation:
            angle = rng.uniform(-self.max_rotation, self.max_rotation, n)
        if self.scale != (1.0, 1.0):
            scale = rng.uniform(*self.scale, n)
        if self.flip:
            flip = rng.random(n) < 0.5
        return WarpParams(angle=angle, scale=scale, shift=shift, flip=flip)

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A new, randomly changed copy of the batch ``x`` ``(N, C, H, W)``; ``x`` is untouched."""
        x = _check_batch(x)
        if not isinstance(rng, np.random.Generator):
            raise ValueError("Pass a random generator, e.g. np.random.default_rng(0).")
        if self.moves_pixels:
            p = self.draw(len(x), rng)
            out = warp(x, angle=p.angle, scale=p.scale, shift=p.shift, flip=p.flip)
        else:
            out = x.copy()
        if self.noise_std:
            out += rng.normal(0.0, self.noise_std, x.shape).astype(x.dtype)
        return out

    def preview(self, x_samples: np.ndarray, n_copies: int = 8, seed: int = 0) -> np.ndarray:
        """``n_copies`` augmented versions of each sample: ``(k, C, H, W) -> (k, n_copies, C, H,
        W)``, the same for the same ``seed``."""
        x_samples = _check_batch(x_samples)
        if isinstance(n_copies, bool) or not isinstance(n_copies, int | np.integer):
            raise ValueError(f"The number of copies must be a whole number (got {n_copies!r}).")
        if not 1 <= n_copies <= MAX_COPIES:
            raise ValueError(
                f"The number of copies must be from 1 to {MAX_COPIES} (got {n_copies})."
            )
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"The seed must be a whole number ≥ 0 (got {seed!r}).")
        k = len(x_samples)
        batch = np.repeat(x_samples, n_copies, axis=0)  # (k * n_copies, C, H, W), sample-major
        out = self(batch, np.random.default_rng(seed))
        return out.reshape(k, n_copies, *x_samples.shape[1:])
