"""Arrays -> PNG bytes: signed maps in a diverging colour map centred on zero, others in grey."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# Diverging blue–white–orange (colour-blind safe), anchored at -1, 0 and +1.
_NEGATIVE = np.array([33, 102, 172], dtype=np.float32)  # blue
_ZERO = np.array([247, 247, 247], dtype=np.float32)  # near-white
_POSITIVE = np.array([179, 88, 6], dtype=np.float32)  # burnt orange


def symmetric_limit(values: np.ndarray) -> float:
    """Largest absolute value, so that zero sits in the middle of the colour scale."""
    finite = values[np.isfinite(values)]
    limit = float(np.abs(finite).max()) if finite.size else 0.0
    return limit if limit > 0 else 1.0


def map_scale(values: np.ndarray) -> tuple[str, float, float]:
    """How to colour a map: ("diverging", -L, +L) if any value is negative, else ("grey", 0, max).

    A map with no negative values (a blur, say) would be all one hue on a diverging scale.
    """
    finite = values[np.isfinite(values)]
    # float32 round-off leaves blurs with values like -1e-5; those are zeros, not negatives.
    if finite.size and finite.min() < -1e-6 * max(float(np.abs(finite).max()), 1e-30):
        limit = symmetric_limit(finite)
        return "diverging", -limit, limit
    top = float(finite.max()) if finite.size else 0.0
    return "grey", 0.0, top if top > 0 else 1.0


def colour_map(values: np.ndarray) -> np.ndarray:
    kind, low, high = map_scale(values)
    if kind == "diverging":
        return diverging_rgb(values, high)
    return np.round(np.clip(values / high, 0, 1) * 255).astype(np.uint8)


def diverging_rgb(values: np.ndarray, limit: float) -> np.ndarray:
    """(H, W) signed values -> (H, W, 3) uint8, with -limit blue, 0 white and +limit orange."""
    t = np.clip(values / limit, -1.0, 1.0).astype(np.float32)[..., None]
    pos = np.clip(t, 0, 1)
    neg = np.clip(-t, 0, 1)
    rgb = _ZERO + pos * (_POSITIVE - _ZERO) + neg * (_NEGATIVE - _ZERO)
    return np.round(rgb).astype(np.uint8)


def colour_bar_rgb(width: int = 256, height: int = 12) -> np.ndarray:
    ramp = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :].repeat(height, axis=0)
    return diverging_rgb(ramp, 1.0)


def clipped_grey(values: np.ndarray) -> np.ndarray:
    """The 'as image' view: values clipped to the 0..255 range a screen can show."""
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def png_bytes(pixels: np.ndarray) -> bytes:
    """(H, W) or (H, W, 3) uint8 -> PNG. Fast compression: these are made per request."""
    image = Image.fromarray(np.ascontiguousarray(pixels))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def png_data_uri(pixels: np.ndarray) -> str:
    """A small picture inline in the page (a drawing's steps), as a data: URI."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()
