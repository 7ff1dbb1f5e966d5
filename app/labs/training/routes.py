"""The Training lab: set up a run, watch it train, look inside, compare and export."""

from __future__ import annotations

import io
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, UploadFile

from app.labs.training import attribution, own, own_views, views
from app.labs.training.drawing import drawing_bytes
from app.labs.training.export import export_code
from app.labs.training.fields import ConfidenceFields, TrainFields
from app.media.cache import cached_bytes
from app.media.deps import Results, Uploads
from app.media.uploads import buffered_form
from app.runs import owner
from app.runs.deps import ImageRun, Runs
from app.web.deps import Gettext, Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import colour_map, png_bytes
from app.web.templating import is_htmx
from engine import builder

router = APIRouter()
router.include_router(own.router)  # /train/own: train on your own classes
WORKER = "app.labs.training.worker:run"
PAGE, FRAGMENT = "training/setup.html", "training/_setup.html"
MAX_SAMPLE = 100_000


class TestImage(Fields):
    sample: int = field(0, N_("Test image"), ge=0, le=MAX_SAMPLE, status=422)


class SampleImage(Fields):
    index: int = field(0, N_("Test image"), ge=0, le=MAX_SAMPLE, status=422)


class LayerMap(TestImage):
    layer: int = field(1, N_("Layer"), ge=1, le=100, status=422)
    channel: int = field(0, N_("Feature map"), ge=0, le=4096, status=422)


class Export(Fields):
    framework: str = field("keras", N_("Framework"), max_length=40)


def _png(pixels: np.ndarray) -> Response:
    headers = {"Cache-Control": "private, max-age=600"}
    return Response(png_bytes(pixels), media_type="image/png", headers=headers)


def _started(request: Request, url: str, new_token: str | None) -> Response:
    if is_htmx(request):
        return owner.remember(Response(status_code=204, headers={"HX-Redirect": url}), new_token)
    return owner.remember(RedirectResponse(url, status_code=303), new_token)


# --- set up --------------------------------------------------------------------------------------


@router.get("/train", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.setup_error_context))
def train_setup(
    request: Request, fields: Annotated[TrainFields, Query()], templates: Templates, runs: Runs
) -> Response:
    context = views.setup_context(fields, runs)
    if "edit" in request.query_params and not is_htmx(request):
        # A layer-editor button without JavaScript: land on the address of the result.
        return RedirectResponse(f"/train?{fields.query()}", status_code=303)
    return templates.page(request, PAGE, FRAGMENT, context, push=f"/train?{fields.query()}")


@router.get("/train/preview.png")
def train_preview(fields: Annotated[TrainFields, Query()]) -> Response:
    return _png(colour_map(views.preview_grid(views.form_dataset(fields))))


@router.get("/train/augment.png")
def train_augment_preview(fields: Annotated[TrainFields, Query()]) -> Response:
    return _png(colour_map(views.augment_grid(fields)))


@router.post("/train/runs")
async def train_start(request: Request, runs: Runs) -> Response:
    form = await buffered_form(request, max_files=0)
    fields = TrainFields.parse(form)
    await run_in_threadpool(views.summarise, fields)  # refuse a stack that does not fit first
    digest, new_token = owner.starting_owner(request)
    # The store and the queue are a disk or a network away: not on the event loop.
    config = fields.run_config() | {"query": fields.query()}
    run = await run_in_threadpool(runs.start, config, WORKER, digest)
    return _started(request, f"/train/runs/{run.id}", new_token)


# --- watch ---------------------------------------------------------------------------------------


@router.get("/train/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run: ImageRun, templates: Templates, gettext: Gettext) -> Response:
    numbers = templates.numbers(request)
    context = views.status_context(run, gettext, numbers) | {"form": views.run_form(run)}
    return templates.response(request, "training/run.html", context)


@router.get("/train/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, run: ImageRun, templates: Templates, gettext: Gettext):
    context = views.status_context(run, gettext, templates.numbers(request))
    response = templates.response(request, "training/_status.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _control(request: Request, run, action: str, templates, gettext, runs) -> Response:
    owner.require_owner(request, run)
    getattr(runs, action)(run)
    if not is_htmx(request):
        return RedirectResponse(f"/train/runs/{run.id}", status_code=303)
    return run_status(request, run, templates, gettext)


@router.post("/train/runs/{run_id}/pause", response_class=HTMLResponse)
def run_pause(request: Request, run: ImageRun, templates: Templates, gettext: Gettext,
              runs: Runs) -> Response:  # fmt: skip
    return _control(request, run, "pause", templates, gettext, runs)


@router.post("/train/runs/{run_id}/resume", response_class=HTMLResponse)
def run_resume(request: Request, run: ImageRun, templates: Templates, gettext: Gettext,
               runs: Runs) -> Response:  # fmt: skip
    return _control(request, run, "resume", templates, gettext, runs)


@router.post("/train/runs/{run_id}/stop", response_class=HTMLResponse)
def run_stop(request: Request, run: ImageRun, templates: Templates, gettext: Gettext,
             runs: Runs) -> Response:  # fmt: skip
    return _control(request, run, "stop", templates, gettext, runs)


@router.post("/train/runs/{run_id}/name", response_class=HTMLResponse)
async def run_rename(request: Request, run: ImageRun, runs: Runs, templates: Templates):
    return await owner.rename(request, run, runs, templates, "/train/runs")


@router.get("/train/runs/{run_id}/filters.png")
def run_filters(run: ImageRun) -> Response:
    if run.filters is None:
        raise UserError(N_("The filters are not ready yet."), status=404)
    return _png(views.filter_grid(np.asarray(run.filters)))


# --- look inside ---------------------------------------------------------------------------------


def _inside_context(request, run, results, runs, uploads, shown, temperature: float,
                    templates, gettext, drawn=None) -> dict:  # fmt: skip
    """Everything "look inside" shows. The test-set evaluation is read from the store, or
    computed once for the run and kept there: its weights never change."""
    views.run_evaluation(run, results, runs)
    context = attribution.inside_context(run, results, uploads, shown, drawn)
    image = views.run_data(run).x_test[context["sample"]]
    if run.config["dataset"] == "own":  # train and test accuracy side by side, and try it
        context |= own_views.inside_extra(run, results)
    return context | views.confidence_context(run, results, image, temperature, gettext,
                                              templates.numbers(request))  # fmt: skip


@router.get("/train/runs/{run_id}/inside", response_class=HTMLResponse)
def run_inside(
    request: Request, run: ImageRun, shown: Annotated[attribution.AttributionFields, Query()],
    shown_at: Annotated[ConfidenceFields, Query()], templates: Templates, results: Results,
    uploads: Uploads, runs: Runs, gettext: Gettext,
) -> Response:  # fmt: skip
    context = _inside_context(request, run, results, runs, uploads, shown, shown_at.temperature,
                              templates, gettext)  # fmt: skip
    return templates.page(request, "training/inside_page.html", "training/_inside.html", context)


@router.get("/train/runs/{run_id}/attribution", response_class=HTMLResponse)
def run_attribution(
    request: Request, run: ImageRun, shown: Annotated[attribution.AttributionFields, Query()],
    templates: Templates, results: Results, uploads: Uploads, runs: Runs, gettext: Gettext,
) -> Response:  # fmt: skip
    """One input's attribution maps: the section alone for htmx, else the inside page with it."""
    section = attribution.section(run, results, uploads, shown,
                                  "drawn" if shown.input_id else "test")  # fmt: skip
    context = {"attr": section}
    if not is_htmx(request):
        drawn = section if shown.input_id else None
        context |= _inside_context(request, run, results, runs, uploads, shown, 1.0, templates,
                                   gettext, drawn)  # fmt: skip
    return templates.page(request, "training/inside_page.html", "training/_attribution.html",
                          context)  # fmt: skip


@router.get("/train/runs/{run_id}/attribution.png")
def run_attribution_png(
    run: ImageRun, shown: Annotated[attribution.AttributionFields, Query()], results: Results,
    uploads: Uploads,
) -> Response:  # fmt: skip
    def draw() -> bytes:
        return png_bytes(attribution.overlay_pixels(run, results, uploads, shown))

    data = cached_bytes(results, f"png:attr:{run.id}:{shown.query(row=None, col=None)}", draw)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


@router.get("/train/runs/{run_id}/sample.png")
def run_sample(run: ImageRun, shown: Annotated[SampleImage, Query()]) -> Response:
    data = views.run_data(run)
    if shown.index >= len(data.x_test):
        raise UserError(N_("There is no test image %(n)s."), status=404, n=shown.index)
    own = run.config["dataset"] == "own"  # photos as they are, digits scaled to their ink
    return _png(views.picture_pixels(data.x_test[shown.index], as_is=own))


@router.get("/train/runs/{run_id}/layer.png")
def run_layer(run: ImageRun, shown: Annotated[LayerMap, Query()], results: Results) -> Response:
    data = views.run_data(run)
    layers, _ = views.sample_layers(run, results, min(shown.sample, len(data.x_test) - 1))
    layer = shown.layer
    if layer > len(layers) or layers[layer - 1].values.ndim != 3:
        raise UserError(N_("This network has no feature maps at layer %(n)s."), status=404, n=layer)
    values = layers[layer - 1].values
    if shown.channel >= values.shape[0]:
        raise UserError(N_("This layer has no feature map %(n)s."), status=404, n=shown.channel)
    return _png(colour_map(values[shown.channel]))


@router.post("/train/runs/{run_id}/predict", response_class=HTMLResponse)
async def run_predict(
    request: Request, run: ImageRun, templates: Templates, results: Results, uploads: Uploads,
    runs: Runs,
) -> Response:  # fmt: skip
    form = await buffered_form(request)
    temperature = ConfidenceFields.parse(form).temperature  # a mistake is told before the work
    upload = form.get("image")
    data = await upload.read() if isinstance(upload, UploadFile) else None
    drawing = form.get("drawing")
    picture = drawing_bytes(data, drawing if isinstance(drawing, str) else "")
    context = await run_in_threadpool(views.predict_context, run, results, picture)
    await run_in_threadpool(views.run_evaluation, run, results, runs)  # kept with the run
    context |= await run_in_threadpool(views.confidence_context, run, results, context["image"],
                                       temperature)  # fmt: skip
    context["attribution"] = await run_in_threadpool(attribution.for_drawing, run, results,
                                                     uploads, context["image"])  # fmt: skip
    return templates.response(request, "training/_prediction.html", context)


# --- export and compare --------------------------------------------------------------------------


@router.get("/train/runs/{run_id}/export")
def run_export(run: ImageRun, shown: Annotated[Export, Query()]) -> Response:
    if shown.framework not in ("keras", "pytorch"):
        raise UserError(N_("Export to keras or pytorch (got '%(name)s')."),
                        name=shown.framework[:20])  # fmt: skip
    data = views.run_data(run)
    model, _ = builder.build(run.config["architecture"], data.x_train.shape[1:],
                             len(data.class_names), run.config["batchnorm"])  # fmt: skip
    code = export_code(model, data.x_train.shape[1:], shown.framework, run.config)
    return PlainTextResponse(code, headers={"Content-Disposition": "inline"})


@router.get("/train/runs/{run_id}/weights.npz")
def run_weights(run: ImageRun) -> Response:
    if not run.has_state:
        raise UserError(N_("This run has no trained weights to look at."), status=409)
    buffer = io.BytesIO()
    np.savez(buffer, **run.state)
    headers = {"Content-Disposition": f'attachment; filename="cnn-playground-{run.id}.npz"'}
    return Response(buffer.getvalue(), media_type="application/octet-stream", headers=headers)


@router.get("/train/compare", response_class=HTMLResponse)
def compare_runs(
    request: Request, runs: Runs, templates: Templates, gettext: Gettext, results: Results
) -> Response:
    ids = [i for i in request.query_params.getlist("run") if i][:6]
    if len(ids) < 2:
        raise UserError(N_("Choose at least two runs to compare."))
    chosen = [views.image_run(runs, run_id) for run_id in ids]
    for run in chosen:  # their shifted accuracies are kept with each run
        if run.has_state:
            views.run_evaluation(run, results, runs)
    context = views.compare_context(
        chosen, results, gettext, templates.numbers(request), request.url.query
    )
    return templates.page(request, "training/compare.html", "training/_compare.html", context)


# The ready-made experiment: the same budget as a CNN and as a dense network, then both are
# tested on digits moved a few pixels. 16×16 digits, so that a shift of 1 to 4 pixels is a move,
# not a different picture.
SHIFT_EXPERIMENT = (
    "dataset=digits&size=16&preset=lenet&epochs=8&seed=0",
    "dataset=digits&size=16&preset=mlp&epochs=8&seed=0",
)


@router.post("/train/experiments/shift")
def shift_experiment(request: Request, runs: Runs) -> Response:
    jobs = []
    for query in SHIFT_EXPERIMENT:
        fields = TrainFields.parse(QueryParams(query))
        jobs.append((fields.run_config() | {"query": fields.query()}, WORKER))
    digest, new_token = owner.starting_owner(request)
    started = runs.start_all(jobs, digest)  # both or neither: half an experiment compares nothing
    url = "/train/compare?" + "&".join(f"run={run.id}" for run in started)
    return _started(request, url, new_token)
