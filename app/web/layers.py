"""What a page shows of a network's layers: (LayerInfo, activation) pairs and where each layer's
receptive field falls on the input. The pipeline view and the Training lab's "look inside" share
them, so any model that reports its activations can be shown."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import architecture


@dataclass
class PipelineLayer:
    info: architecture.LayerInfo
    values: np.ndarray  # (C, H, W) maps or (units,) vector, for one image
    channel_names: list[str] | None  # msgids of named filters, when the layer has them


def field_box(info: architecture.LayerInfo, shape: tuple[int, int]) -> dict:
    """The receptive field of the layer's centre unit, as percentages of the input picture."""
    height, width = shape
    boxes = []
    for f, n, out in zip(info.fields, (height, width), _spatial(info), strict=True):
        centre = f.centre + (out // 2) * f.jump
        low = max(0.0, centre - (f.size - 1) / 2)
        high = min(n - 1.0, centre + (f.size - 1) / 2)
        boxes.append((low / n * 100, (high - low + 1) / n * 100))
    return {"top": boxes[0][0], "height": boxes[0][1], "left": boxes[1][0], "width": boxes[1][1]}


def _spatial(info: architecture.LayerInfo) -> tuple[int, int]:
    return info.shape[1:] if len(info.shape) == 3 else (1, 1)


def dense_bars(values: np.ndarray) -> list[tuple[int, float, float]]:
    """(index, value, bar length in % of the largest magnitude) for a vector's bar chart."""
    top = float(np.abs(values).max()) or 1.0
    return [(i, float(v), abs(float(v)) / top * 100) for i, v in enumerate(values)]
