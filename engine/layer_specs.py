"""What the shape calculator knows about one layer: the spec parsed from its text
(engine.architecture_text) and what engine.architecture works out for it, with the limits both
check."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine import layer_cost

MAX_LAYERS = 40
MAX_CHANNELS = 4096
MAX_KERNEL = 64
MAX_SIDE = 4096
MAX_UNITS = 100_000

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leakyrelu")
CONV_KINDS = ("conv", "dwconv", "sepconv", "deconv")


@dataclass(frozen=True)
class LayerSpec:
    kind: str  # conv, dwconv, sepconv, deconv, maxpool, avgpool, dense, flatten, batchnorm,
    #            dropout, gap, add or an activation
    text: str  # the words it was written as
    position: int  # character offset in the source text, for error messages
    filters: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: str | int = 0  # "same", "valid" or a number of pixels per side
    units: int = 0
    rate: float = 0.0
    groups: int = 1  # each filter sees in_channels / groups channels
    dilation: int = 1  # spacing between kernel taps
    bias: bool = True
    output_padding: int = 0  # a transposed convolution's extra rows and columns at the end
    multiplier: int = 1  # a depthwise convolution's filters per input channel
    source: int = 0  # the layer an add takes its second input from (0: the network's input)


@dataclass(frozen=True)
class Field:
    """Receptive field along one axis, in input pixels."""

    size: float
    jump: float
    centre: float  # centre of the first output's field


@dataclass(frozen=True)
class Part:
    """One stage of a layer that does two things (a separable convolution's depthwise and
    pointwise steps): its own parameters, multiply-adds and output values."""

    name: str  # "depthwise" or "pointwise"
    params: int
    macs: int
    values: int


@dataclass
class LayerInfo:
    index: int  # 1-based, as a student counts layers
    spec: LayerSpec
    shape: tuple[int, ...]  # per sample: (C, H, W) or (units,)
    params: int  # weights and biases (batch norm: its scale and shift)
    fields: tuple[Field, Field] = field(default_factory=tuple)
    macs: int = 0  # multiply-adds for one sample
    in_channels: int = 0
    in_shape: tuple[int, ...] = ()  # per sample, what the layer receives
    groups: int = 1
    parts: tuple[Part, ...] = ()

    @property
    def receptive_field(self) -> tuple[int, int]:
        return (round(self.fields[0].size), round(self.fields[1].size))

    @property
    def values(self) -> int:
        """Output values kept for one sample, a separable convolution's middle step included."""
        if self.parts:
            return sum(part.values for part in self.parts)
        return layer_cost.elements(self.shape)

    @property
    def memory(self) -> int:
        """Bytes of float32 activations for one sample."""
        return self.values * layer_cost.FLOAT32_BYTES
