"""What one layer costs, worked out as a student does it by hand: the size of its output, its
parameters (weights and biases), its multiply-adds and the memory its output takes. Whole numbers
in, whole numbers out; no arrays. engine.architecture applies these to a stack of layers.

Along one axis, for an input of n, a kernel of k, stride s, dilation d and padding p per side:

    convolution              n_out = ⌊(n + 2p − d·(k − 1) − 1) / s⌋ + 1
    transposed convolution   n_out = (n − 1)·s − 2p + d·(k − 1) + output_padding + 1

A convolution from C channels to F with a kh×kw kernel in g groups (each filter sees C/g of the
input channels; g = C is a depthwise convolution):

    weights = F·(C/g)·kh·kw     biases = F     multiply-adds = H_out·W_out·F·(C/g)·kh·kw

A transposed convolution scatters every input value through its kernel, so its multiply-adds are
counted over the input: H_in·W_in·C·(F/g)·kh·kw, and its weights are C·(F/g)·kh·kw. A dense layer
from n inputs to u units has n·u weights, u biases and n·u multiply-adds. Additions alone (biases,
average pooling, residual adds) and comparisons (max pooling, ReLU) are not counted, as in
torchvision's and fvcore's published figures; one multiply-add is two floating-point operations.
"""

from __future__ import annotations

import math

FLOAT32_BYTES = 4  # one float32 value


def _whole(value: int, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{what} must be a whole number of at least {minimum}, got {value!r}.")
    return value


def conv_output_side(n: int, k: int, stride: int = 1, pads: tuple[int, int] = (0, 0),
                     dilation: int = 1) -> int:  # fmt: skip
    """⌊(n + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1; below 1 when the kernel does not fit."""
    span = dilation * (k - 1) + 1
    return (n + pads[0] + pads[1] - span) // stride + 1


def transposed_output_side(n: int, k: int, stride: int = 1, padding: int = 0,
                           dilation: int = 1, output_padding: int = 0) -> int:  # fmt: skip
    """(n − 1)·s − 2p + d·(k − 1) + output_padding + 1, as torch.nn.ConvTranspose2d."""
    return (n - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1


def transposed_field_span(k: int, stride: int, dilation: int = 1) -> int:
    """How many input steps apart the first and last input that reach one output of a
    transposed convolution can be (its receptive field grows by this many input spacings).

    Output o gets input i through kernel tap t when i·s + t·d = o + p, so the taps that meet one
    output are those with t·d ≡ o + p (mod s). The widest such set over the s residues decides."""
    widest = 0
    for residue in range(stride):
        taps = [t for t in range(k) if (t * dilation) % stride == residue]
        if taps:
            widest = max(widest, (taps[-1] - taps[0]) * dilation // stride)
    return widest


def conv_weights(c_in: int, c_out: int, kh: int, kw: int, groups: int = 1) -> int:
    """F·(C/g)·kh·kw, biases not included; g must divide both C and F."""
    _whole(groups, "groups")
    if c_in % groups or c_out % groups:
        raise ValueError(f"{groups} groups must divide both {c_in} and {c_out} channels.")
    return c_out * (c_in // groups) * kh * kw


def conv_macs(c_in: int, c_out: int, kh: int, kw: int, out_h: int, out_w: int,
              groups: int = 1) -> int:  # fmt: skip
    """H_out·W_out·F·(C/g)·kh·kw: every output value is one dot product of C/g·kh·kw terms."""
    return out_h * out_w * conv_weights(c_in, c_out, kh, kw, groups)


def transposed_macs(c_in: int, c_out: int, kh: int, kw: int, in_h: int, in_w: int,
                    groups: int = 1) -> int:  # fmt: skip
    """H_in·W_in·C·(F/g)·kh·kw: every input value times every weight of its group's kernels."""
    return in_h * in_w * conv_weights(c_in, c_out, kh, kw, groups)


def dense_macs(inputs: int, units: int) -> int:
    return inputs * units


def elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def activation_bytes(shape: tuple[int, ...], bytes_per_value: int = FLOAT32_BYTES) -> int:
    """The memory of one sample's output: its number of values times 4 bytes for float32."""
    return elements(shape) * bytes_per_value
