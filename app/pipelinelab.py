"""The CNN pipeline view: a real image through a stack of layers, every layer's maps, shape,
parameter count and receptive field. It is built from (LayerInfo, activation) pairs, so any model
that can report its activations can be shown — the Training lab's trained networks included.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from app import filterlab
from app.errors import from_engine_error
from app.forms import parse_int
from app.i18n import N_
from app.sources import parse_source
from engine import architecture, edgenet
from engine.activations import relu
from engine.errors import EngineError

RESOLUTIONS = (32, 64, 128)
LENET5 = "conv 6 5x5, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10"
DEMO_ARCHITECTURE = (
    "conv 8 3x3 same, relu, pool 2, conv 12 3x3 same, relu, pool 2, flatten, dense 10"
)
MAX_ARCH_TEXT = 2000


@dataclass
class PipelineState:
    sample: str | None = "cat"
    upload: str | None = None
    res: int = 64
    arch: str = LENET5
    input_shape: str = "1x32x32"

    def query(self) -> str:
        from urllib.parse import urlencode

        head = [("upload", self.upload)] if self.upload else [("sample", self.sample or "")]
        return urlencode([*head, ("pres", str(self.res)), ("arch", self.arch),
                          ("input", self.input_shape)])  # fmt: skip

    def image_key(self) -> str:
        return f"pipe:{self.upload or self.sample}:{self.res}"


def parse_state(params) -> PipelineState:
    state = PipelineState()
    state.sample, state.upload = parse_source(params, "cat")
    state.res = parse_int(params.get("pres"), N_("Working size"), 64, 8, 128)
    state.res = min(RESOLUTIONS, key=lambda r: abs(r - state.res))
    if params.get("arch") is not None:
        state.arch = params.get("arch")[:MAX_ARCH_TEXT]
    if params.get("input") is not None:
        state.input_shape = params.get("input")[:60]
    return state


@dataclass
class PipelineLayer:
    info: architecture.LayerInfo
    values: np.ndarray  # (C, H, W) maps or (units,) vector, for one image
    channel_names: list[str] | None  # msgids of named filters, when the layer has them


@dataclass
class Pipeline:
    image: np.ndarray  # (H, W) in 0..1
    layers: list[PipelineLayer]

    @property
    def nbytes(self) -> int:
        return self.image.nbytes + sum(layer.values.nbytes for layer in self.layers)


def demo_pipeline(image: np.ndarray) -> Pipeline:
    """The edge network on one grey image (H, W) in 0..1, with a dense layer of 10 units whose
    weights are random (seeded): untrained, as the page says."""
    specs = architecture.parse_architecture(DEMO_ARCHITECTURE)
    infos = architecture.analyse((1, *image.shape), specs)
    features = edgenet.stages(image[None, None].astype(np.float32))
    flat = features["pool2"][0].reshape(-1)
    rng = np.random.default_rng(0)
    weights = rng.normal(0, np.sqrt(2 / flat.size), size=(10, flat.size)).astype(np.float32)
    dense = weights @ flat
    layer1 = [name for name, _ in edgenet.LAYER1]
    layer2 = [name for name, _ in edgenet.LAYER2]
    values = [
        (features["conv1"][0], layer1),
        (relu(features["conv1"][0]), layer1),
        (features["pool1"][0], layer1),
        (features["conv2"][0], layer2),
        (relu(features["conv2"][0]), layer2),
        (features["pool2"][0], layer2),
        (flat, None),
        (dense, None),
    ]
    layers = [PipelineLayer(info, v, names) for info, (v, names) in zip(infos, values, strict=True)]
    return Pipeline(image, layers)


def compute(state: PipelineState, uploads, results, samples_dir) -> Pipeline:
    key = state.image_key()
    cached = results.get(key)
    if cached is not None:
        return cached
    source = filterlab.load_source(state, uploads, samples_dir)
    image = filterlab.grey(filterlab.resize_to(source, state.res)) / 255.0
    pipeline = demo_pipeline(image)
    results.put(key, pipeline, pipeline.nbytes)
    return pipeline


def field_box(info: architecture.LayerInfo, shape: tuple[int, int]) -> dict:
    """The receptive field of the layer's centre unit, as percentages of the input picture."""
    height, width = shape
    boxes = []
    for f, n, out in zip(info.fields, (height, width), _spatial(info, shape), strict=True):
        centre = f.centre + (out // 2) * f.jump
        low = max(0.0, centre - (f.size - 1) / 2)
        high = min(n - 1.0, centre + (f.size - 1) / 2)
        boxes.append((low / n * 100, (high - low + 1) / n * 100))
    return {"top": boxes[0][0], "height": boxes[0][1], "left": boxes[1][0], "width": boxes[1][1]}


def _spatial(info: architecture.LayerInfo, shape: tuple[int, int]) -> tuple[int, int]:
    return info.shape[1:] if len(info.shape) == 3 else (1, 1)


def shape_table(state: PipelineState):
    """The shape calculator: (input shape, rows) or an EngineError turned into a UserError."""
    try:
        input_shape = architecture.parse_input_shape(state.input_shape)
        specs = architecture.parse_architecture(state.arch)
        infos = architecture.analyse(input_shape, specs)
    except EngineError as error:
        raise from_engine_error(error) from error
    return input_shape, infos


def cache_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
