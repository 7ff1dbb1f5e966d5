"""Model presets for the training labs, declared once, as the shape calculator's layer text, and
adapted to the input size:

- lenet: LeNet-5's shape (conv 6 5×5 → pool → conv 16 5×5 → pool → dense 120 → 84 → classes),
  with "same" padding below 28×28 so that small digits still fit (at 28×28, as on MNIST, only
  the first convolution is padded);
- tiny: two 3×3 conv stages, a fast CNN;
- mlp: dense layers only, sized to about LeNet's parameter count, to show what convolution buys.

engine.builder appends the output layer and, for the batch-norm variant, BatchNorm after every
conv and hidden dense layer, before its ReLU.
"""

from __future__ import annotations

import math

from engine import architecture, builder
from engine.errors import N_, EngineError
from engine.model import Sequential

PRESETS = ("lenet", "tiny", "mlp")
PRESET_TEXT = {
    "lenet": "conv 6 5x5 {first}, relu, pool 2, conv 16 5x5 {pad}, relu, pool 2, flatten, "
    "dense 120, relu, dense 84, relu",
    "tiny": "conv 8 3x3 same, relu, pool 2, conv 16 3x3 same, relu, pool 2, flatten",
    "mlp": "flatten, dense {hidden}, relu, dense {hidden}, relu",
}


def preset_text(name: str, input_shape: tuple[int, int, int], classes: int) -> str:
    """The layer text of a preset for (C, H, W) inputs and `classes` outputs."""
    if name not in PRESET_TEXT:
        raise EngineError(
            N_("Unknown model '%(name)s': choose lenet, tiny or mlp."), name=str(name)[:30]
        )
    side = min(input_shape[1:])
    if name == "lenet":
        pad = "valid" if side >= 28 else "same"
        return PRESET_TEXT["lenet"].format(first="same" if side <= 28 else pad, pad=pad)
    if name == "mlp":
        return PRESET_TEXT["mlp"].format(hidden=mlp_hidden(input_shape, classes))
    return PRESET_TEXT[name]


def mlp_hidden(input_shape: tuple[int, int, int], classes: int) -> int:
    """Units per hidden layer so that the MLP has about LeNet's parameters for this input:
    d·h + h + h·h + h + h·c + c = budget, solved for h."""
    lenet = builder.complete_specs(preset_text("lenet", input_shape, classes), classes, False)
    budget = architecture.total_params(architecture.analyse(tuple(input_shape), lenet))
    d = math.prod(input_shape)
    a, b, c = 1.0, d + 2 + classes, classes - budget
    return max(4, int((-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)))


def build_model(
    name: str, input_shape: tuple[int, int, int], classes: int, batchnorm: bool = False, rng=None
) -> Sequential:
    """A preset for (C, H, W) inputs and `classes` outputs (logits)."""
    shape = tuple(int(s) for s in input_shape)
    model, _ = builder.build(preset_text(name, shape, classes), shape, classes, batchnorm, rng)
    return model
