"""The shape calculator's layer text, parsed: 'conv 6 5x5 same, pool 2, dense 10' -> LayerSpecs,
and '1x32x32' -> an input shape. The grammar is described in engine.architecture."""

from __future__ import annotations

import re

from engine.errors import N_, EngineError
from engine.layer_specs import (
    ACTIVATIONS,
    CONV_KINDS,
    MAX_CHANNELS,
    MAX_LAYERS,
    MAX_SIDE,
    LayerSpec,
)

_OPTIONS = frozenset({"same", "valid", "stride", "pad", "padding"})
# Options only the calculator reads, and the kinds that take each.
_CALCULATOR_OPTIONS = {
    "groups": ("conv", "deconv"),
    "dilation": CONV_KINDS,
    "nobias": ("conv", "dwconv", "sepconv", "deconv"),
    "outpad": ("deconv",),
    "multiplier": ("dwconv",),
}
_NUMBERED = frozenset({"stride", "pad", "padding", "groups", "dilation", "outpad", "multiplier"})

_SIZE = re.compile(r"^(\d{1,6})(?:[x×*](\d{1,6}))?$")


def _number(token: str, spec_text: str, position: int, what: str) -> int:
    if not re.fullmatch(r"\d{1,9}", token):
        raise EngineError(
            N_("At character %(pos)s ('%(text)s'): expected %(what)s, got '%(token)s'."),
            pos=position + 1,
            text=spec_text,
            what=what,
            token=token,
        )
    return int(token)


def _pair(token: str, spec_text: str, position: int) -> tuple[int, int]:
    match = _SIZE.match(token)
    if not match:
        raise EngineError(
            N_(
                "At character %(pos)s ('%(text)s'): expected a kernel size such as 5x5, "
                "got '%(token)s'."
            ),
            pos=position + 1,
            text=spec_text,
            token=token,
        )
    first = int(match.group(1))
    return (first, int(match.group(2)) if match.group(2) else first)


def _options(words: list[str], spec_text: str, position: int, allowed=_OPTIONS) -> dict:
    """Trailing words such as 'same', 'valid', 'pad 2' and 'stride 2' (and those of `allowed`)."""
    options: dict = {}
    index = 0
    while index < len(words):
        word = "dilation" if words[index] == "dil" else words[index]
        if word in ("same", "valid") and word in allowed:
            options["padding"] = word
        elif word == "nobias" and word in allowed:
            options["bias"] = False
        elif word in _NUMBERED and word in allowed and index + 1 < len(words):
            value = _number(words[index + 1], spec_text, position, N_("a whole number"))
            options["padding" if word == "pad" else word] = value
            index += 1
        else:
            raise EngineError(
                N_("At character %(pos)s ('%(text)s'): '%(token)s' is not an option here."),
                pos=position + 1,
                text=spec_text,
                token=words[index],
            )
        index += 1
    return options


def _allowed(kind: str, calculator: bool) -> frozenset:
    if not calculator:
        return _OPTIONS
    return _OPTIONS | {name for name, kinds in _CALCULATOR_OPTIONS.items() if kind in kinds}


def _conv_spec(kind, raw, position, rest, calculator, filters_needed=True) -> LayerSpec:
    """conv F KxK, pointwise F, dwconv KxK, sepconv F KxK, deconv F KxK, with their options."""
    filters = 0
    if filters_needed:
        filters = _number(rest[0], raw, position, N_("a number of filters"))
        rest = rest[1:]
    kernel = _pair(rest[0], raw, position)
    options = _options(rest[1:], raw, position, _allowed(kind, calculator))
    stride = options.get("stride", 1)
    return LayerSpec(
        kind, raw, position, filters=filters, kernel=kernel, stride=(stride, stride),
        padding=options.get("padding", 0), groups=options.get("groups", 1),
        dilation=options.get("dilation", 1), bias=options.get("bias", True),
        output_padding=options.get("outpad", 0), multiplier=options.get("multiplier", 1),
    )  # fmt: skip


_CONV_USAGE = {
    "conv": N_("At character %(pos)s ('%(text)s'): write a convolution as 'conv 6 5x5'."),
    "pointwise": N_(
        "At character %(pos)s ('%(text)s'): write a 1×1 convolution as 'pointwise 64'."
    ),
    "dwconv": N_(
        "At character %(pos)s ('%(text)s'): write a depthwise convolution as 'dwconv 3x3'."
    ),
    "sepconv": N_(
        "At character %(pos)s ('%(text)s'): write a separable convolution as 'sepconv 64 3x3'."
    ),
    "deconv": N_(
        "At character %(pos)s ('%(text)s'): write a transposed convolution as "
        "'deconv 32 4x4 stride 2 pad 1'."
    ),
}
_CALCULATOR_NAMES = {
    "pointwise": "pointwise", "conv1x1": "pointwise", "dwconv": "dwconv", "depthwise": "dwconv",
    "sepconv": "sepconv", "separable": "sepconv", "deconv": "deconv", "convtranspose": "deconv",
    "tconv": "deconv", "add": "add",
}  # fmt: skip


def _calculator_spec(name: str, raw: str, position: int, rest: list[str]) -> LayerSpec:
    if name == "add":
        if len(rest) != 1:
            raise EngineError(
                N_(
                    "At character %(pos)s ('%(text)s'): write a residual add as 'add 0' (the "
                    "input) or 'add 3' (layer 3's output)."
                ),
                pos=position + 1,
                text=raw,
            )
        return LayerSpec("add", raw, position, source=_number(rest[0], raw, position,
                                                              N_("a layer number")))  # fmt: skip
    least = {"pointwise": 1, "dwconv": 1}.get(name, 2)
    if len(rest) < least:
        raise EngineError(_CONV_USAGE[name], pos=position + 1, text=raw)
    if name == "pointwise":
        return _conv_spec("conv", raw, position, [rest[0], "1x1", *rest[1:]], True)
    return _conv_spec(name, raw, position, rest, True, filters_needed=name != "dwconv")


def parse_architecture(text: str, *, calculator: bool = False) -> list[LayerSpec]:
    """Comma- or line-separated layers -> specs. Raises EngineError naming where it failed.
    `calculator` also reads the layers that only the shape calculator knows (see the top)."""
    specs: list[LayerSpec] = []
    for match in re.finditer(r"[^,;\n]+", text):
        raw = match.group().strip()
        if not raw:
            continue
        position = match.start() + (len(match.group()) - len(match.group().lstrip()))
        words = raw.lower().split()
        name, rest = words[0], words[1:]
        if len(specs) >= MAX_LAYERS:
            raise EngineError(N_("A network here has at most %(max)s layers."), max=MAX_LAYERS)
        if name in ("conv", "conv2d"):
            if len(rest) < 2:
                raise EngineError(_CONV_USAGE["conv"], pos=position + 1, text=raw)
            specs.append(_conv_spec("conv", raw, position, rest, calculator))
        elif calculator and name in _CALCULATOR_NAMES:
            specs.append(_calculator_spec(_CALCULATOR_NAMES[name], raw, position, rest))
        elif name in ("pool", "maxpool", "avgpool", "max", "avg"):
            if not rest:
                raise EngineError(
                    N_("At character %(pos)s ('%(text)s'): write pooling as 'pool 2'."),
                    pos=position + 1,
                    text=raw,
                )
            kernel = _pair(rest[0], raw, position)
            options = _options(rest[1:], raw, position)
            stride = options.get("stride", None)
            padding = options.get("padding", 0)
            if padding == "same" or padding == "valid":
                padding = 0 if padding == "valid" else padding
            kind = "avgpool" if name.startswith("avg") else "maxpool"
            specs.append(
                LayerSpec(
                    kind, raw, position, kernel=kernel,
                    stride=kernel if stride is None else (stride, stride), padding=padding,
                )
            )  # fmt: skip
        elif name in ("dense", "fc", "linear"):
            if len(rest) != 1:
                raise EngineError(
                    N_("At character %(pos)s ('%(text)s'): write a dense layer as 'dense 120'."),
                    pos=position + 1,
                    text=raw,
                )
            units = _number(rest[0], raw, position, N_("a number of units"))
            specs.append(LayerSpec("dense", raw, position, units=units))
        elif name in ("flatten", "gap", "globalavgpool", "bn", "batchnorm", *ACTIVATIONS):
            if rest:
                raise EngineError(
                    N_("At character %(pos)s ('%(text)s'): '%(name)s' takes no numbers."),
                    pos=position + 1,
                    text=raw,
                    name=name,
                )
            kind = {"bn": "batchnorm", "globalavgpool": "gap"}.get(name, name)
            specs.append(LayerSpec(kind, raw, position))
        elif name == "dropout":
            try:
                rate = float(rest[0]) if len(rest) == 1 else -1.0
            except ValueError:
                rate = -1.0
            if not 0 <= rate < 1:
                raise EngineError(
                    N_("At character %(pos)s ('%(text)s'): write dropout as 'dropout 0.5'."),
                    pos=position + 1,
                    text=raw,
                )
            specs.append(LayerSpec("dropout", raw, position, rate=rate))
        elif calculator:
            raise EngineError(
                N_(
                    "At character %(pos)s: unknown layer '%(name)s'. Use conv, pointwise, "
                    "dwconv, sepconv, deconv, pool, avgpool, dense, flatten, relu, batchnorm, "
                    "dropout, add or gap."
                ),
                pos=position + 1,
                name=name[:30],
            )
        else:
            raise EngineError(
                N_(
                    "At character %(pos)s: unknown layer '%(name)s'. Use conv, pool, avgpool, "
                    "dense, flatten, relu, batchnorm, dropout or gap."
                ),
                pos=position + 1,
                name=name[:30],
            )
    if not specs:
        raise EngineError(N_("Write at least one layer, for example 'conv 6 5x5, pool 2'."))
    return specs


def parse_input_shape(text: str) -> tuple[int, int, int]:
    """'1x32x32', '32x32' or '3 × 64 × 64' -> (C, H, W)."""
    parts = [p for p in re.split(r"\s*[x×*,]\s*|\s+", text.strip().lower()) if p]
    if len(parts) not in (2, 3) or not all(re.fullmatch(r"\d{1,6}", p) for p in parts):
        raise EngineError(
            N_("The input shape '%(text)s' should look like 1x32x32 (channels × height × width)."),
            text=text[:40],
        )
    values = [int(p) for p in parts]
    shape = (1, *values) if len(values) == 2 else tuple(values)
    channels, height, width = shape
    if not (1 <= channels <= MAX_CHANNELS and 1 <= height <= MAX_SIDE and 1 <= width <= MAX_SIDE):
        raise EngineError(
            N_(
                "The input shape must have 1 to %(c)s channels and sides of 1 to %(s)s pixels "
                "(got %(text)s)."
            ),
            c=MAX_CHANNELS,
            s=MAX_SIDE,
            text=text[:40],
        )
    return shape
