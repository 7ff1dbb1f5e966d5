"""Why a trained network decided what it did, for one input (a test image, a drawing or an
upload) and a class the student chooses: the saliency map |∂z/∂x|, optionally integrated
gradients, Grad-CAM at every convolution stage and the occlusion map, each overlaid on the input,
with the number behind any clicked cell. The maths is engine.interpret's; this module picks the
input, the layers and the patch size, caches the maps and paints them."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import numpy as np
from pydantic import model_validator

from app.labs.training import views
from app.media.uploads import content_id, is_valid_upload_id
from app.web.errors import LabelRef, UserError
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import diverging_rgb
from engine import interpret
from engine.architecture import ACTIVATIONS
from engine.losses import softmax

MAX_SAMPLE = 100_000
MAX_CLASS = 1000
MAX_CELL = 4096
IG_STEPS = 32
DISPLAY_SIDE = 224  # the overlays are painted at about this many pixels a side
# Occlusion patch (size, stride) per input side: a patch about a quarter to a third of the side
# hides a stroke, and half a patch of stride lets neighbouring patches overlap.
OCCLUSION = {28: (8, 4), 16: (4, 2), 8: (2, 1)}
# Layers that belong to the convolution before them: its stage ends where a pool, another
# convolution or the dense part begins.
STAGE_LAYERS = {"batchnorm", "dropout", *ACTIVATIONS}
# The overlays' sequential colour map (viridis, five anchors): dark where a map is small.
VIRIDIS = np.array(
    [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float32
)


class AttributionFields(Fields):
    """Which input (a test image, or a drawing kept under `input`), which class, and the
    clicked cell of which map."""

    sample: int = field(0, N_("Test image"), ge=0, le=MAX_SAMPLE, status=422)
    input_id: str | None = field(None, N_("Drawing"), alias="input", max_length=40, status=404)
    target: int | None = field(None, N_("Class"), ge=0, le=MAX_CLASS, status=422)
    ig: bool = field(False, N_("Integrated gradients"))
    map: str | None = field(None, N_("Map"), max_length=20, status=404)
    row: int | None = field(None, N_("Row"), ge=0, le=MAX_CELL, status=422)
    col: int | None = field(None, N_("Column"), ge=0, le=MAX_CELL, status=422)

    @model_validator(mode="after")
    def _blank_is_none(self):
        # A form sends its hidden fields blank before any cell has been clicked.
        self.map = self.map or None
        self.input_id = self.input_id or None
        return self

    def omitted(self) -> set[str]:
        return {"sample"} if self.input_id else set()


# --- the input -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chosen:
    key: str  # what the caches know the input by: "s3" (test image 3) or "d<id>" (a drawing)
    image: np.ndarray  # (C, H, W) in 0..1
    query: dict  # how a URL names it: {"sample": 3} or {"input": id}


def _drawing_key(input_id: str) -> str:
    return f"train-input:{input_id}"


def keep_drawing(uploads, image: np.ndarray) -> str:
    """Keep a prepared drawing (C, H, W) where every web process finds it; its id for URLs."""
    image = np.ascontiguousarray(image, dtype=np.float32)
    input_id = content_id(image.tobytes() + repr(image.shape).encode())
    uploads.put(_drawing_key(input_id), image, image.nbytes)
    return input_id


def chosen_input(run, uploads, fields: AttributionFields) -> Chosen:
    data = views.run_data(run)
    if fields.input_id is not None:
        image = None
        if is_valid_upload_id(fields.input_id):
            image = uploads.get(_drawing_key(fields.input_id))
        if image is None or image.shape != data.x_test.shape[1:]:
            raise UserError(
                N_("This drawing is no longer kept on the server: draw it or upload it again "
                   "and press Predict."), status=404,
            ).at("input")  # fmt: skip
        return Chosen(f"d{fields.input_id}", image, {"input": fields.input_id})
    if fields.sample >= len(data.x_test):
        raise UserError(N_("There is no test image %(n)s."), status=404, n=fields.sample).at(
            "sample"
        )
    return Chosen(f"s{fields.sample}", data.x_test[fields.sample], {"sample": fields.sample})


# --- the maps ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """A convolution stage: the convolution and the batch norm and activation after it."""

    number: int  # 1, 2, ... from the input
    layer: int  # index in model.layers of the stage's last layer: Grad-CAM looks at its output
    text: str  # "conv 6 5x5 same, relu"
    shape: tuple[int, ...]  # its output per sample, (C, H, W)


def conv_stages(model, infos) -> list[Stage]:
    stages: list[dict] = []
    open_stage = None
    for position, info in enumerate(infos):
        kind = info.spec.kind
        if kind == "conv":
            open_stage = {"specs": [info.spec.text], "position": position, "shape": info.shape}
            stages.append(open_stage)
        elif open_stage is not None and kind in STAGE_LAYERS:
            open_stage["specs"].append(info.spec.text)
            open_stage["position"], open_stage["shape"] = position, info.shape
        else:
            open_stage = None
    return [Stage(n, model.spec_outputs[s["position"]], ", ".join(s["specs"]), tuple(s["shape"]))
            for n, s in enumerate(stages, start=1)]  # fmt: skip


def occlusion_patch(side: int) -> tuple[int, int]:
    """(size, stride) of the occlusion patch for an input `side` pixels high."""
    if side in OCCLUSION:
        return OCCLUSION[side]
    size = max(2, round(side * 2 / 7))
    return size, max(1, size // 2)


@dataclass(frozen=True)
class Computed:
    """One map for one input and class, as engine.interpret returned it, with what explains it."""

    values: np.ndarray  # (rows, cols): what the overlay paints and a click reads
    signed: np.ndarray | None = None  # saliency: ∂z/∂x itself, before |·|
    extra: dict = dataclass_field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        signed = 0 if self.signed is None else self.signed.nbytes
        return self.values.nbytes + signed + 512


def _own_model(run, results):
    """A private copy of the run's cached model: a backward pass writes each layer's caches
    and gradients, so it must not run on the copy other requests share."""
    model, infos = views.run_model(run, results)
    return copy.deepcopy(model), infos


def map_names(stages: list[Stage], ig: bool) -> list[str]:
    return ["saliency", *(["ig"] if ig else []), *(f"cam{s.number}" for s in stages), "occlusion"]


def compute_map(run, results, chosen: Chosen, target: int, name: str) -> Computed:
    """The map `name` ("saliency", "ig", "cam<n>", "occlusion") for the input and class,
    computed once and kept in the results cache."""

    def compute() -> Computed:
        model, infos = _own_model(run, results)
        x = chosen.image[None].astype(np.float32)  # (1, C, H, W)
        if name == "saliency":
            gradient = interpret.input_gradient(model, x, target)[0]  # (C, H, W)
            return Computed(np.abs(gradient).max(axis=0), gradient.sum(axis=0))
        if name == "ig":
            attributions = interpret.integrated_gradients(model, x, target, steps=IG_STEPS)[0]
            total = float(attributions.sum())
            gain = float(interpret.scores(model, x, target)[0]
                         - interpret.scores(model, np.zeros_like(x), target)[0])  # fmt: skip
            return Computed(attributions.sum(axis=0), extra={"total": total, "gain": gain})
        if name == "occlusion":
            size, stride = occlusion_patch(x.shape[2])
            drop = interpret.occlusion(model, x, target, size=size, stride=stride)[0]
            probability = float(softmax(model.forward_all(x, training=False)[-1])[0, target])
            return Computed(drop, extra={"size": size, "stride": stride, "before": probability})
        stage = _stage_named(conv_stages(model, infos), name)
        return Computed(interpret.grad_cam(model, x, target, stage.layer)[0])

    return results.get_or_compute(f"attr:{run.id}:{chosen.key}:{target}:{name}", compute,
                                  nbytes=lambda made: made.nbytes)  # fmt: skip


def _stage_named(stages: list[Stage], name: str) -> Stage:
    for stage in stages:
        if name == f"cam{stage.number}":
            return stage
    raise UserError(N_("This network has no map '%(name)s'."), status=404, name=name[:20]).at("map")


# --- painting ------------------------------------------------------------------------------------


def _scale(side: int) -> int:
    """Display pixels per input pixel: whole, so an input pixel stays a square."""
    return max(1, -(-DISPLAY_SIDE // side))


def display_cells(display: int, side: int, cells: int, patch: tuple[int, int] | None) -> np.ndarray:
    """(display,) the map cell under each display pixel along one axis. A map as large as the
    input, or smaller (Grad-CAM), is stretched over it; an occlusion map gives each input pixel
    to the patch whose centre is nearest (static/js/training.js reads a click the same way)."""
    pixels = np.arange(display) * side // display  # the input pixel under each display pixel
    if patch is None:
        return np.arange(display) * cells // display
    size, stride = patch
    nearest = np.floor((pixels - (size - 1) / 2) / stride + 0.5).astype(int)
    return np.clip(nearest, 0, cells - 1)


def overlay_rgb(image: np.ndarray, computed: Computed, name: str) -> np.ndarray:
    """(S, S, 3) uint8: the input in grey with the map over it, S = side × a whole scale.
    Non-negative maps (saliency, Grad-CAM) in viridis, more opaque where larger; signed ones
    (integrated gradients, occlusion) blue–white–orange centred on zero."""
    grey = image.mean(axis=0)  # (H, W)
    side_h, side_w = grey.shape
    scale = _scale(max(side_h, side_w))
    values = computed.values
    patch = (computed.extra["size"], computed.extra["stride"]) if name == "occlusion" else None
    rows = display_cells(side_h * scale, side_h, values.shape[0], patch)
    cols = display_cells(side_w * scale, side_w, values.shape[1], patch)
    shown = values[rows[:, None], cols[None, :]]  # (S, S): nearest, so a cell stays a cell
    background = 40 + 150 * np.repeat(np.repeat(grey, scale, axis=0), scale, axis=1)[..., None]
    limit = float(np.abs(values).max()) or 1.0
    if name in ("saliency",) or name.startswith("cam"):
        t = np.clip(shown / limit, 0, 1)
        anchors = t * (len(VIRIDIS) - 1)
        low = np.minimum(anchors.astype(int), len(VIRIDIS) - 2)
        fraction = (anchors - low)[..., None]
        colour = VIRIDIS[low] * (1 - fraction) + VIRIDIS[low + 1] * fraction
    else:
        t = np.clip(np.abs(shown) / limit, 0, 1)
        colour = diverging_rgb(shown, limit).astype(np.float32)
    alpha = (0.85 * t)[..., None]
    return np.round(background * (1 - alpha) + colour * alpha).astype(np.uint8)


# --- what the template gets ----------------------------------------------------------------------


@dataclass
class MapView:
    name: str  # "saliency", "ig", "cam<n>", "occlusion"
    url: str  # its overlay PNG
    rows: int
    cols: int
    limit: float  # the largest |value|: the colour scale's end
    stage: Stage | None = None
    extra: dict = dataclass_field(default_factory=dict)
    selected: bool = False
    box: dict | None = None  # the clicked cell (or patch) as percentages of the picture


@dataclass
class CellView:
    name: str
    row: int
    col: int
    value: float
    rows: int
    cols: int
    signed: float | None = None  # saliency: ∂z/∂x
    pixel: float | None = None  # the input pixel's value (saliency, integrated gradients)
    patch: dict | None = None  # occlusion: rows, columns, probability before and after


def _cell_box(view: MapView, row: int, col: int, side: int) -> dict:
    if view.name == "occlusion":
        size, stride = view.extra["size"], view.extra["stride"]
        top, left = row * stride, col * stride
        return {"top": top / side * 100, "left": left / side * 100,
                "height": (min(side, top + size) - top) / side * 100,
                "width": (min(side, left + size) - left) / side * 100}  # fmt: skip
    return {"top": row / view.rows * 100, "left": col / view.cols * 100,
            "height": 100 / view.rows, "width": 100 / view.cols}  # fmt: skip


def _cell(view: MapView, computed: Computed, fields: AttributionFields, image) -> CellView:
    if fields.row is None or fields.col is None:
        raise UserError(N_("Click a cell of the map to see its number.")).at("map")
    for name, value, count in (("row", fields.row, view.rows), ("col", fields.col, view.cols)):
        if value >= count:
            label = N_("Row") if name == "row" else N_("Column")
            raise UserError(
                N_("%(what)s must be between 0 and %(max)s on this %(rows)s×%(cols)s map "
                   "(got %(n)s)."),
                status=422, what=LabelRef(label), max=count - 1, rows=view.rows, cols=view.cols,
                n=value,
            ).at(name)  # fmt: skip
    row, col = fields.row, fields.col
    cell = CellView(view.name, row, col, float(computed.values[row, col]), view.rows, view.cols)
    if view.name == "saliency":
        cell.signed = float(computed.signed[row, col])
    if view.name in ("saliency", "ig"):
        cell.pixel = float(image[:, row, col].mean())
    if view.name == "occlusion":
        size, stride = view.extra["size"], view.extra["stride"]
        side_h, side_w = image.shape[1:]
        before = view.extra["before"]
        cell.patch = {
            "rows": (row * stride, min(side_h, row * stride + size) - 1),
            "cols": (col * stride, min(side_w, col * stride + size) - 1),
            "before": before,
            "after": before - cell.value,
        }
    return cell


def section(run, results, uploads, fields: AttributionFields, dom: str) -> dict:
    """What templates/training/_attribution.html shows for one input: the class scores, the
    maps of the chosen class and the clicked cell. `dom` names the section in the page."""
    chosen = chosen_input(run, uploads, fields)
    model, infos = views.run_model(run, results)
    class_names = views.run_data(run).class_names
    logits = model.forward_all(chosen.image[None], training=False)[-1][0]  # (K,)
    probabilities = softmax(logits)
    predicted = int(probabilities.argmax())
    target = predicted if fields.target is None else fields.target
    if target >= len(class_names):
        raise UserError(N_("Class must be between 0 and %(max)s (got %(n)s)."), status=422,
                        max=len(class_names) - 1, n=target).at("target")  # fmt: skip
    stages = conv_stages(model, infos)
    names = map_names(stages, fields.ig)
    selected = None if fields.map == "ig" and not fields.ig else fields.map  # IG unticked
    if selected is not None and selected not in names:
        raise UserError(N_("This network has no map '%(name)s'."), status=404,
                        name=fields.map[:20]).at("map")  # fmt: skip
    side = chosen.image.shape[1]
    base = {**chosen.query, "target": target}
    views_of_maps, cell = [], None
    for name in names:
        computed = compute_map(run, results, chosen, target, name)
        stage = next((s for s in stages if f"cam{s.number}" == name), None)
        query = "&".join(f"{k}={v}" for k, v in (base | {"map": name}).items())
        view = MapView(name, f"/train/runs/{run.id}/attribution.png?{query}",
                       *computed.values.shape, float(np.abs(computed.values).max()), stage,
                       computed.extra)  # fmt: skip
        if name == selected:
            cell = _cell(view, computed, fields, chosen.image)
            view.selected = True
            view.box = _cell_box(view, cell.row, cell.col, side)
        views_of_maps.append(view)
    return {
        "dom": dom,
        "run_id": run.id,
        "query": chosen.query,
        "target": target,
        "predicted": predicted,
        "ig": fields.ig,
        "ig_steps": IG_STEPS,
        "classes": [
            (k, name, float(logits[k]), float(probabilities[k]))
            for k, name in enumerate(class_names)
        ],  # fmt: skip
        "class_names": class_names,
        "maps": views_of_maps,
        "cell": cell,
        "side": side,
        "display": side * _scale(side),
    }


def overlay_pixels(run, results, uploads, fields: AttributionFields) -> np.ndarray:
    """The overlay of one map, for the PNG route (the class defaults to the predicted one)."""
    chosen = chosen_input(run, uploads, fields)
    model, infos = views.run_model(run, results)
    logits = model.forward_all(chosen.image[None], training=False)[-1][0]
    target = int(logits.argmax()) if fields.target is None else fields.target
    if target >= len(logits):
        raise UserError(N_("Class must be between 0 and %(max)s (got %(n)s)."), status=422,
                        max=len(logits) - 1, n=target).at("target")  # fmt: skip
    names = map_names(conv_stages(model, infos), ig=True)
    if fields.map not in names:
        raise UserError(N_("This network has no map '%(name)s'."), status=404,
                        name=(fields.map or "")[:20]).at("map")  # fmt: skip
    computed = compute_map(run, results, chosen, target, fields.map)
    return overlay_rgb(chosen.image, computed, fields.map)


def inside_context(run, results, uploads, shown: AttributionFields, drawn=None) -> dict:
    """The "look inside" page with the attribution of its test image (the one `shown` names,
    or the first when `shown` is a drawing's, which then goes in `drawn`)."""
    context = views.inside_context(run, results, shown.sample)
    tested = shown if shown.input_id is None else AttributionFields()
    tested = tested.model_copy(update={"sample": context["sample"]})
    return context | {"attribution": section(run, results, uploads, tested, "test"),
                      "drawn_attribution": drawn}  # fmt: skip


def for_drawing(run, results, uploads, image: np.ndarray) -> dict:
    """A drawing's section, predicted class first. The prepared drawing is kept (by content)
    so that the class switch and the clicks, later requests, can name it."""
    shown = AttributionFields(input=keep_drawing(uploads, image))
    return section(run, results, uploads, shown, "drawn")
