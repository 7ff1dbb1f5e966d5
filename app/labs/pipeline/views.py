"""The CNN pipeline view: a real image through a stack of layers, every layer's maps, shape,
parameter count and receptive field; and the shape calculator's table."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.labs.pipeline.fields import LENET5, RESOLUTIONS, PipelineFields
from app.media.deps import media_of
from app.media.images import grey, resize_to
from app.media.samples import SAMPLES
from app.web.errors import from_engine_error
from app.web.i18n import N_
from app.web.layers import PipelineLayer, dense_bars, field_box
from engine import architecture, edgenet, layer_cost
from engine.activations import relu
from engine.errors import EngineError
from engine.layer_cost import FLOAT32_BYTES, activation_bytes
from engine.shape_presets import PRESETS

DEMO_ARCHITECTURE = (
    "conv 8 3x3 same, relu, pool 2, conv 12 3x3 same, relu, pool 2, flatten, dense 10"
)
MAX_THUMBNAILS = 16  # channels shown per layer


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


def compute(state: PipelineFields, media) -> Pipeline:
    def run() -> Pipeline:
        image = grey(resize_to(state.picture(media), state.res)) / 255.0
        return demo_pipeline(image)

    return media.results.get_or_compute(state.image_key(), run)


def shape_table(state: PipelineFields):
    """The shape calculator: (input shape, rows). A stack that does not fit is a 422 here, so
    the page can tell it from a mistake in the picture's settings and show it by the table."""
    try:
        input_shape = architecture.parse_input_shape(state.input_shape)
    except EngineError as error:
        raise from_engine_error(error, status=422).at("input") from error
    try:
        specs = architecture.parse_architecture(state.arch, calculator=True)
        infos = architecture.analyse(input_shape, specs)
    except EngineError as error:
        raise from_engine_error(error, status=422).at("arch") from error
    return input_shape, infos


# --- the calculator's numbers, as a page writes them ---------------------------------------------

SI_PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))
N_("ResNet basic block")  # a preset's name, shown translated
PART_NAMES = {"depthwise": N_("depthwise"), "pointwise": N_("pointwise")}


def si_amount(numbers, value: int, unit: str = "") -> str:
    """A large count with a decimal prefix, three digits or so, in the page's locale:
    15,470,264,320 -> "15.47 G" / "15,47 G"; 4,994,976 bytes -> "5 MB"; 480 bytes -> "480 B"."""
    for scale, prefix in SI_PREFIXES:
        if value >= scale:
            scaled = value / scale
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return f"{numbers.short(scaled, digits)}\u00a0{prefix}{unit}"
    return f"{numbers.integer(value)}\u00a0{unit}" if unit else numbers.integer(value)


def describe(info: architecture.LayerInfo) -> tuple[str, dict] | None:
    """What kind of layer a row is, in words (a msgid and its values), for the layers whose
    text does not say it plainly."""
    spec = info.spec
    kernel = f"{spec.kernel[0]}×{spec.kernel[1]}"
    if spec.kind == "sepconv":
        return N_("separable: a %(k)s depthwise step, then a 1×1 step"), {"k": kernel}
    if spec.kind == "deconv":
        return N_("transposed convolution: %(k)s, stride %(s)s"), {"k": kernel, "s": spec.stride[0]}
    if spec.kind == "add":
        if spec.source == 0:
            return N_("residual add: the network's input added back"), {}
        return N_("residual add: layer %(m)s's output added back"), {"m": spec.source}
    if spec.kind not in ("conv", "dwconv"):
        return None
    if info.groups > 1 and info.groups == info.in_channels:
        return N_("depthwise: %(g)s groups, one per input channel"), {"g": info.groups}
    if info.groups > 1:
        per_group = info.in_channels // info.groups
        return N_("grouped: %(g)s groups of %(c)s channels"), {"g": info.groups, "c": per_group}
    if spec.kernel == (1, 1):
        return N_("1×1 (pointwise) convolution: mixes channels, pixel by pixel"), {}
    return None


def _product(factors) -> str:
    return "·".join(str(f) for f in factors)


def explain(numbers, info: architecture.LayerInfo) -> list[tuple[str, str]]:
    """(msgid of what is counted, its arithmetic with this layer's numbers) for the rows that
    have parameters or multiply-adds: the formulas of the page's hint, filled in."""
    spec, total = info.spec, numbers.integer
    if spec.kind == "dense":
        inputs = layer_cost.elements(info.in_shape)
        return [
            (N_("parameters"), f"{inputs}·{spec.units} + {spec.units} = {total(info.params)}"),
            (N_("multiply-adds"), f"{inputs}·{spec.units} = {total(info.macs)}"),
        ]
    if spec.kind == "batchnorm":
        return [(N_("parameters"), f"2·{info.shape[0]} = {total(info.params)}")]
    if spec.kind == "sepconv":
        (kh, kw), channels = spec.kernel, info.in_channels
        depthwise, pointwise = info.parts
        out = _product(info.shape[1:])
        bias = f" + {info.shape[0]}" if spec.bias else ""
        return [
            (N_("depthwise"), f"{_product((channels, kh, kw))} = {total(depthwise.params)}; "
                              f"{out}·{_product((channels, kh, kw))} = {total(depthwise.macs)}"),
            (N_("pointwise"), f"{channels}·{info.shape[0]}{bias} = {total(pointwise.params)}; "
                              f"{out}·{channels}·{info.shape[0]} = {total(pointwise.macs)}"),
        ]  # fmt: skip
    if spec.kind not in ("conv", "dwconv", "deconv"):
        return []
    (kh, kw), filters, groups = spec.kernel, info.shape[0], info.groups
    if spec.kind == "deconv":  # C·(F/g)·k·k weights, one multiply-add each per input position
        kernel = (info.in_channels, filters // groups, kh, kw)
        positions = info.in_shape[1:]
    else:  # F·(C/g)·k·k weights, one multiply-add each per output position
        kernel = (filters, info.in_channels // groups, kh, kw)
        positions = info.shape[1:]
    bias = f" + {filters}" if spec.bias else ""
    return [
        (N_("parameters"), f"{_product(kernel)}{bias} = {total(info.params)}"),
        (N_("multiply-adds"), f"{_product(positions)}·{_product(kernel)} = {total(info.macs)}"),
    ]


def matching_preset(state: PipelineFields):
    """The preset the calculator shows, if its text is one of them, as typed or as shipped."""
    typed = " ".join(state.arch.split()).lower()
    for preset in PRESETS.values():
        if typed == preset.arch.lower() and state.input_shape.strip() == preset.input_shape:
            return preset
    return None


def preset_links(state: PipelineFields) -> list[tuple[str, str]]:
    """(name, URL) of each preset: the page as it is, with the calculator's text replaced."""
    presets = [("LeNet-5", LENET5, "1x32x32")]
    presets += [(p.name, p.arch, p.input_shape) for p in PRESETS.values()]
    return [(name, f"/pipeline?{state.query(arch=arch, input=shape)}#calc-title")
            for name, arch, shape in presets]  # fmt: skip


def page_context() -> dict:
    return {"samples": SAMPLES, "resolutions": RESOLUTIONS, "lenet5": LENET5,
            "max_thumbnails": MAX_THUMBNAILS, "dense_bars": dense_bars, "si": si_amount,
            "describe": describe, "explain": explain, "float32_bytes": FLOAT32_BYTES,
            "part_names": PART_NAMES}  # fmt: skip


def pipeline_context(state: PipelineFields, media) -> dict:
    pipeline = compute(state, media)
    boxes = [field_box(layer.info, pipeline.image.shape) for layer in pipeline.layers]
    upload = media.uploads.get(state.upload) if state.upload else None
    return {"state": state, "pipeline": pipeline, "boxes": boxes, "upload": upload}


def lab_context(state: PipelineFields, media) -> dict:
    pipeline = pipeline_context(state, media)  # first: its errors win
    input_shape, infos = shape_table(state)
    return {
        **page_context(),
        **pipeline,
        "calc_input": input_shape,
        "calc_rows": infos,
        "calc_total": architecture.total_params(infos),
        "calc_macs": architecture.total_macs(infos),
        "calc_memory": architecture.total_memory(input_shape, infos),
        "calc_input_memory": activation_bytes(input_shape),
        "calc_preset": matching_preset(state),
        "presets": preset_links(state),
        "error": None,
        "calc_error": None,
    }


def error_context(request, error, messages: list[str]) -> dict:
    """The whole page with the message in place, the forms keeping what the user typed: a
    calculator mistake (422) next to the calculator, under the pipeline it does not touch."""
    context = {**page_context(), "state": PipelineFields(), "pipeline": None, "calc_rows": None,
               "upload": None, "error": None, "calc_error": None,
               "presets": preset_links(PipelineFields())}  # fmt: skip
    if error.status == 422:
        state = PipelineFields.parse(request.query_params)
        context["presets"] = preset_links(state)
        context |= pipeline_context(state, media_of(request))
        context["calc_error"] = messages
    else:
        context["error"] = messages
    return context
