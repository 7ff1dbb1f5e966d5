"""The Pooling lab: GET /pooling (page or htmx fragment), its PNGs, and image uploads."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app import poolinglab
from app.charts import Series, line_chart
from app.errors import UserError
from app.i18n import N_
from app.poolinglab import PoolState
from app.render import clipped_grey, colour_map, png_bytes
from app.samples import SAMPLES
from app.templating import is_htmx
from app.uploads import upload_into_lab
from engine import edgenet

router = APIRouter()

DEPTH_TITLES = {
    "conv1": N_("conv map (layer 1)"),
    "pool1": N_("after conv → ReLU → pool"),
    "pool2": N_("after two conv → ReLU → pool stages"),
}
SHRINK_TITLES = {
    "subsample": N_("stride-2 convolution, identity kernel"),
    "conv_avg": N_("stride-2 convolution, 2×2 average kernel"),
    "max": N_("2×2 max pooling"),
}


def _samples_dir(request: Request):
    return request.app.state.settings.static_dir / "samples"


def _lab_context(request: Request, state: PoolState) -> dict:
    uploads, results = request.app.state.uploads, request.app.state.results
    samples_dir = _samples_dir(request)
    result = poolinglab.compute(state, uploads, results, samples_dir)
    explanation = poolinglab.explain_cell(state, result)
    near = (explanation.rows[0], explanation.cols[0]) if explanation else None
    shrink = poolinglab.shrink_comparison(result, near)
    image, shifts, scores, current, steps = poolinglab.invariance(
        state, uploads, results, samples_dir
    )
    gettext = request.app.state.templates.gettext(request)
    chart = line_chart(
        [Series(gettext(DEPTH_TITLES[d]), shifts.tolist(), scores[d].tolist()) for d in scores],
        x_label=gettext("shift along the chosen direction (pixels)"),
        y_label=gettext("cosine similarity"),
        title=gettext("Similarity of features, shifted vs unshifted"),
        y_range=(0.0, 1.0),
        marker_x=steps,
        marker_label=gettext("now"),
    )
    height, width = result.source_map.shape
    return {
        "state": state,
        "result": result,
        "explanation": explanation,
        "shrink": shrink,
        "chart": chart,
        "scores_now": current,
        "formulas": [
            (N_("height"), *poolinglab.output_formula(state, height)),
            (N_("width"), *poolinglab.output_formula(state, width)),
        ],
        "upload": request.app.state.uploads.get(state.upload) if state.upload else None,
        "filters_fields": parse_qsl(state.filters.query(row=None, col=None))
        if state.filters
        else [],
        "error": None,
    }


def _render(request: Request, context: dict, status: int = 200, headers=None) -> HTMLResponse:
    base = {
        "samples": SAMPLES,
        "poolinglab": poolinglab,
        "depth_titles": DEPTH_TITLES,
        "shrink_titles": SHRINK_TITLES,
        "layer1": edgenet.LAYER1,
        "layer2": edgenet.LAYER2,
    }
    return request.app.state.templates.page_or_fragment(
        request,
        "pooling/page.html",
        "pooling/_lab.html",
        {**base, **context},
        status_code=status,
        headers=headers,
    )


@router.get("/pooling", response_class=HTMLResponse)
def pooling_page(request: Request) -> Response:
    try:
        state = poolinglab.parse_state(request.query_params)
        context = _lab_context(request, state)
    except UserError as error:
        if is_htmx(request):
            raise
        gettext = request.app.state.templates.gettext(request)
        context = {
            "state": None,
            "raw": request.query_params,
            "result": None,
            "error": error.translated(gettext),
            "filters_fields": [],
            "upload": None,
        }
        return _render(request, context, status=error.status)
    headers = {"HX-Push-Url": f"/pooling?{state.query()}"} if is_htmx(request) else None
    return _render(request, context, headers=headers)


IMAGE_VIEWS = ("input", "winners", "pooled", "shrink", "inv")


@router.get("/pooling/image.png")
def pooling_image(
    request: Request,
    view: Annotated[str, Query()] = "pooled",
    method: Annotated[str, Query()] = "max",
    depth: Annotated[str, Query()] = "conv1",
    shifted: Annotated[int, Query(ge=0, le=1)] = 0,
) -> Response:
    if view not in IMAGE_VIEWS:
        raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=view[:20])
    state = poolinglab.parse_state(request.query_params)
    uploads, results = request.app.state.uploads, request.app.state.results
    result = poolinglab.compute(state, uploads, results, _samples_dir(request))
    if view == "input":
        pixels = colour_map(result.source_map)
    elif view == "pooled":
        pixels = colour_map(result.pooled)
    elif view == "winners":
        if result.win_counts is None:
            raise UserError(N_("Only max pooling has winners."))
        # Transparent everywhere but the cells that won a window.
        overlay = np.zeros((*result.source_map.shape, 4), dtype=np.uint8)
        overlay[result.win_counts > 0] = (240, 228, 66, 255)
        pixels = overlay
    elif view == "shrink":
        if method not in poolinglab.SHRINK_METHODS:
            raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=method[:20])
        comparison = poolinglab.shrink_comparison(result, None)
        pixels = colour_map(comparison.maps[method])
    else:
        if depth not in edgenet.DEPTHS and depth != "input":
            raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=depth[:20])
        image, *_ = poolinglab.invariance(state, uploads, results, _samples_dir(request))
        if depth == "input":
            shown = edgenet.shift_image(image, state.dx, state.dy) if shifted else image
            pixels = clipped_grey(shown * 255)
        else:
            features = poolinglab.stage_maps(state, image, results)[depth][shifted]
            # All channels at once: the sum of the rectified responses.
            pixels = colour_map(np.maximum(features, 0).sum(axis=0))
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(png_bytes(pixels), media_type="image/png", headers=headers)


@router.post("/pooling/upload", response_class=HTMLResponse)
async def pooling_upload(request: Request) -> Response:
    def render(state: PoolState) -> Response:
        return _render(request, _lab_context(request, state))

    return await upload_into_lab(
        request, "/pooling", poolinglab.parse_state, render, drop=("prow", "pcol", "from")
    )
