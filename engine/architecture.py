"""The shape calculator: a CNN written as short text, and the shape, parameter count and receptive
field of every layer — Keras' model.summary() with the receptive field added.

    conv 6 5x5 same, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10

Receptive field along one axis, layer by layer (r: field size, j: distance in input pixels between
neighbouring outputs, c: centre of the first output's field):

    r_out = r_in + (k − 1)·d·j_in        j_out = j_in·s        c_out = c_in + ((k − 1)·d/2 − p)·j_in
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.errors import N_, EngineError

MAX_LAYERS = 40
MAX_CHANNELS = 4096
MAX_KERNEL = 64
MAX_SIDE = 4096
MAX_UNITS = 100_000

ACTIVATIONS = ("relu", "tanh", "sigmoid", "leakyrelu")


@dataclass(frozen=True)
class LayerSpec:
    kind: str  # conv, maxpool, avgpool, dense, flatten, batchnorm, dropout, gap or an activation
    text: str  # the words it was written as
    position: int  # character offset in the source text, for error messages
    filters: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: str | int = 0  # "same", "valid" or a number of pixels per side
    units: int = 0
    rate: float = 0.0


@dataclass(frozen=True)
class Field:
    """Receptive field along one axis, in input pixels."""

    size: float
    jump: float
    centre: float  # centre of the first output's field


@dataclass
class LayerInfo:
    index: int  # 1-based, as a student counts layers
    spec: LayerSpec
    shape: tuple[int, ...]  # per sample: (C, H, W) or (units,)
    params: int
    fields: tuple[Field, Field] = field(default_factory=tuple)

    @property
    def receptive_field(self) -> tuple[int, int]:
        return (round(self.fields[0].size), round(self.fields[1].size))


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


def _options(words: list[str], spec_text: str, position: int) -> dict:
    """Trailing words such as 'same', 'valid', 'pad 2' and 'stride 2'."""
    options: dict = {}
    index = 0
    while index < len(words):
        word = words[index]
        if word in ("same", "valid"):
            options["padding"] = word
        elif word in ("stride", "pad", "padding") and index + 1 < len(words):
            value = _number(words[index + 1], spec_text, position, N_("a whole number"))
            options["stride" if word == "stride" else "padding"] = value
            index += 1
        else:
            raise EngineError(
                N_("At character %(pos)s ('%(text)s'): '%(token)s' is not an option here."),
                pos=position + 1,
                text=spec_text,
                token=word,
            )
        index += 1
    return options


def parse_architecture(text: str) -> list[LayerSpec]:
    """Comma- or line-separated layers -> specs. Raises EngineError naming where it failed."""
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
                raise EngineError(
                    N_("At character %(pos)s ('%(text)s'): write a convolution as 'conv 6 5x5'."),
                    pos=position + 1,
                    text=raw,
                )
            filters = _number(rest[0], raw, position, N_("a number of filters"))
            kernel = _pair(rest[1], raw, position)
            options = _options(rest[2:], raw, position)
            stride = options.get("stride", 1)
            specs.append(
                LayerSpec(
                    "conv", raw, position, filters=filters, kernel=kernel,
                    stride=(stride, stride), padding=options.get("padding", 0),
                )
            )  # fmt: skip
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


def _grow(f: Field, k: int, s: int, pad_before: int, d: int = 1) -> Field:
    return Field(
        size=f.size + (k - 1) * d * f.jump,
        jump=f.jump * s,
        centre=f.centre + ((k - 1) * d / 2 - pad_before) * f.jump,
    )


def analyse(input_shape: tuple[int, int, int], specs: list[LayerSpec]) -> list[LayerInfo]:
    """Shape, parameters and receptive field after every layer. The first layer that cannot be
    applied raises an EngineError that names it."""
    shape: tuple[int, ...] = tuple(input_shape)
    fields = (Field(1, 1, 0), Field(1, 1, 0))
    whole = (Field(input_shape[1], 1, (input_shape[1] - 1) / 2),
             Field(input_shape[2], 1, (input_shape[2] - 1) / 2))  # fmt: skip
    infos: list[LayerInfo] = []
    for index, spec in enumerate(specs, start=1):
        params = 0
        if spec.kind in ("conv", "maxpool", "avgpool"):
            if len(shape) != 3:
                raise EngineError(
                    N_(
                        "Layer %(n)s (%(text)s) needs feature maps, but its input is a flat vector."
                    ),
                    n=index,
                    text=spec.text,
                )
            channels, height, width = shape
            kh, kw = spec.kernel
            sh, sw = spec.stride
            if min(kh, kw) < 1 or max(kh, kw) > MAX_KERNEL:
                raise EngineError(
                    N_("Layer %(n)s (%(text)s): kernel sizes go from 1 to %(max)s."),
                    n=index,
                    text=spec.text,
                    max=MAX_KERNEL,
                )
            if min(sh, sw) < 1 or max(sh, sw) > MAX_KERNEL:
                raise EngineError(
                    N_("Layer %(n)s (%(text)s): the stride must be between 1 and %(max)s."),
                    n=index,
                    text=spec.text,
                    max=MAX_KERNEL,
                )
            if spec.padding == "same":
                pads = (
                    ((kh - 1) // 2, kh - 1 - (kh - 1) // 2),
                    ((kw - 1) // 2, kw - 1 - (kw - 1) // 2),
                )
            else:
                p = 0 if spec.padding == "valid" else int(spec.padding or 0)
                if spec.kind != "conv" and 2 * p > min(kh, kw):
                    raise EngineError(
                        N_(
                            "Layer %(n)s (%(text)s): pooling padding can be at most half "
                            "the window."
                        ),
                        n=index,
                        text=spec.text,
                    )
                pads = ((p, p), (p, p))
            padded_h, padded_w = height + sum(pads[0]), width + sum(pads[1])
            if kh > padded_h or kw > padded_w:
                raise EngineError(
                    N_(
                        "Layer %(n)s (%(text)s): the %(k)s kernel is larger than its %(size)s "
                        "input."
                    ),
                    n=index,
                    text=spec.text,
                    k=f"{kh}×{kw}",
                    size=f"{padded_h}×{padded_w}",
                )
            out_h = (padded_h - kh) // sh + 1
            out_w = (padded_w - kw) // sw + 1
            if spec.kind == "conv":
                if not 1 <= spec.filters <= MAX_CHANNELS:
                    raise EngineError(
                        N_("Layer %(n)s (%(text)s): a convolution has 1 to %(max)s filters."),
                        n=index,
                        text=spec.text,
                        max=MAX_CHANNELS,
                    )
                params = spec.filters * channels * kh * kw + spec.filters
                channels = spec.filters
            shape = (channels, out_h, out_w)
            fields = (_grow(fields[0], kh, sh, pads[0][0]), _grow(fields[1], kw, sw, pads[1][0]))
        elif spec.kind in ("flatten", "dense"):
            size = 1
            for n in shape:
                size *= n
            if spec.kind == "dense":
                if not 1 <= spec.units <= MAX_UNITS:
                    raise EngineError(
                        N_("Layer %(n)s (%(text)s): a dense layer has 1 to %(max)s units."),
                        n=index,
                        text=spec.text,
                        max=MAX_UNITS,
                    )
                params = size * spec.units + spec.units
                size = spec.units
            shape = (size,)
            fields = whole  # every output depends on every input pixel
        elif spec.kind == "gap":
            if len(shape) != 3:
                raise EngineError(
                    N_(
                        "Layer %(n)s (%(text)s) needs feature maps, but its input is a flat vector."
                    ),
                    n=index,
                    text=spec.text,
                )
            shape = (shape[0],)
            fields = whole
        elif spec.kind == "batchnorm":
            params = 2 * shape[0]  # a scale and a shift per channel (or per unit)
        infos.append(LayerInfo(index, spec, shape, params, fields))
    return infos


def total_params(infos: list[LayerInfo]) -> int:
    return sum(info.params for info in infos)
