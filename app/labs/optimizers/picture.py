"""The Optimizer lab's surface picture: the loss surface as grey levels, and its scale."""

from __future__ import annotations

import math

import numpy as np

from app.labs.optimizers.fields import MapFields
from engine.surfaces import Surface

MAP_WIDTH = 480  # pixels across the surface picture; the height follows the box


def surface_pixels(surface: Surface, view: str, width: int = MAP_WIDTH) -> np.ndarray:
    """The surface as a grey picture, (H, W) uint8: white at the lowest point in view, darker
    going up; on a log scale (of the height above the lowest point) when the values span many
    decades. ``contour`` draws 18 level lines on white, ``heatmap`` fills with the grey."""
    x0, x1, y0, y1 = surface.box
    height = round(width * (y1 - y0) / (x1 - x0))
    _, _, values = surface.grid(width, height)
    t = height_fraction(surface, values)
    levels = np.floor(t * 18)
    edge = np.zeros(t.shape, dtype=bool)
    edge[:, :-1] |= levels[:, :-1] != levels[:, 1:]
    edge[:-1, :] |= levels[:-1, :] != levels[1:, :]
    if view == "heatmap":
        grey = 250 - 140 * t
        grey[edge] -= 25
    else:
        grey = np.full(t.shape, 252.0)
        grey[edge] = 150 - 40 * t[edge]
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


def height_fraction(surface: Surface, values: np.ndarray) -> np.ndarray:
    """Where each value sits between the lowest and highest in view, 0..1 (log scale if the
    surface asks for it: log of the height above the lowest point, over five decades)."""
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 1e-300)
    if surface.log_scale:
        floor = span * 1e-5
        lv = np.log10(values - low + floor)
        return (lv - math.log10(floor)) / (math.log10(span + floor) - math.log10(floor))
    return (values - low) / span


def map_scale(surface: Surface) -> tuple[float, float]:
    """The lowest and highest value on the map, for the colour scale's labels."""
    _, _, values = surface.grid(96, 96)
    return float(values.min()), float(values.max())


def map_png_key(state: MapFields) -> str:
    return "optmap:" + state.map_query()
