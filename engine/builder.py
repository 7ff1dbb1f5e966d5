"""Build a trainable Sequential model from the shape calculator's text.

    build("conv 6 5x5 same, relu, pool 2, dense 84, relu", (1, 16, 16), classes=10)

The text is checked layer by layer first (engine.architecture), so a stack that does not fit is
refused with the layer that breaks it. A final dense layer with one unit per class is appended
when the text does not end with one. The batch-norm toggle puts BatchNorm after every convolution
and hidden dense layer, before its activation.
"""

from __future__ import annotations

import numpy as np

from engine import architecture
from engine.errors import N_, EngineError
from engine.layers import (
    AvgPool2D,
    BatchNorm,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAvgPool2D,
    LeakyReLU,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from engine.model import Sequential

MAX_PARAMS = 2_000_000


def complete_specs(text: str, classes: int, batchnorm: bool) -> list[architecture.LayerSpec]:
    """Parse, insert BatchNorm if asked, and append the output layer when it is missing."""
    specs = architecture.parse_architecture(text)
    if batchnorm:
        with_bn = []
        for index, spec in enumerate(specs):
            with_bn.append(spec)
            following = specs[index + 1] if index + 1 < len(specs) else None
            hidden = spec.kind == "conv" or (spec.kind == "dense" and following is not None)
            if hidden and not (following and following.kind == "batchnorm"):
                with_bn.append(architecture.LayerSpec("batchnorm", "batchnorm", spec.position))
        specs = with_bn
    last = specs[-1]
    if not (last.kind == "dense" and last.units == classes):
        text_out = f"dense {classes}"
        specs.append(architecture.LayerSpec("dense", text_out, len(text), units=classes))
    return specs


def build(
    text: str,
    input_shape: tuple[int, int, int],
    classes: int,
    batchnorm: bool = False,
    rng: np.random.Generator | None = None,
) -> tuple[Sequential, list[architecture.LayerInfo]]:
    """(model, per-layer shapes) for the text; EngineError names the first layer that fails."""
    rng = rng if rng is not None else np.random.default_rng(0)
    specs = complete_specs(text, classes, batchnorm)
    infos = architecture.analyse(tuple(input_shape), specs)
    total = architecture.total_params(infos)
    if total > MAX_PARAMS:
        raise EngineError(
            N_("This network has %(n)s parameters; the limit here is %(max)s."),
            n=f"{total:,}",
            max=f"{MAX_PARAMS:,}",
        )
    layers = []
    spec_outputs: list[int] = []
    shape: tuple[int, ...] = tuple(input_shape)
    for index, (spec, info) in enumerate(zip(specs, infos, strict=True)):
        is_last = index == len(specs) - 1
        if spec.kind == "conv":
            padding = spec.padding if isinstance(spec.padding, str) else int(spec.padding)
            layers.append(
                Conv2D(shape[0], spec.filters, spec.kernel, spec.stride, padding, rng=rng)
            )
        elif spec.kind in ("maxpool", "avgpool"):
            cls = MaxPool2D if spec.kind == "maxpool" else AvgPool2D
            layers.append(cls(spec.kernel, spec.stride, int(spec.padding or 0)))
        elif spec.kind == "dense":
            if len(shape) != 1:
                layers.append(Flatten())
                shape = (int(np.prod(shape)),)
            init = "glorot" if is_last else "he"
            layers.append(Dense(shape[0], spec.units, rng=rng, init=init))
        elif spec.kind == "flatten":
            layers.append(Flatten())
        elif spec.kind == "gap":
            layers.append(GlobalAvgPool2D())
        elif spec.kind == "batchnorm":
            layers.append(BatchNorm(shape[0]))
        elif spec.kind == "dropout":
            layers.append(Dropout(spec.rate))
        elif spec.kind == "relu":
            layers.append(ReLU())
        elif spec.kind == "leakyrelu":
            layers.append(LeakyReLU())
        elif spec.kind == "tanh":
            layers.append(Tanh())
        elif spec.kind == "sigmoid":
            layers.append(Sigmoid())
        shape = info.shape
        spec_outputs.append(len(layers) - 1)
    model = Sequential(layers)
    # Which model layer's output each spec (row of the summary) is: a dense layer may have
    # brought an implicit Flatten along.
    model.spec_outputs = spec_outputs
    return model, infos
