"""The Training lab: set up a run, watch it train, look inside, compare and export."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from app import traininglab, trainviews
from app.charts import Series, line_chart
from app.errors import UserError
from app.i18n import N_
from app.jobs import Run
from app.pipelinelab import field_box
from app.render import colour_map, png_bytes
from app.templating import is_htmx
from app.uploads import read_limited_body
from engine.augment import Augmenter

router = APIRouter()

MAX_DRAWING_BYTES = 2 * 1024 * 1024
GALLERY = 24  # misclassified examples shown


def _templates(request: Request):
    return request.app.state.templates


def _base_context() -> dict:
    return {"traininglab": traininglab}


# --- set up --------------------------------------------------------------------------------------


def _setup_context(request: Request, form: traininglab.TrainForm) -> dict:
    infos, total = traininglab.summarise(form)
    data = traininglab.form_dataset(form)
    return {
        "form": form,
        "setup_fields": parse_qsl(form.query()),
        "infos": infos,
        "total_params": total,
        "class_names": data.class_names,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "runs": image_runs(request)[:8],
        "error": None,
    }


@router.get("/train", response_class=HTMLResponse)
def train_setup(request: Request) -> Response:
    try:
        form = traininglab.parse_form(request.query_params)
        context = _setup_context(request, form)
    except UserError as error:
        if is_htmx(request):
            raise
        gettext = _templates(request).gettext(request)
        context = {
            "form": None,
            "raw": request.query_params,
            "error": error.translated(gettext),
            "runs": image_runs(request)[:8],
        }
        return _templates(request).page_or_fragment(
            request, "training/setup.html", "training/_setup.html",
            {**_base_context(), **context}, status_code=error.status,
        )  # fmt: skip
    if request.query_params.get("edit") and not is_htmx(request):
        # A layer-editor button without JavaScript: land on the address of the result.
        return RedirectResponse(f"/train?{form.query()}", status_code=303)
    headers = {"HX-Push-Url": f"/train?{form.query()}"} if is_htmx(request) else None
    return _templates(request).page_or_fragment(
        request, "training/setup.html", "training/_setup.html",
        {**_base_context(), **context}, headers=headers,
    )  # fmt: skip


@router.get("/train/preview.png")
def train_preview(request: Request) -> Response:
    form = traininglab.parse_form(request.query_params)
    grid, _ = traininglab.preview_grid(traininglab.form_dataset(form))
    return _png(colour_map(grid))


@router.get("/train/augment.png")
def train_augment_preview(request: Request) -> Response:
    form = traininglab.parse_form(request.query_params)
    data = traininglab.form_dataset(form)
    from app.train_worker import _augmenter

    augmenter = _augmenter({name: True for name in form.augment}, data.x_train.shape[-1])
    samples = data.x_train[[np.flatnonzero(data.y_train == c)[0] for c in range(4)]]
    copies = (augmenter or Augmenter()).preview(samples, n_copies=6, seed=form.seed)
    copies[:, 0] = samples  # the first column is the untouched image
    # (4, 6, 1, H, W) -> rows of copies, one row per sample, a 1-pixel gap between them
    size = samples.shape[-1]
    grid = np.ones((4 * (size + 1) - 1, 6 * (size + 1) - 1), dtype=np.float32) * 0.5
    for i in range(4):
        for j in range(6):
            grid[i * (size + 1) : i * (size + 1) + size, j * (size + 1) : j * (size + 1) + size] = (
                copies[i, j, 0]
            )
    return _png(colour_map(np.clip(grid, 0, 1) * 255))


def image_runs(request: Request) -> list[Run]:
    return [r for r in request.app.state.runs.runs() if r.config.get("kind", "image") == "image"]


def _png(pixels: np.ndarray) -> Response:
    headers = {"Cache-Control": "private, max-age=600"}
    return Response(png_bytes(pixels), media_type="image/png", headers=headers)


@router.post("/train/runs")
async def train_start(request: Request) -> Response:
    body = await read_limited_body(request, 64 * 1024)
    params = QueryParams(body.decode("utf-8", errors="replace"))
    form = traininglab.parse_form(params)
    traininglab.summarise(form)  # refuse a stack that does not fit before starting a process
    config = form.run_config() | {"query": form.query()}
    run = request.app.state.runs.start(config)
    url = f"/train/runs/{run.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# --- watch ---------------------------------------------------------------------------------------


def _run(request: Request, run_id: str) -> Run:
    run = request.app.state.runs.get(run_id)
    if run is not None and run.config.get("kind", "image") != "image":
        run = None  # another lab's run (the Text lab's): not an image network to show here
    if run is None:
        raise UserError(
            N_(
                "There is no run '%(id)s': it never existed or has expired (finished runs are "
                "kept for %(minutes)s minutes). Start a new one."
            ),
            status=404,
            id=run_id[:20],
            minutes=round(request.app.state.runs.ttl / 60),
        )
    return run


def _status_context(request: Request, run: Run) -> dict:
    gettext = _templates(request).gettext(request)
    with run.lock:
        losses = list(run.step_loss)
        epochs = list(run.epochs)
    loss_chart = None
    if losses:
        stride = max(1, len(losses) // 400)  # at most ~400 points: the SVG stays light
        steps = list(range(1, len(losses) + 1))[::stride]
        loss_chart = line_chart(
            [Series(gettext("loss per step"), steps, losses[::stride])],
            x_label=gettext("step"),
            y_label=gettext("loss"),
            title=gettext("Training loss"),
            y_range=(0.0, max(2.5, min(max(losses), 10.0))),
            height=300,
        )
    accuracy_chart = None
    if epochs:
        xs = [e["epoch"] for e in epochs]
        accuracy_chart = line_chart(
            [
                Series(gettext("train accuracy"), xs, [e["train_accuracy"] for e in epochs]),
                Series(gettext("validation accuracy"), xs, [e["val_accuracy"] for e in epochs]),
            ],
            x_label=gettext("epoch"),
            y_label=gettext("accuracy"),
            title=gettext("Accuracy per epoch"),
            y_range=(0.0, 1.0),
            height=300,
        )
    message = run.message
    if message.startswith("limit:"):
        message = gettext("Stopped at the time limit of %(s)s seconds per run.") % {
            "s": message.split(":", 1)[1]
        }
    return {"run": run, "loss_chart": loss_chart, "accuracy_chart": accuracy_chart,
            "message": message}  # fmt: skip


@router.get("/train/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str) -> Response:
    run = _run(request, run_id)
    context = _status_context(request, run)
    context["form"] = trainviews.run_form(run)
    return _templates(request).response(
        request, "training/run.html", {**_base_context(), **context}
    )


@router.get("/train/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, run_id: str) -> Response:
    run = _run(request, run_id)
    context = _status_context(request, run)
    response = _templates(request).response(request, "training/_status.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _control(request: Request, run_id: str, action: str) -> Response:
    run = _run(request, run_id)
    getattr(request.app.state.runs, action)(run)
    if not is_htmx(request):
        return RedirectResponse(f"/train/runs/{run.id}", status_code=303)
    return run_status(request, run_id)


@router.post("/train/runs/{run_id}/pause", response_class=HTMLResponse)
def run_pause(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "pause")


@router.post("/train/runs/{run_id}/resume", response_class=HTMLResponse)
def run_resume(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "resume")


@router.post("/train/runs/{run_id}/stop", response_class=HTMLResponse)
def run_stop(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "stop")


@router.get("/train/runs/{run_id}/filters.png")
def run_filters(request: Request, run_id: str) -> Response:
    run = _run(request, run_id)
    weights = run.filters
    if weights is None:
        raise UserError(N_("The filters are not ready yet."), status=404)
    return _png(filter_grid(np.asarray(weights)))


def filter_grid(weights: np.ndarray) -> np.ndarray:
    """Conv weights (F, C, K, K) -> one row of F tiles (first input channel), diverging colours,
    one shared scale so their strengths compare; a dense layer's weights as rows instead."""
    if weights.ndim == 4:
        tiles = weights[:, 0]
    else:  # dense (out, in): each unit's weights as a square-ish tile
        side = int(np.ceil(np.sqrt(weights.shape[1])))
        padded = np.zeros((weights.shape[0], side * side), dtype=weights.dtype)
        padded[:, : weights.shape[1]] = weights
        tiles = padded.reshape(-1, side, side)[:16]
    k = tiles.shape[-1]
    grid = np.zeros((k, len(tiles) * (k + 1) - 1), dtype=np.float32)
    for index, tile in enumerate(tiles):
        grid[:, index * (k + 1) : index * (k + 1) + k] = tile
    limit = float(np.abs(tiles).max()) or 1.0
    from app.render import diverging_rgb

    return diverging_rgb(grid, limit)


# --- look inside ---------------------------------------------------------------------------------


@router.get("/train/runs/{run_id}/inside", response_class=HTMLResponse)
def run_inside(
    request: Request, run_id: str, sample: Annotated[int, Query(ge=0, le=100_000)] = 0
) -> Response:
    run = _run(request, run_id)
    model, infos = trainviews.run_model(run, request.app.state.results)
    data = trainviews.run_data(run)
    sample = min(sample, len(data.x_test) - 1)
    layers, probabilities = trainviews.sample_layers(run, request.app.state.results, sample)
    matrix, predictions = trainviews.confusion(model, data)
    wrong = np.flatnonzero(predictions != data.y_test)[:GALLERY]
    context = {
        "run": run,
        "sample": sample,
        "label": int(data.y_test[sample]),
        "layers": layers,
        "boxes": [field_box(layer.info, data.x_test.shape[-2:]) for layer in layers],
        "probabilities": probabilities,
        "class_names": data.class_names,
        "matrix": matrix,
        "wrong": [(int(i), int(data.y_test[i]), int(predictions[i])) for i in wrong],
        "n_test": len(data.x_test),
        "shifted": trainviews.shifted_accuracy(model, data),
    }
    return _templates(request).page_or_fragment(
        request,
        "training/inside_page.html",
        "training/_inside.html",
        {**_base_context(), **context},
    )


@router.get("/train/runs/{run_id}/sample.png")
def run_sample(
    request: Request, run_id: str, index: Annotated[int, Query(ge=0, le=100_000)] = 0
) -> Response:
    run = _run(request, run_id)
    data = trainviews.run_data(run)
    if index >= len(data.x_test):
        raise UserError(N_("There is no test image %(n)s."), status=404, n=index)
    return _png(colour_map(data.x_test[index, 0] * 255))


@router.get("/train/runs/{run_id}/layer.png")
def run_layer(
    request: Request,
    run_id: str,
    sample: Annotated[int, Query(ge=0, le=100_000)] = 0,
    layer: Annotated[int, Query(ge=1, le=100)] = 1,
    channel: Annotated[int, Query(ge=0, le=4096)] = 0,
) -> Response:
    run = _run(request, run_id)
    data = trainviews.run_data(run)
    sample = min(sample, len(data.x_test) - 1)
    layers, _ = trainviews.sample_layers(run, request.app.state.results, sample)
    if layer > len(layers) or layers[layer - 1].values.ndim != 3:
        raise UserError(N_("This network has no feature maps at layer %(n)s."), status=404, n=layer)
    values = layers[layer - 1].values
    if channel >= values.shape[0]:
        raise UserError(N_("This layer has no feature map %(n)s."), status=404, n=channel)
    return _png(colour_map(values[channel]))


@router.post("/train/runs/{run_id}/predict", response_class=HTMLResponse)
async def run_predict(request: Request, run_id: str) -> Response:
    run = _run(request, run_id)
    body = await read_limited_body(request, MAX_DRAWING_BYTES + 64 * 1024)
    request._body = body
    form = await request.form(max_files=1, max_fields=10, max_part_size=MAX_DRAWING_BYTES)
    data_bytes = await _drawing_bytes(form)
    from starlette.concurrency import run_in_threadpool

    context = await run_in_threadpool(_predict_context, request, run, data_bytes)
    return _templates(request).response(request, "training/_prediction.html", context)


async def _drawing_bytes(form) -> bytes:
    import base64

    upload = form.get("image")
    if upload is not None and hasattr(upload, "read"):
        data = await upload.read()
        if data:
            return data
    drawing = form.get("drawing") or ""
    if isinstance(drawing, str) and drawing.startswith("data:image/png;base64,"):
        try:
            return base64.b64decode(drawing.split(",", 1)[1], validate=True)
        except ValueError as error:
            raise UserError(N_("The drawing could not be read.")) from error
    raise UserError(
        N_("The drawing is blank: draw a digit or a shape with the mouse or a finger first.")
    )


def _predict_context(request: Request, run: Run, data: bytes) -> dict:
    model, infos = trainviews.run_model(run, request.app.state.results)
    dataset = trainviews.run_data(run)
    steps, image = trainviews.prepare_drawing(data, dataset.x_test.shape[-1])
    layers, probabilities = trainviews.layer_table(model, infos, image)

    def thumbnails(values: np.ndarray) -> list[str]:
        return [png_data_uri(colour_map(values[c])) for c in range(min(16, values.shape[0]))]

    return {
        "run": run,
        "steps": [(t, png_data_uri(colour_map(np.clip(v, 0, 1) * 255))) for t, v in steps],
        "probabilities": probabilities,
        "class_names": dataset.class_names,
        "prediction": int(probabilities.argmax()),
        "layers": layers,
        "layer_uris": [thumbnails(x.values) if x.values.ndim == 3 else [] for x in layers],
    }


def png_data_uri(pixels: np.ndarray) -> str:
    import base64

    return "data:image/png;base64," + base64.b64encode(png_bytes(pixels)).decode()


# --- export and compare --------------------------------------------------------------------------


@router.get("/train/runs/{run_id}/export")
def run_export(request: Request, run_id: str, framework: str = "keras") -> Response:
    run = _run(request, run_id)
    if framework not in ("keras", "pytorch"):
        raise UserError(N_("Export to keras or pytorch (got '%(name)s')."), name=framework[:20])
    data = trainviews.run_data(run)
    from engine import builder

    model, _ = builder.build(run.config["architecture"], data.x_train.shape[1:],
                             len(data.class_names), run.config["batchnorm"])  # fmt: skip
    code = trainviews.export_code(model, data.x_train.shape[1:], framework, run.config)
    return PlainTextResponse(code, headers={"Content-Disposition": "inline"})


@router.get("/train/runs/{run_id}/weights.npz")
def run_weights(request: Request, run_id: str) -> Response:
    run = _run(request, run_id)
    if run.state is None:
        raise UserError(N_("This run has no trained weights to look at."), status=409)
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **run.state)
    headers = {"Content-Disposition": f'attachment; filename="cnn-playground-{run.id}.npz"'}
    return Response(buffer.getvalue(), media_type="application/octet-stream", headers=headers)


@router.get("/train/compare", response_class=HTMLResponse)
def compare_runs(request: Request) -> Response:
    ids = [i for i in request.query_params.getlist("run") if i][:6]
    if len(ids) < 2:
        raise UserError(N_("Choose at least two runs to compare."))
    runs = [_run(request, run_id) for run_id in ids]
    gettext = _templates(request).gettext(request)
    labels = compare_labels([trainviews.run_form(run) for run in runs], gettext)
    val_series = [
        Series(label, [e["epoch"] for e in run.epochs], [e["val_accuracy"] for e in run.epochs])
        for label, run in zip(labels, runs, strict=True)
        if run.epochs
    ]
    loss_series = [
        Series(label, [e["epoch"] for e in run.epochs], [e["train_loss"] for e in run.epochs])
        for label, run in zip(labels, runs, strict=True)
        if run.epochs
    ]
    charts = [
        line_chart(val_series, gettext("epoch"), gettext("validation accuracy"),
                   gettext("Validation accuracy per epoch"), y_range=(0.0, 1.0)),
        line_chart(loss_series, gettext("epoch"), gettext("training loss"),
                   gettext("Training loss per epoch")),
    ]  # fmt: skip
    shifted = []
    for label, run in zip(labels, runs, strict=True):
        if run.state is not None:
            model, _ = trainviews.run_model(run, request.app.state.results)
            scores = trainviews.shifted_accuracy(model, trainviews.run_data(run))
            shifted.append(Series(label, [0, 1, 2, 3, 4], scores))
    if shifted:
        charts.append(
            line_chart(shifted, gettext("shift of every test image (pixels to the right)"),
                       gettext("test accuracy"), gettext("Accuracy on shifted test images"),
                       y_range=(0.0, 1.0))
        )  # fmt: skip
    context = {
        "runs": list(zip(labels, runs, strict=True)),
        "charts": charts,
        "any_active": any(run.active for run in runs),
        "query": request.url.query,
    }
    name = "training/_compare.html" if is_htmx(request) else "training/compare.html"
    return _templates(request).response(request, name, context)


# The ready-made experiment: the same budget as a CNN and as a dense network, then both are
# tested on digits moved a few pixels. 16×16 digits, so that a shift of 1 to 4 pixels is a move,
# not a different picture.
SHIFT_EXPERIMENT = (
    "dataset=digits&size=16&preset=lenet&epochs=8&seed=0",
    "dataset=digits&size=16&preset=mlp&epochs=8&seed=0",
)


@router.post("/train/experiments/shift")
def shift_experiment(request: Request) -> Response:
    manager = request.app.state.runs
    ids = []
    for query in SHIFT_EXPERIMENT:
        form = traininglab.parse_form(QueryParams(query))
        ids.append(manager.start(form.run_config() | {"query": form.query()}).id)
    url = "/train/compare?" + "&".join(f"run={run_id}" for run_id in ids)
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def compare_labels(forms: list[traininglab.TrainForm], gettext) -> list[str]:
    """Name each run by what differs from the others: "bn on, adam" rather than a full config."""
    fields = {
        "preset": lambda f: gettext(traininglab.PRESET_TITLES[f.preset]),
        "arch": lambda f: f.arch if f.preset == "custom" else "",
        "batchnorm": lambda f: gettext("batch norm") if f.batchnorm else gettext("no batch norm"),
        "augment": lambda f: gettext("augmented") if f.augment else gettext("no augmentation"),
        "optimizer": lambda f: gettext(traininglab.OPTIMIZER_TITLES[f.optimizer]),
        "lr": lambda f: f"lr {f.lr:g}",
        "schedule": lambda f: gettext(traininglab.SCHEDULE_TITLES[f.schedule]),
        "batch": lambda f: f"batch {f.batch_size}",
        "epochs": lambda f: f"{f.epochs} " + gettext("epochs"),
        "seed": lambda f: f"seed {f.seed}",
        "dataset": lambda f: gettext(traininglab.DATASET_TITLES[f.dataset]),
    }
    differing = [name for name, get in fields.items() if len({get(f) for f in forms}) > 1]
    labels = []
    for index, form in enumerate(forms, start=1):
        parts = [fields[name](form) for name in differing if fields[name](form)]
        labels.append(", ".join(parts) or gettext("run %(n)s") % {"n": index})
    return labels
