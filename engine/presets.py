"""Model presets for the training labs, adapted to the input size.

- lenet: LeNet-5's shape (conv 6 5×5 → pool → conv 16 5×5 → pool → dense 120 → 84 → classes),
  with "same" padding below 28×28 so that small digits still fit;
- tiny: two 3×3 conv stages and one dense layer, a fast CNN;
- mlp: dense layers only, sized to about LeNet's parameter count, to show what convolution buys.

Each has a batch-norm variant: BatchNorm after every conv and hidden dense layer, before its ReLU.
"""

from __future__ import annotations

import math

import numpy as np

from engine.errors import N_, EngineError
from engine.layers import BatchNorm, Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.model import Sequential

PRESETS = ("lenet", "tiny", "mlp")


def _conv_stage(layers, c_in, c_out, k, padding, batchnorm, rng) -> None:
    layers.append(Conv2D(c_in, c_out, k, padding=padding, rng=rng))
    if batchnorm:
        layers.append(BatchNorm(c_out))
    layers += [ReLU(), MaxPool2D(2)]


def _hidden(layers, n_in, n_out, batchnorm, rng) -> None:
    layers.append(Dense(n_in, n_out, rng=rng))
    if batchnorm:
        layers.append(BatchNorm(n_out))
    layers.append(ReLU())


def _lenet(shape, classes, batchnorm, rng) -> list:
    channels, height, width = shape
    padding = "valid" if min(height, width) >= 28 else "same"
    layers: list = []
    _conv_stage(layers, channels, 6, 5, "same" if min(height, width) == 28 else padding,
                batchnorm, rng)  # fmt: skip
    _conv_stage(layers, 6, 16, 5, padding, batchnorm, rng)
    flat = math.prod(Sequential(layers).output_shape(shape))
    layers.append(Flatten())
    _hidden(layers, flat, 120, batchnorm, rng)
    _hidden(layers, 120, 84, batchnorm, rng)
    layers.append(Dense(84, classes, rng=rng, init="glorot"))
    return layers


def _tiny(shape, classes, batchnorm, rng) -> list:
    layers: list = []
    _conv_stage(layers, shape[0], 8, 3, "same", batchnorm, rng)
    _conv_stage(layers, 8, 16, 3, "same", batchnorm, rng)
    flat = math.prod(Sequential(layers).output_shape(shape))
    layers += [Flatten(), Dense(flat, classes, rng=rng, init="glorot")]
    return layers


def _mlp(shape, classes, batchnorm, rng, budget: int) -> list:
    """Two hidden layers of h units with about `budget` parameters:
    d·h + h + h·h + h + h·c + c = budget, solved for h."""
    d = math.prod(shape)
    a, b, c = 1.0, d + 2 + classes, classes - budget
    hidden = max(4, int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))
    layers: list = [Flatten()]
    _hidden(layers, d, hidden, batchnorm, rng)
    _hidden(layers, hidden, hidden, batchnorm, rng)
    layers.append(Dense(hidden, classes, rng=rng, init="glorot"))
    return layers


def build_model(
    name: str, input_shape: tuple[int, int, int], classes: int, batchnorm: bool = False, rng=None
) -> Sequential:
    """A preset for (C, H, W) inputs and `classes` outputs (logits)."""
    if name not in PRESETS:
        raise EngineError(
            N_("Unknown model '%(name)s': choose lenet, tiny or mlp."), name=str(name)[:30]
        )
    rng = rng if rng is not None else np.random.default_rng(0)
    shape = tuple(int(s) for s in input_shape)
    if name == "lenet":
        layers = _lenet(shape, classes, batchnorm, rng)
    elif name == "tiny":
        layers = _tiny(shape, classes, batchnorm, rng)
    else:
        # Budget from the LeNet preset for the same input, so the comparison is fair.
        budget = Sequential(_lenet(shape, classes, False, np.random.default_rng(0))).num_params()
        layers = _mlp(shape, classes, batchnorm, rng, budget)
    return Sequential(layers)
