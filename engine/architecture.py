"""The shape calculator: a CNN written as short text, and the shape, parameter count, multiply-adds,
activation memory and receptive field of every layer — Keras' model.summary() with the cost and the
receptive field added.

    conv 6 5x5 same, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10

The Training lab builds what it parses (engine.builder). The calculator alone (`calculator=True`)
also reads layers the engine does not train: grouped convolutions (`conv F KxK groups G`),
dilation (`dilation D`), convolutions without bias (`nobias`), 1×1 convolutions (`pointwise F`),
depthwise (`dwconv KxK [multiplier M]`), separable (`sepconv F KxK`) and transposed ones
(`deconv F KxK stride S [pad P] [outpad Q]`), and residual adds (`add N`: layer N's output, 0 the
input). What each costs is worked out in engine.layer_cost.

Receptive field along one axis, layer by layer (r: field size, j: distance in input pixels between
neighbouring outputs, c: centre of the first output's field):

    r_out = r_in + (k − 1)·d·j_in        j_out = j_in·s        c_out = c_in + ((k − 1)·d/2 − p)·j_in

A transposed convolution divides the spacing instead: j_out = j_in / s, and one output sees the
few inputs its kernel taps reach (engine.layer_cost.transposed_field_span).
"""

from __future__ import annotations

from engine import layer_cost
from engine.architecture_text import parse_architecture, parse_input_shape
from engine.errors import N_, EngineError
from engine.layer_specs import (
    ACTIVATIONS,
    CONV_KINDS,
    MAX_CHANNELS,
    MAX_KERNEL,
    MAX_LAYERS,
    MAX_SIDE,
    MAX_UNITS,
    Field,
    LayerInfo,
    LayerSpec,
    Part,
)

__all__ = [
    "ACTIVATIONS", "CONV_KINDS", "MAX_CHANNELS", "MAX_KERNEL", "MAX_LAYERS", "MAX_SIDE",
    "MAX_UNITS", "Field", "LayerInfo", "LayerSpec", "Part", "analyse", "parse_architecture",
    "parse_input_shape", "total_macs", "total_memory", "total_params",
]  # fmt: skip

# --- one layer after another ---------------------------------------------------------------------


def _refuse(template: str, index: int, spec: LayerSpec, **params) -> EngineError:
    return EngineError(template, n=index, text=spec.text, **params)


def _grow(f: Field, k: int, s: int, pad_before: int, d: int = 1) -> Field:
    return Field(
        size=f.size + (k - 1) * d * f.jump,
        jump=f.jump * s,
        centre=f.centre + ((k - 1) * d / 2 - pad_before) * f.jump,
    )


def _spread(f: Field, k: int, s: int, padding: int, d: int = 1) -> Field:
    """The receptive field through a transposed convolution (see the top)."""
    return Field(
        size=f.size + layer_cost.transposed_field_span(k, s, d) * f.jump,
        jump=f.jump / s,
        centre=f.centre + (padding - (k - 1) * d / 2) / s * f.jump,
    )


def _needs_maps(index: int, spec: LayerSpec, shape: tuple[int, ...]) -> None:
    if len(shape) != 3:
        raise _refuse(
            N_("Layer %(n)s (%(text)s) needs feature maps, but its input is a flat vector."),
            index,
            spec,
        )


def _check_kernel(index: int, spec: LayerSpec) -> None:
    kh, kw = spec.kernel
    sh, sw = spec.stride
    if min(kh, kw) < 1 or max(kh, kw) > MAX_KERNEL:
        raise _refuse(
            N_("Layer %(n)s (%(text)s): kernel sizes go from 1 to %(max)s."),
            index, spec, max=MAX_KERNEL,
        )  # fmt: skip
    if min(sh, sw) < 1 or max(sh, sw) > MAX_KERNEL:
        raise _refuse(
            N_("Layer %(n)s (%(text)s): the stride must be between 1 and %(max)s."),
            index, spec, max=MAX_KERNEL,
        )  # fmt: skip
    if not 1 <= spec.dilation <= MAX_KERNEL:
        raise _refuse(
            N_("Layer %(n)s (%(text)s): the dilation must be between 1 and %(max)s."),
            index, spec, max=MAX_KERNEL,
        )  # fmt: skip


def _window(index: int, spec: LayerSpec, shape: tuple[int, int, int]):
    """((pad before, after) per axis, output height, output width) of a sliding kernel."""
    _, height, width = shape
    kh, kw = spec.kernel
    d = spec.dilation
    span_h, span_w = d * (kh - 1) + 1, d * (kw - 1) + 1
    if spec.padding == "same":
        pads = (((span_h - 1) // 2, span_h - 1 - (span_h - 1) // 2),
                ((span_w - 1) // 2, span_w - 1 - (span_w - 1) // 2))  # fmt: skip
    else:
        p = 0 if spec.padding == "valid" else int(spec.padding or 0)
        if spec.kind in ("maxpool", "avgpool") and 2 * p > min(kh, kw):
            raise _refuse(
                N_("Layer %(n)s (%(text)s): pooling padding can be at most half the window."),
                index,
                spec,
            )
        pads = ((p, p), (p, p))
    padded_h, padded_w = height + sum(pads[0]), width + sum(pads[1])
    if span_h > padded_h or span_w > padded_w:
        size = f"{padded_h}×{padded_w}"
        if d == 1:
            raise _refuse(
                N_("Layer %(n)s (%(text)s): the %(k)s kernel is larger than its %(size)s input."),
                index, spec, k=f"{kh}×{kw}", size=size,
            )  # fmt: skip
        raise _refuse(
            N_(
                "Layer %(n)s (%(text)s): the %(k)s kernel, dilated to %(span)s, is larger than "
                "its %(size)s input."
            ),
            index, spec, k=f"{kh}×{kw}", span=f"{span_h}×{span_w}", size=size,
        )  # fmt: skip
    out_h = layer_cost.conv_output_side(height, kh, spec.stride[0], pads[0], d)
    out_w = layer_cost.conv_output_side(width, kw, spec.stride[1], pads[1], d)
    return pads, out_h, out_w


def _filters_and_groups(index: int, spec: LayerSpec, channels: int) -> tuple[int, int]:
    """(filters, groups) of a convolution, checked: the groups split both sides evenly."""
    if spec.kind == "dwconv":
        filters, groups = channels * spec.multiplier, channels
        if spec.multiplier < 1 or filters > MAX_CHANNELS:
            raise _refuse(
                N_(
                    "Layer %(n)s (%(text)s): input channels × multiplier = %(c)s × %(m)s = "
                    "%(f)s filters; a convolution has 1 to %(max)s."
                ),
                index, spec, c=channels, m=spec.multiplier, f=filters, max=MAX_CHANNELS,
            )  # fmt: skip
        return filters, groups
    filters, groups = spec.filters, spec.groups
    if not 1 <= filters <= MAX_CHANNELS:
        raise _refuse(
            N_("Layer %(n)s (%(text)s): a convolution has 1 to %(max)s filters."),
            index, spec, max=MAX_CHANNELS,
        )  # fmt: skip
    if groups < 1 or channels % groups or filters % groups:
        raise _refuse(
            N_(
                "Layer %(n)s (%(text)s): %(g)s groups must divide both its %(c)s input channels "
                "and its %(f)s filters."
            ),
            index, spec, g=groups, c=channels, f=filters,
        )  # fmt: skip
    return filters, groups


def _convolve(index, spec, shape, fields):
    """A convolution, grouped, depthwise or separable: (info fields, new receptive fields)."""
    _needs_maps(index, spec, shape)
    _check_kernel(index, spec)
    channels = shape[0]
    pads, out_h, out_w = _window(index, spec, shape)
    kh, kw = spec.kernel
    grown = (_grow(fields[0], kh, spec.stride[0], pads[0][0], spec.dilation),
             _grow(fields[1], kw, spec.stride[1], pads[1][0], spec.dilation))  # fmt: skip
    if spec.kind == "sepconv":
        # Keras' SeparableConv2D: a depthwise k×k step without bias, then a 1×1 step with one.
        filters, _ = _filters_and_groups(index, spec, channels)
        depthwise = Part("depthwise",
                         layer_cost.conv_weights(channels, channels, kh, kw, channels),
                         layer_cost.conv_macs(channels, channels, kh, kw, out_h, out_w, channels),
                         channels * out_h * out_w)  # fmt: skip
        pointwise = Part("pointwise",
                         layer_cost.conv_weights(channels, filters, 1, 1)
                         + (filters if spec.bias else 0),
                         layer_cost.conv_macs(channels, filters, 1, 1, out_h, out_w),
                         filters * out_h * out_w)  # fmt: skip
        parts = (depthwise, pointwise)
        cost = {"params": depthwise.params + pointwise.params,
                "macs": depthwise.macs + pointwise.macs, "parts": parts}  # fmt: skip
        return (filters, out_h, out_w), cost | {"in_channels": channels, "groups": 1}, grown
    filters, groups = _filters_and_groups(index, spec, channels)
    weights = layer_cost.conv_weights(channels, filters, kh, kw, groups)
    cost = {
        "params": weights + (filters if spec.bias else 0),
        "macs": layer_cost.conv_macs(channels, filters, kh, kw, out_h, out_w, groups),
        "in_channels": channels,
        "groups": groups,
    }
    return (filters, out_h, out_w), cost, grown


def _transpose(index, spec, shape, fields):
    """A transposed convolution: the same kernel, scattered instead of gathered."""
    _needs_maps(index, spec, shape)
    _check_kernel(index, spec)
    if isinstance(spec.padding, str) and spec.padding != "valid":
        raise _refuse(
            N_(
                "Layer %(n)s (%(text)s): a transposed convolution takes its padding as 'pad P' "
                "(rows and columns cut from each side), not 'same'."
            ),
            index,
            spec,
        )
    padding = 0 if spec.padding == "valid" else int(spec.padding or 0)
    s, d = spec.stride[0], spec.dilation
    if spec.output_padding >= max(s, d):
        raise _refuse(
            N_(
                "Layer %(n)s (%(text)s): the output padding must be smaller than the stride or "
                "the dilation (here at most %(max)s)."
            ),
            index, spec, max=max(s, d) - 1,
        )  # fmt: skip
    channels, height, width = shape
    kh, kw = spec.kernel
    out_h = layer_cost.transposed_output_side(height, kh, s, padding, d, spec.output_padding)
    out_w = layer_cost.transposed_output_side(width, kw, s, padding, d, spec.output_padding)
    if min(out_h, out_w) < 1:
        raise _refuse(
            N_(
                "Layer %(n)s (%(text)s): (n − 1)·s − 2p + d·(k − 1) + output padding + 1 gives "
                "%(size)s: the padding of %(p)s is too large for its %(input)s input."
            ),
            index, spec, size=f"{out_h}×{out_w}", p=padding, input=f"{height}×{width}",
        )  # fmt: skip
    filters, groups = _filters_and_groups(index, spec, channels)
    weights = layer_cost.conv_weights(channels, filters, kh, kw, groups)
    cost = {
        "params": weights + (filters if spec.bias else 0),
        "macs": layer_cost.transposed_macs(channels, filters, kh, kw, height, width, groups),
        "in_channels": channels,
        "groups": groups,
    }
    spread = (_spread(fields[0], kh, s, padding, d), _spread(fields[1], kw, s, padding, d))
    return (filters, out_h, out_w), cost, spread


def _check_sides(index: int, spec: LayerSpec, shape: tuple[int, ...]) -> None:
    if len(shape) == 3 and max(shape[1:]) > MAX_SIDE:
        raise _refuse(
            N_("Layer %(n)s (%(text)s): its output would be %(size)s; sides go up to %(max)s."),
            index, spec, size=f"{shape[1]}×{shape[2]}", max=MAX_SIDE,
        )  # fmt: skip


def analyse(input_shape: tuple[int, int, int], specs: list[LayerSpec]) -> list[LayerInfo]:
    """Shape, parameters, multiply-adds and receptive field after every layer. The first layer
    that cannot be applied raises an EngineError that names it."""
    shape: tuple[int, ...] = tuple(input_shape)
    fields = (Field(1, 1, 0), Field(1, 1, 0))
    whole = (Field(input_shape[1], 1, (input_shape[1] - 1) / 2),
             Field(input_shape[2], 1, (input_shape[2] - 1) / 2))  # fmt: skip
    shapes, all_fields = [shape], [fields]  # what an add can reach back to
    infos: list[LayerInfo] = []
    for index, spec in enumerate(specs, start=1):
        cost: dict = {"params": 0}
        if spec.kind in ("conv", "dwconv", "sepconv"):
            shape, cost, fields = _convolve(index, spec, shape, fields)
        elif spec.kind == "deconv":
            shape, cost, fields = _transpose(index, spec, shape, fields)
        elif spec.kind in ("maxpool", "avgpool"):
            _needs_maps(index, spec, shape)
            _check_kernel(index, spec)
            pads, out_h, out_w = _window(index, spec, shape)
            shape = (shape[0], out_h, out_w)
            fields = (_grow(fields[0], spec.kernel[0], spec.stride[0], pads[0][0]),
                      _grow(fields[1], spec.kernel[1], spec.stride[1], pads[1][0]))  # fmt: skip
        elif spec.kind in ("flatten", "dense"):
            size = layer_cost.elements(shape)
            if spec.kind == "dense":
                if not 1 <= spec.units <= MAX_UNITS:
                    raise _refuse(
                        N_("Layer %(n)s (%(text)s): a dense layer has 1 to %(max)s units."),
                        index, spec, max=MAX_UNITS,
                    )  # fmt: skip
                cost = {"params": size * spec.units + spec.units,
                        "macs": layer_cost.dense_macs(size, spec.units)}  # fmt: skip
                size = spec.units
            shape = (size,)
            fields = whole  # every output depends on every input pixel
        elif spec.kind == "gap":
            _needs_maps(index, spec, shape)
            shape = (shape[0],)
            fields = whole
        elif spec.kind == "batchnorm":
            cost = {"params": 2 * shape[0]}  # a scale and a shift per channel (or per unit)
        elif spec.kind == "add":
            if spec.source >= index:
                raise _refuse(
                    N_(
                        "Layer %(n)s (%(text)s): an add takes the input (0) or an earlier "
                        "layer's output (1 to %(max)s)."
                    ),
                    index, spec, max=index - 1,
                )  # fmt: skip
            other = shapes[spec.source]
            if other != shape:
                raise _refuse(
                    N_(
                        "Layer %(n)s (%(text)s): it adds %(a)s to %(b)s; a residual add needs "
                        "two equal shapes."
                    ),
                    index, spec, a="×".join(map(str, other)), b="×".join(map(str, shape)),
                )  # fmt: skip
            # Each output sees what either branch sees: the wider field of the two.
            earlier = all_fields[spec.source]
            fields = tuple(
                max(pair, key=lambda f: f.size) for pair in zip(fields, earlier, strict=True)
            )
        _check_sides(index, spec, shape)
        shapes.append(shape)
        all_fields.append(fields)
        infos.append(LayerInfo(index, spec, shape, fields=fields, in_shape=shapes[-2], **cost))
    return infos


def total_params(infos: list[LayerInfo]) -> int:
    return sum(info.params for info in infos)


def total_macs(infos: list[LayerInfo]) -> int:
    return sum(info.macs for info in infos)


def total_memory(input_shape: tuple[int, ...], infos: list[LayerInfo]) -> int:
    """Bytes of float32 activations for one sample: the input and every layer's output, all that
    a training step keeps for its backward pass when nothing is computed in place."""
    return layer_cost.activation_bytes(input_shape) + sum(info.memory for info in infos)
