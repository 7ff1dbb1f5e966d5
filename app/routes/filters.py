"""The Filters lab: GET /filters (page or htmx fragment), its PNGs, and image uploads."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import QueryParams

from app import filterlab
from app.errors import UserError
from app.filterlab import FilterState
from app.i18n import N_
from app.render import (
    clipped_grey,
    colour_map,
    diverging_rgb,
    map_scale,
    png_bytes,
    symmetric_limit,
)
from app.samples import SAMPLES
from app.templating import is_htmx
from app.uploads import upload_into_lab
from engine.kernels import KERNELS

router = APIRouter()

IMAGE_VIEWS = ("input", "map", "clip", "partial", "other-op")


def _lab_context(request: Request, state: FilterState, params: QueryParams) -> dict:
    settings = request.app.state.settings
    result = filterlab.compute(
        state, request.app.state.uploads, request.app.state.results, settings.static_dir / "samples"
    )
    explanation = filterlab.explain(state, result)
    upload = request.app.state.uploads.get(state.upload) if state.upload else None
    scales = [map_scale(result.maps[i]) for i in range(len(result.maps))]
    return {
        "state": state,
        "form": form_values(state),
        "result": result,
        "scales": scales,
        "formulas": filterlab.shape_formulas(state, result),
        "explanation": explanation,
        "upload": upload,
        "error": None,
        "custom_preview": custom_preview(state),
    }


def custom_preview(state: FilterState):
    """The editor's numbers as a grid, or None while they do not parse (the error says why)."""
    try:
        kernel = filterlab.parse_kernel_text(state.kernel_text, 3 if state.colour == "rgb" else 1)
    except UserError:
        return None
    kernel = kernel[:1] if (kernel == kernel[:1]).all() else kernel
    return {"kernel": kernel, "top": max(float(np.abs(kernel).max()), 1e-12)}


def form_values(state: FilterState) -> dict:
    return {
        "sample": state.sample or "",
        "upload": state.upload or "",
        "res": str(state.res),
        "colour": state.colour,
        "f": list(state.filters),
        "kernel": state.kernel_text,
        "size": str(state.size),
        "sigma": f"{state.sigma:g}",
        "bias": f"{state.bias:g}",
        "stride": str(state.stride),
        "padding": state.padding,
        "pad": str(state.pad),
        "mode": state.mode,
        "dilation": str(state.dilation),
        "op": state.op,
        "m": str(state.map_index),
        "row": "" if state.row is None else str(state.row),
        "col": "" if state.col is None else str(state.col),
    }


def raw_form_values(params: QueryParams) -> dict:
    """What the user typed, over the defaults: the form comes back as it was, mistakes and all."""
    values = form_values(FilterState())
    for key in values:
        if key == "f":
            if "f" in params:
                values["f"] = params.getlist("f")
        elif key in params:
            values[key] = params.get(key)[: filterlab.MAX_KERNEL_TEXT]
    return values


def _page_context() -> dict:
    return {"samples": SAMPLES, "kernels": KERNELS, "filterlab": filterlab}


def _render(request: Request, context: dict, status: int = 200, headers=None) -> HTMLResponse:
    templates = request.app.state.templates
    return templates.page_or_fragment(
        request,
        "filters/page.html",
        "filters/_lab.html",
        {**_page_context(), **context},
        status_code=status,
        headers=headers,
    )


@router.get("/filters", response_class=HTMLResponse)
def filters_page(request: Request) -> Response:
    params = request.query_params
    try:
        state = filterlab.parse_state(params)
        action = params.get("action")
        if action:
            filterlab.apply_editor_action(state, action, params.get("load"))
            url = f"/filters?{state.query()}"
            if not is_htmx(request):
                return RedirectResponse(url, status_code=303)
            context = _lab_context(request, state, params)
            return _render(request, context, headers={"HX-Push-Url": url})
        context = _lab_context(request, state, params)
        # htmx would push the raw form; the canonical query is shorter and has nothing stale.
        headers = {"HX-Push-Url": f"/filters?{state.query()}"} if is_htmx(request) else None
    except UserError as error:
        if is_htmx(request):
            raise
        gettext = request.app.state.templates.gettext(request)
        context = {
            "state": None,
            "form": raw_form_values(params),
            "result": None,
            "error": error.translated(gettext),
            "upload": None,
        }
        return _render(request, context, status=error.status)
    return _render(request, context, headers=headers)


@router.get("/filters/image.png")
def filters_image(
    request: Request,
    view: Annotated[str, Query()] = "map",
    index: Annotated[int, Query(ge=0, le=filterlab.MAX_BANK - 1)] = 0,
    channel: Annotated[int, Query(ge=0, le=2)] = 0,
) -> Response:
    if view not in IMAGE_VIEWS:
        raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=view[:20])
    state = filterlab.parse_state(request.query_params)
    if view == "other-op":
        # The same settings under the other operation, for the correlation/convolution comparison.
        state.op = "convolve" if state.op == "correlate" else "correlate"
    settings = request.app.state.settings
    result = filterlab.compute(
        state, request.app.state.uploads, request.app.state.results, settings.static_dir / "samples"
    )
    index = min(index, len(result.maps) - 1)
    if view == "input":
        pixels = clipped_grey(result.image.transpose(1, 2, 0))
        pixels = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    elif view in ("map", "other-op"):
        pixels = colour_map(result.maps[index])
    elif view == "clip":
        pixels = clipped_grey(result.maps[index])
    else:
        if result.partials is None:
            raise UserError(N_("Per-channel maps exist only for colour (RGB) images."))
        channel_values = result.partials[index]
        # One scale for the three channels, so their sizes can be compared by eye.
        pixels = diverging_rgb(channel_values[channel], symmetric_limit(channel_values))
    # Same query, same picture: the browser may keep it. Uploads are content-addressed.
    headers = {"Cache-Control": "private, max-age=3600"}
    return Response(png_bytes(pixels), media_type="image/png", headers=headers)


@router.post("/filters/upload", response_class=HTMLResponse)
async def filters_upload(request: Request) -> Response:
    def render(state: FilterState) -> Response:
        return _render(request, _lab_context(request, state, request.query_params))

    return await upload_into_lab(
        request, "/filters", filterlab.parse_state, render, drop=("row", "col", "action")
    )
