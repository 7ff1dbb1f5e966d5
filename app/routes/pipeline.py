"""The CNN pipeline view and the shape calculator: GET /pipeline, its PNGs, and uploads."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import pipelinelab
from app.errors import UserError
from app.i18n import N_
from app.pipelinelab import PipelineState
from app.render import clipped_grey, colour_map, png_bytes
from app.samples import SAMPLES
from app.templating import is_htmx
from app.uploads import upload_into_lab
from engine import architecture

router = APIRouter()

MAX_THUMBNAILS = 16  # channels shown per layer


def _samples_dir(request: Request):
    return request.app.state.settings.static_dir / "samples"


def _context(request: Request, state: PipelineState) -> dict:
    uploads, results = request.app.state.uploads, request.app.state.results
    pipeline = pipelinelab.compute(state, uploads, results, _samples_dir(request))
    input_shape, infos = pipelinelab.shape_table(state)
    boxes = [pipelinelab.field_box(layer.info, pipeline.image.shape) for layer in pipeline.layers]
    return {
        "state": state,
        "pipeline": pipeline,
        "boxes": boxes,
        "calc_input": input_shape,
        "calc_rows": infos,
        "calc_total": architecture.total_params(infos),
        "upload": uploads.get(state.upload) if state.upload else None,
        "error": None,
        "calc_error": None,
    }


def _render(request: Request, context: dict, status: int = 200, headers=None) -> HTMLResponse:
    templates = request.app.state.templates
    base = {
        "samples": SAMPLES,
        "pipelinelab": pipelinelab,
        "max_thumbnails": MAX_THUMBNAILS,
        "dense_bars": dense_bars,
    }
    target = request.headers.get("hx-target")
    if is_htmx(request) and target == "calc":
        name = "pipeline/_calc.html"
    elif is_htmx(request):
        name = "pipeline/_lab.html"
    else:
        name = "pipeline/page.html"
    return templates.response(request, name, {**base, **context}, status, headers)


@router.get("/pipeline", response_class=HTMLResponse)
def pipeline_page(request: Request) -> Response:
    try:
        state = pipelinelab.parse_state(request.query_params)
    except UserError as error:
        if is_htmx(request):
            raise
        return _error_page(request, error, PipelineState())
    try:
        context = _context(request, state)
    except UserError as error:
        if is_htmx(request):
            raise
        return _error_page(request, error, state)
    headers = {"HX-Push-Url": f"/pipeline?{state.query()}"} if is_htmx(request) else None
    return _render(request, context, headers=headers)


def _error_page(request: Request, error: UserError, state: PipelineState) -> HTMLResponse:
    """The whole page with the message in place, the forms keeping what the user typed."""
    gettext = request.app.state.templates.gettext(request)
    message = error.translated(gettext)
    context = {"state": state, "pipeline": None, "calc_rows": None, "upload": None,
               "error": None, "calc_error": None}  # fmt: skip
    is_calc_error = error.status == 422
    context["calc_error" if is_calc_error else "error"] = message
    if is_calc_error:
        uploads, results = request.app.state.uploads, request.app.state.results
        pipeline = pipelinelab.compute(state, uploads, results, _samples_dir(request))
        context["pipeline"] = pipeline
        context["boxes"] = [
            pipelinelab.field_box(layer.info, pipeline.image.shape) for layer in pipeline.layers
        ]
    return _render(request, context, status=error.status)


@router.get("/pipeline/image.png")
def pipeline_image(
    request: Request,
    layer: Annotated[int, Query(ge=0, le=64)] = 0,
    channel: Annotated[int, Query(ge=0, le=4096)] = 0,
) -> Response:
    state = pipelinelab.parse_state(request.query_params)
    uploads, results = request.app.state.uploads, request.app.state.results
    pipeline = pipelinelab.compute(state, uploads, results, _samples_dir(request))
    if layer == 0:
        pixels = clipped_grey(pipeline.image * 255)
    else:
        if layer > len(pipeline.layers):
            raise UserError(N_("This network has no layer %(n)s."), status=404, n=layer)
        values = pipeline.layers[layer - 1].values
        if values.ndim != 3 or channel >= values.shape[0]:
            raise UserError(N_("This layer has no feature map %(n)s."), status=404, n=channel)
        pixels = colour_map(values[channel])
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(png_bytes(pixels), media_type="image/png", headers=headers)


@router.post("/pipeline/upload", response_class=HTMLResponse)
async def pipeline_upload(request: Request) -> Response:
    def render(state: PipelineState) -> Response:
        return _render(request, _context(request, state))

    return await upload_into_lab(request, "/pipeline", pipelinelab.parse_state, render)


def dense_bars(values: np.ndarray) -> list[tuple[int, float, float]]:
    """(index, value, bar length in % of the largest magnitude) for a vector's bar chart."""
    top = float(np.abs(values).max()) or 1.0
    return [(i, float(v), abs(float(v)) / top * 100) for i, v in enumerate(values)]
